"""Users barred by Trust & Safety: a kind refusal, a hash-only list, CLI commands."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import inspect, select

from reporting.intake.eligibility import BARRED, barred_refusal
from reporting.storage import schema
from reporting.storage.crypto import Sealer, generate_key
from reporting.storage.migrations import MIGRATIONS, migrate
from reporting.storage import Stores

from .conftest import csrf_from, login, make_app

REPORT = {"wiki": "en.wikipedia.org", "category": "harassment", "description": "Insults"}
KIND_TEXT = "This is not a block on any wiki"


def cli(app, *args):
    return app.test_cli_runner().invoke(args=["reporting", *args])


def test_bar_unbar_and_count_from_the_command_line(app):
    assert cli(app, "barred").output == "0 barred\n"
    result = cli(app, "bar", "alice_example", "--reason", "spam")
    assert result.exit_code == 0 and result.output == "barred\n"
    assert cli(app, "bar", "Alice example").output == "already barred\n"
    assert cli(app, "barred").output == "1 barred\n"
    store = app.extensions["reporting"].stores
    with store.engine.connect() as connection:
        rows = connection.execute(select(schema.barred_users)).all()
    assert [(row.username_hash, row.reason) for row in rows] == \
        [(store.reports.sealer.index_hash("Alice example"), "spam")]
    assert "alice" not in repr(rows).lower()  # only the keyed hash is stored
    assert cli(app, "unbar", "Alice_example").output == "no longer barred\n"
    result = cli(app, "unbar", "Alice example")
    assert result.exit_code != 0 and "was not barred" in result.output
    assert cli(app, "barred").output == "0 barred\n"


def test_unknown_reason_code_is_refused(app):
    result = cli(app, "bar", "Mallory", "--reason", "free text about Mallory")
    assert result.exit_code != 0
    assert cli(app, "barred").output == "0 barred\n"


def test_a_barred_user_gets_the_kind_message_and_cannot_submit(app):
    client = app.test_client()
    token = login(client, "Mallory")
    form_token = csrf_from(client.get("/report").get_data(as_text=True))
    cli(app, "bar", "Mallory")

    # The form opens (no query on GET: the bar is checked when it matters, on sending).
    assert client.get("/report").status_code == 200
    posted = client.post("/report", data={"csrf_token": form_token, **REPORT})
    assert posted.status_code == 403 and KIND_TEXT in posted.get_data(as_text=True)
    for body in (REPORT, {**REPORT, "category": "threat-of-violence"}):
        response = client.post("/api/v1/reports", json=body, headers={"X-CSRF-Token": token})
        assert response.status_code == 403
        [error] = response.get_json()["errors"]
        assert error["code"] == "barred" and KIND_TEXT in error["message"]
        assert "emergency@wikimedia.org" in error["message"]
    assert client.get("/api/v1/reports").get_json() == {"reports": []}
    # Others are unaffected; an unbarred user can report again.
    other = app.test_client()
    assert other.post("/api/v1/reports", json=REPORT,
                      headers={"X-CSRF-Token": login(other, "Alice")}).status_code == 201
    cli(app, "unbar", "Mallory")
    assert client.post("/api/v1/reports", json=REPORT, headers={"X-CSRF-Token": token}).status_code == 201


def test_the_bar_survives_an_encryption_key_rotation(tmp_path):
    old_key = generate_key()
    first = make_app(tmp_path, encryption_key=old_key)
    cli(first, "bar", "Mallory")
    rotated = make_app(tmp_path, encryption_key=generate_key(), encryption_old_keys=old_key)
    client = rotated.test_client()
    login(client, "Mallory")
    token = csrf_from(client.get("/report").get_data(as_text=True))
    assert client.post("/report", data={"csrf_token": token, **REPORT}).status_code == 403
    assert cli(rotated, "unbar", "Mallory").output == "no longer barred\n"
    assert client.post("/report", data={"csrf_token": token, **REPORT}).status_code == 303


def test_migration_2_adds_the_bar_list_to_a_version_1_database(database_url):
    store = Stores.open(database_url, Sealer(generate_key()))
    try:
        with store.engine.begin() as connection:
            for table in schema.metadata.sorted_tables:
                if table is not schema.barred_users:
                    table.create(connection)
            connection.execute(schema.schema_version.insert().values(version=1, applied_at=datetime(2025, 1, 1)))
        assert not inspect(store.engine).has_table("barred_users")
        assert migrate(store.engine) == MIGRATIONS[-1][0]
        assert inspect(store.engine).has_table("barred_users")
        assert store.bar_list.bar("Mallory", "spam") and store.bar_list.is_barred("Mallory")
        assert not store.bar_list.is_barred("Alice") and store.bar_list.count() == 1
    finally:
        store.engine.dispose()


@pytest.mark.parametrize("username", ["Mallory", "mallory", "Mallory_", " Mallory "])
def test_bar_list_matches_any_spelling_mediawiki_treats_as_the_same_user(app, username):
    cli(app, "bar", username)
    assert cli(app, "unbar", "Mallory").output == "no longer barred\n"


def test_rows_barred_under_the_old_spelling_rule_are_still_found(app):
    # Before usernames.canonical_username the bar list kept IPv6 letters and bidi marks as typed;
    # its hashes cannot be recomputed, so look-ups also try the old spelling.
    bar_list = app.extensions["reporting"].stores.bar_list
    for old_spelling in ("2001:db8::1", "Foo\u200ebar"):
        bar_list.bar(old_spelling, "spam")
        assert barred_refusal(bar_list, old_spelling) is BARRED
        assert cli(app, "bar", old_spelling).output == "already barred\n"
        assert cli(app, "unbar", old_spelling).output == "no longer barred\n"
        assert barred_refusal(bar_list, old_spelling) is None
    assert cli(app, "barred").output == "0 barred\n"
