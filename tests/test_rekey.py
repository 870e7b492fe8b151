"""Issue 15 (12): removing an old key used to un-bar barred users silently and hide old reports.

``reporting rekey`` moves everything to the current key; the tool refuses to
start while the database may hold rows under a key it does not have.
"""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from reporting.config import ConfigError
from reporting.intake.eligibility import bar
from reporting.storage import schema
from reporting.storage.crypto import Sealer, generate_key
from reporting.storage.database import utcnow
from tests.conftest import login, make_app

REPORT = {"wiki": "en.wikipedia.org", "category": "harassment", "reported_users": ["Troll"],
          "evidence": [], "description": "Insults on my talk page, again."}


def app_with(tmp_path, database_url, key: str, old: list[str] | None = None):
    return make_app(tmp_path, database_url, encryption_key=key, encryption_old_keys=old or [])


def submit(app, username: str, body: dict = REPORT):
    client = app.test_client()
    token = login(client, username)
    return client, token, client.post("/api/v1/reports", json=body, headers={"X-CSRF-Token": token})


def rekey(app, *arguments: str):
    return app.test_cli_runner().invoke(args=["reporting", "rekey", *arguments])


def rows(app, table):
    with app.extensions["reporting"].stores.engine.connect() as connection:
        return connection.execute(select(table)).all()


def fill_under_old_key(app) -> dict[str, str]:
    """Reports (one purged, one with a follow-up), bars (one from before names were sealed)."""
    stores = app.extensions["reporting"].stores
    client, token, first = submit(app, "Alice")
    ref = first.get_json()["ref"]
    followup = client.post(f"/api/v1/reports/{ref}/followups", json={"text": "He did it again.", "evidence": []},
                           headers={"X-CSRF-Token": token})
    assert followup.status_code == 201
    _, _, second = submit(app, "Alice", {**REPORT, "description": "An older case, purged later."})
    purged_ref = second.get_json()["ref"]
    with stores.engine.begin() as connection:  # only this one is past retention
        connection.execute(schema.reports.update().where(schema.reports.c.ref == purged_ref)
                           .values(updated_at=utcnow() - timedelta(days=400)))
    assert stores.reports.purge_expired(cutoff=utcnow() - timedelta(days=300)) == 1
    # Purged as before migration 14, which wiped the reporter's name too: rekey finds it elsewhere.
    sealer = stores.reports.sealer
    legacy = {"reported_users": [], "evidence": [], "description": "", "evidence_facts": [],
              "reporter": {"username": ""}}
    with stores.engine.begin() as connection:
        connection.execute(schema.reports.update().where(schema.reports.c.ref == purged_ref)
                           .values(sealed=sealer.seal(legacy, purged_ref)))
    submit(app, "Legacy Spammer")
    bar(stores.bar_list, "Mallory", "abusive-reports")
    # A bar written before migration 14: a hash only, no sealed name.
    with stores.engine.begin() as connection:
        connection.execute(schema.barred_users.insert().values(
            username_hash=stores.reports.sealer.index_hash("Legacy Spammer"), created_at=utcnow(), reason="spam"))
    return {"ref": ref, "purged": purged_ref}


def test_rotate_rekey_and_remove_the_old_key(tmp_path, database_url):
    old_key, new_key = generate_key(), generate_key()
    first = app_with(tmp_path, database_url, old_key)
    refs = fill_under_old_key(first)
    first.extensions["reporting"].stores.engine.dispose()

    rotated = app_with(tmp_path, database_url, new_key, [old_key])
    result = rekey(rotated)
    assert result.exit_code == 0, result.output
    old_id, new_id = Sealer(old_key).primary_key_id, Sealer(new_key).primary_key_id
    assert f"keys no longer needed: {old_id}" in result.output and "reports: done" in result.output
    rotated.extensions["reporting"].stores.engine.dispose()

    app = app_with(tmp_path, database_url, new_key)  # the old key is gone: it starts
    new_only = Sealer(new_key)
    for table in (schema.reports, schema.followups):
        assert {Sealer.sealed_key_id(row.sealed) for row in rows(app, table)} == {new_id}
    assert {Sealer.sealed_key_id(row.sealed) for row in rows(app, schema.case_events) if row.sealed} <= {new_id}
    bars = {row.username_hash for row in rows(app, schema.barred_users)}
    assert bars == {new_only.index_hash("Mallory"), new_only.index_hash("Legacy Spammer")}

    # The barred stay barred.
    for name in ("Mallory", "Legacy Spammer"):
        assert submit(app, name)[2].status_code == 403
    # The reporter still finds and reads their reports, the purged one too.
    client = app.test_client()
    login(client, "Alice")
    listed = {report["ref"] for report in client.get("/api/v1/reports").get_json()["reports"]}
    assert {refs["ref"], refs["purged"]} <= listed
    report = client.get(f"/api/v1/reports/{refs['ref']}").get_json()
    assert report["description"] == REPORT["description"]
    assert [followup["text"] for followup in report["followups"]] == ["He did it again."]
    assert client.get(f"/api/v1/reports/{refs['purged']}").status_code == 200
    assert rekey(app).exit_code == 0  # running it again is harmless


def test_removing_the_old_key_without_rekey_refuses_to_start(tmp_path, database_url):
    old_key, new_key = generate_key(), generate_key()
    fill_under_old_key(app_with(tmp_path, database_url, old_key))
    app_with(tmp_path, database_url, new_key, [old_key])  # rotated: both on record
    with pytest.raises(ConfigError) as refused:
        app_with(tmp_path, database_url, new_key)
    message = str(refused.value)
    assert "encryption_old_keys (TOOL_ENCRYPTION_OLD_KEYS)" in message and "rekey" in message
    assert Sealer(old_key).primary_key_id in message
    # Dropping the current key altogether (a new key, no old one) is refused the same way.
    with pytest.raises(ConfigError, match="TOOL_ENCRYPTION_OLD_KEYS"):
        app_with(tmp_path, database_url, generate_key())


def test_an_interrupted_rekey_resumes_after_its_last_batch(tmp_path, database_url):
    old_key, new_key = generate_key(), generate_key()
    first = app_with(tmp_path, database_url, old_key)
    for index in range(5):
        submit(first, f"Reporter {index}")
    app = app_with(tmp_path, database_url, new_key, [old_key])
    stores = app.extensions["reporting"].stores
    job = stores.rekey()
    job.batch = 2

    def stop_after_the_first_batch(step):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        job.run(stop_after_the_first_batch)
    new_id = Sealer(new_key).primary_key_id
    assert sorted(Sealer.sealed_key_id(row.sealed) == new_id for row in rows(app, schema.reports)) == \
        [False] * 3 + [True] * 2
    [progress] = rows(app, schema.rekey_progress)
    assert progress.step == "reports" and progress.key_id == new_id

    again = stores.rekey()
    again.batch = 2
    seen = []
    result = again.run(lambda step: seen.append((step.name, step.done)))
    reports = next(step for step in result.steps if step.name == "reports")
    assert reports.done == 3 and reports.total == 5  # it resumed: the first two were not read again
    assert result.unmatched == 0 and result.retired == [Sealer(old_key).primary_key_id]
    assert {Sealer.sealed_key_id(row.sealed) for row in rows(app, schema.reports)} == {new_id}
    assert rows(app, schema.rekey_progress) == []
    app_with(tmp_path, database_url, new_key)  # starts without the old key


def test_a_bar_whose_name_is_nowhere_keeps_the_old_key_until_forgotten_on_purpose(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'reports.sqlite3'}"
    old_key, new_key = generate_key(), generate_key()
    first = app_with(tmp_path, database_url, old_key)
    with first.extensions["reporting"].stores.engine.begin() as connection:
        connection.execute(schema.barred_users.insert().values(
            username_hash=Sealer(old_key).index_hash("Nobody Knows"), created_at=utcnow(), reason="spam"))
    app = app_with(tmp_path, database_url, new_key, [old_key])
    result = rekey(app)
    assert result.exit_code == 1 and "--forget-unmatched" in result.output
    with pytest.raises(ConfigError):
        app_with(tmp_path, database_url, new_key)
    result = rekey(app, "--forget-unmatched")
    assert result.exit_code == 0, result.output
    assert rows(app, schema.barred_users) == []
    app_with(tmp_path, database_url, new_key)


def test_a_legacy_bar_gets_its_sealed_name_when_the_barred_user_comes_back(tmp_path):
    app = make_app(tmp_path)
    stores = app.extensions["reporting"].stores
    with stores.engine.begin() as connection:
        connection.execute(schema.barred_users.insert().values(
            username_hash=stores.reports.sealer.index_hash("Mallory"), created_at=utcnow(), reason="spam"))
    assert submit(app, "Mallory")[2].status_code == 403
    [row] = rows(app, schema.barred_users)
    assert stores.reports.sealer.open(row.name_sealed, "barred-user") == "Mallory"


def test_the_start_up_check_costs_one_small_read(tmp_path):
    app = make_app(tmp_path)
    stores = app.extensions["reporting"].stores
    sealer = stores.reports.sealer
    started = time.perf_counter()
    for _ in range(100):
        assert stores.key_inventory.recorded() == [sealer.primary_key_id]
    per_check = (time.perf_counter() - started) / 100
    assert per_check < 0.05, f"{per_check * 1000:.2f} ms per start-up check"  # 3 ms here; no table is scanned


def suspend_by_declines(app, username: str) -> list[str]:
    """Five of ``username``'s reports declined as manifestly unfounded in the workspace, and the
    visit that records the suspension."""
    client, token, _ = submit(app, username)
    refs = [submit(app, username)[2].get_json()["ref"] for _ in range(5)]
    staff = app.test_client()
    staff_token = login(staff, "Tess", "staff")
    for ref in refs:
        response = staff.patch(f"/api/v1/queue/{ref}", json={"status": "declined", "reason": "No policy broken.",
                                                              "unfounded": True},
                               headers={"X-CSRF-Token": staff_token})
        assert response.status_code == 200, response.get_json()
    assert 'id="misuse-suspended"' in client.get("/reports").get_data(as_text=True)
    return refs


def test_a_suspended_reporter_stays_suspended_and_old_drafts_go(tmp_path, database_url):
    old_key, new_key = generate_key(), generate_key()
    first = make_app(tmp_path, database_url, encryption_key=old_key, **{"rate_limit.per_day": 100})
    refs = suspend_by_declines(first, "Alice")
    stores = first.extensions["reporting"].stores
    stores.form_drafts.keep({"description": "Half written."}, "Bob")
    [suspension] = rows(first, schema.misuse_suspensions)
    assert suspension.reporter_hash == Sealer(old_key).index_hash("Alice")
    stores.engine.dispose()

    rotated = make_app(tmp_path, database_url, encryption_key=new_key, encryption_old_keys=[old_key])
    fresh_token = rotated.extensions["reporting"].stores.form_drafts.keep({"description": "New."}, "Carol")
    result = rekey(rotated)
    assert result.exit_code == 0, result.output
    assert "misuse_suspensions: done (1 changed" in result.output and "form_drafts: done (1 changed" in result.output
    rotated.extensions["reporting"].stores.engine.dispose()

    app = make_app(tmp_path, database_url, encryption_key=new_key, **{"rate_limit.per_day": 100})
    [suspension] = rows(app, schema.misuse_suspensions)
    assert suspension.reporter_hash == Sealer(new_key).index_hash("Alice")
    assert suspension.report_id is not None and suspension.lifted_at is None
    # Still suspended from non-emergency reporting; emergencies still open; others unaffected.
    _, _, refused = submit(app, "Alice")
    assert refused.status_code == 403 and refused.get_json()["errors"][0]["code"] == "suspended"
    assert submit(app, "Alice", {**REPORT, "category": "threat-of-violence"})[2].status_code == 201
    assert submit(app, "Bob")[2].status_code == 201
    # Trust & Safety still find it by the case that started it.
    staff = app.test_client()
    login(staff, "Tess", "staff")
    assert refs[-1] in staff.get("/queue/suspensions").get_data(as_text=True)
    # The draft under the old key is gone (its token's hash cannot be made again); the new one stays.
    [draft] = rows(app, schema.form_drafts)
    assert Sealer.sealed_key_id(draft.body) == Sealer(new_key).primary_key_id
    assert app.extensions["reporting"].stores.form_drafts.take(fresh_token, "Carol") == {"description": "New."}


def test_a_suspension_whose_reporter_is_nowhere_keeps_the_old_key_until_forgotten(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'reports.sqlite3'}"
    old_key, new_key = generate_key(), generate_key()
    first = app_with(tmp_path, database_url, old_key)
    now = utcnow()
    with first.extensions["reporting"].stores.engine.begin() as connection:
        connection.execute(schema.misuse_suspensions.insert().values(
            reporter_hash=Sealer(old_key).index_hash("Nobody Knows"), report_id=None, trigger_audit_id=1,
            started_at=now, ends_at=now + timedelta(days=30), counted_until=now))
    app = app_with(tmp_path, database_url, new_key, [old_key])
    result = rekey(app)
    assert result.exit_code == 1 and "misuse_suspensions: done (0 changed, 1 left" in result.output
    with pytest.raises(ConfigError):
        app_with(tmp_path, database_url, new_key)
    assert rekey(app, "--forget-unmatched").exit_code == 0
    assert rows(app, schema.misuse_suspensions) == []
    app_with(tmp_path, database_url, new_key)
