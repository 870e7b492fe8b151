"""Sending the same report twice stores it once: ``Idempotency-Key`` on the API, a one-time id on the form.

On SQLite and MariaDB: the key row is written in the report's transaction,
so racing duplicates are decided by its primary key.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from reporting.intake.references import new_reference
from reporting.intake.submission import Reporter
from reporting.intake.submit import AlreadySubmitted, SubmissionKey
from reporting.storage import Stores, schema
from reporting.storage.crypto import Sealer, generate_key
from reporting.storage.database import utcnow
from reporting.storage.submission_keys import KEEP, SubmissionKeys
from tests.conftest import csrf_from, login, make_app
from tests.delivery.outbox_helpers import submission
from tests.test_exact_limits import send_in_parallel

REPORT = {"wiki": "en.wikipedia.org", "category": "harassment", "reported_users": ["Troll"],
          "evidence": [], "description": "They keep insulting me. Zq9Typed"}
FORM = {"wiki": "en.wikipedia.org", "category": "hounding", "reported_users": "Follower", "evidence": "",
        "description": "Someone follows me to every article I edit."}
SUBMISSION_ID = re.compile(r'name="submission_id" value="([^"]+)"')


def post(client, token, body=REPORT, key: str | None = "key-1"):
    headers = {"X-CSRF-Token": token, **({"Idempotency-Key": key} if key is not None else {})}
    return client.post("/api/v1/reports", json=body, headers=headers)


def count(app, table=schema.reports) -> int:
    with app.extensions["reporting"].stores.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar()


@pytest.fixture
def app(tmp_path, database_url):
    return make_app(tmp_path, database_url, **{"delivery.synchronous": False})


@pytest.fixture
def alice(app):
    client = app.test_client()
    return client, login(client, "Alice")


def test_the_same_key_and_body_answer_with_the_first_report(app, alice):
    client, token = alice
    first = post(client, token)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    again = post(client, token, {**REPORT, "reported_users": ["Troll"]})  # the same JSON, keys in another order
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json() and again.headers["Location"] == first.headers["Location"]
    assert count(app) == 1 and count(app, schema.submission_keys) == 1


def test_the_same_key_with_another_body_is_refused(app, alice):
    client, token = alice
    first = post(client, token)
    changed = post(client, token, {**REPORT, "description": "Something else entirely."})
    assert changed.status_code == 422
    [error] = changed.get_json()["errors"]
    assert error["code"] == "idempotency-key-reused" and "Idempotency-Key" in error["message"]
    assert count(app) == 1
    assert post(client, token).get_json()["ref"] == first.get_json()["ref"]  # the key still names the first


def test_keys_belong_to_their_reporter_and_reports_without_a_key_are_not_deduplicated(app, alice):
    client, token = alice
    bob = app.test_client()
    bob_token = login(bob, "Bob")
    alice_ref = post(client, token).get_json()["ref"]
    bob_ref = post(bob, bob_token).get_json()["ref"]
    assert alice_ref != bob_ref
    assert post(client, token, key=None).status_code == 201 and post(client, token, key=None).status_code == 201
    assert count(app) == 4


@pytest.mark.parametrize("key", ["", "   ", "with space", "x" * 256, "ключ", "tab\there"])
def test_malformed_keys_are_refused(app, alice, key):
    client, token = alice
    response = post(client, token, key=key)
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["code"] == "idempotency-key-invalid"
    assert count(app) == 0


def test_a_repeat_is_answered_even_when_the_first_report_used_up_the_day(tmp_path, database_url):
    app = make_app(tmp_path, database_url, **{"rate_limit.per_day": 1, "delivery.synchronous": False})
    client = app.test_client()
    token = login(client, "Alice")
    first = post(client, token, key="only-one")
    assert post(client, token, key="only-one").get_json()["ref"] == first.get_json()["ref"]
    assert post(client, token, key="another").status_code == 429


def test_racing_duplicates_store_one_report(app):
    """Eight clients send the same key at once: one report, every answer names it."""
    answers = send_in_parallel(app, [REPORT] * 8, ["raced"] * 8)
    assert all(answer.status_code == 201 for answer in answers)
    assert len({answer.get_json()["ref"] for answer in answers}) == 1
    assert count(app) == 1 and count(app, schema.submission_keys) == 1


def test_the_primary_key_decides_a_race_that_passed_the_lookup(app):
    """Two requests that both found no earlier report: the second transaction stores nothing."""
    intake = app.extensions["reporting"].intake
    key = SubmissionKey.for_api("raced", REPORT)
    ref = intake.submit(submission(), Reporter("Alice"), "en", key=key)
    with pytest.raises(AlreadySubmitted) as race:
        intake.submit(submission(), Reporter("Alice"), "en", key=key)
    assert race.value.earlier.ref == ref and race.value.earlier.same_body
    assert count(app) == 1 and count(app, schema.outbox) == 1
    with app.extensions["reporting"].stores.engine.connect() as connection:
        actions = list(connection.execute(select(schema.audit_log.c.action)).scalars())
    assert actions.count("submitted") == 1


def test_the_form_sent_twice_gives_one_receipt_and_an_edit_after_an_error_is_a_new_report(app, alice):
    client, token = alice
    page = client.get("/report").get_data(as_text=True)
    submission_id = SUBMISSION_ID.search(page).group(1)
    assert submission_id != SUBMISSION_ID.search(client.get("/report").get_data(as_text=True)).group(1)
    data = {**FORM, "submission_id": submission_id, "csrf_token": csrf_from(page), "action": "send"}
    first = client.post("/report", data=data)
    second = client.post("/report", data=data)  # a double click
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert count(app) == 1
    # After an error the reporter edits a field and sends the same form (same id) again:
    # the edit is a report of its own, and sending it twice is still one.
    edited = {**data, "description": FORM["description"] + " And on my talk page."}
    third = client.post("/report", data=edited)
    fourth = client.post("/report", data=edited)
    assert third.headers["Location"] != first.headers["Location"]
    assert fourth.headers["Location"] == third.headers["Location"]
    assert count(app) == 2
    # Re-shown forms keep their id; a form without one gets a fresh id and still works.
    refused = client.post("/report", data={**data, "category": ""})
    assert refused.status_code == 422
    assert SUBMISSION_ID.search(refused.get_data(as_text=True)).group(1) == submission_id
    no_id = client.post("/report", data={**{k: v for k, v in data.items() if k != "submission_id"},
                                          "description": "A third report, from an old page."})
    assert no_id.status_code == 303 and count(app) == 3


def test_key_rows_hold_only_keyed_hashes_and_are_purged_after_a_day(app, alice):
    client, token = alice
    post(client, token, key="my-visible-key")
    services = app.extensions["reporting"]
    with services.stores.engine.connect() as connection:
        [row] = connection.execute(select(schema.submission_keys)).all()
    stored = " ".join(str(value) for value in row)
    assert "my-visible-key" not in stored and "Zq9Typed" not in stored and "Alice" not in stored
    assert all(len(getattr(row, name)) == 64 for name in ("reporter_hash", "key_hash", "body_hash"))

    keys: SubmissionKeys = services.stores.submission_keys
    old = services.intake.submit(submission(), Reporter("Alice"), "en",
                                 key=SubmissionKey.for_api("old", REPORT))
    with services.stores.engine.begin() as connection:
        connection.execute(schema.submission_keys.update()
                           .where(schema.submission_keys.c.created_at < utcnow() + timedelta(seconds=1))
                           .values(created_at=utcnow() - KEEP + timedelta(minutes=5)))
    assert keys.purge() == 0, "keys are kept at least 24 hours"
    assert keys.find("Alice", "api:old", REPORT).ref == old
    with services.stores.engine.begin() as connection:
        connection.execute(schema.submission_keys.update().values(created_at=utcnow() - KEEP - timedelta(minutes=1)))
    services.maintain()  # the worker's housekeeping purges them
    assert count(app, schema.submission_keys) == 0 and count(app) == 2  # the reports stay


def test_a_key_is_found_after_the_encryption_key_is_rotated(database_url):
    old_key, new_key = generate_key(), generate_key()
    before = Stores.open(database_url, Sealer(old_key))
    before.migrate()
    sealed = before.submission_keys.seal("Alice", "api:k", REPORT)
    before.reports.create(new_reference(), submission(), Reporter("Alice"), "en", "maildir:x", key=sealed)
    after = Stores.open(database_url, Sealer(new_key, [old_key]))
    found = after.submission_keys.find("Alice", "api:k", REPORT)
    assert found is not None and found.same_body
    assert not after.submission_keys.find("Alice", "api:k", {**REPORT, "description": "other"}).same_body
    assert after.submission_keys.find("Bob", "api:k", REPORT) is None
    before.engine.dispose()
    after.engine.dispose()
