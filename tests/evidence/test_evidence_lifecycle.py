"""What happens to evidence after submit: facts sealed with the report and
shown to the desk and the reporter; a wiki that does not answer loses
nothing and is asked again by the worker; emergencies do not wait for wikis;
retention wipes the content of old delivered reports."""
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from reporting.storage import schema

from reporting.storage.database import utcnow
from tests.evidence.mediawiki import MediaWiki

from tests.conftest import login, maildir_messages, make_app

WIKI = "wiki-en.test"


@pytest.fixture(scope="module")
def insult(mediawiki: MediaWiki) -> int:
    return mediawiki.edit("Mallory", "User talk:Alice/Lifecycle",
                          appendtext="\n== Hey ==\nNobody wants you here. ~~~~\n", summary="hey")


def link_to(wiki: MediaWiki, revision: int) -> str:
    """A link under the wiki's registered name (no port: the registry supplies the API URL)."""
    return f"http://{WIKI}/index.php?diff={revision}"


def submit(app, evidence, category="harassment", wiki=WIKI):
    client = app.test_client()
    token = login(client, "Alice")
    response = client.post("/api/v1/reports", json={"wiki": wiki, "category": category, "evidence": evidence},
                           headers={"X-CSRF-Token": token})
    assert response.status_code == 201, response.get_json()
    return client, response.get_json()["ref"]


def stored(app, client, ref):
    with app.app_context():
        return app.extensions["reporting"].stores.reports.of_reporter(ref, "Alice")


def test_facts_are_sealed_with_the_report_and_reach_desk_and_reporter(tmp_path, mediawiki, insult):
    app = make_app(tmp_path, **{"wikis.extra": {WIKI: mediawiki.api_url}})
    client, ref = submit(app, [link_to(mediawiki, insult)])
    report = stored(app, client, ref)
    assert report.evidence_state == "resolved"
    [fact] = report.evidence_facts
    assert fact["author"] == "Mallory" and "Nobody wants you here" in fact["analysis"]["added_text"]
    [message] = maildir_messages(app)
    body = message.get_payload()[0].get_payload(decode=True).decode()
    assert "Evidence as the wikis describe it:" in body and "By: Mallory" in body
    assert "| Nobody wants you here." in body
    page = client.get(f"/reports/{ref}").get_data(as_text=True)
    assert "Mallory" in page and "Nobody wants you here." in page
    with app.app_context():
        engine = app.extensions["reporting"].stores.engine
    with engine.connect() as connection:
        dump = repr(connection.execute(select(schema.reports)).all())
    assert "Nobody wants you here" not in dump and "Mallory" not in dump


def test_a_wiki_that_does_not_answer_loses_nothing_and_is_asked_again(tmp_path, mediawiki, insult):
    down = make_app(tmp_path, **{"wikis.extra": {WIKI: "http://127.0.0.1:1/api.php"},
                                 "wikis.submit_timeout_seconds": 1})
    client, ref = submit(down, [link_to(mediawiki, insult)])
    report = stored(down, client, ref)
    assert report.evidence_state == "pending" and report.status == "forwarded"
    assert report.evidence == (link_to(mediawiki, insult),)
    assert [f["reason"] for f in report.evidence_facts] == ["wiki-unavailable"]
    assert "could not be checked yet" in client.get(f"/reports/{ref}").get_data(as_text=True)

    # The wiki is back (same database and keys, now pointing at the running wiki).
    up = make_app(tmp_path, **{"wikis.extra": {WIKI: mediawiki.api_url},
                               "secret_key": down.config["SECRET_KEY"],
                               "encryption_key": down.extensions["reporting"].config["encryption_key"]})
    services = up.extensions["reporting"]
    with services.stores.engine.begin() as connection:  # the retry is due
        connection.execute(update(schema.reports).values(evidence_next_at=utcnow() - timedelta(seconds=1)))
    assert services.report_evidence.resolve_pending() == 1
    report = services.stores.reports.by_id(report.id)
    assert report.evidence_state == "resolved" and report.evidence_facts[0]["author"] == "Mallory"
    # The desk had the ticket already: the facts arrived as a follow-up message.
    messages = maildir_messages(up)
    assert len(messages) == 2
    followup = [m for m in messages if "followup" in m["Message-ID"]][0].get_payload()[0].get_payload(decode=True)
    assert b"have now been checked" in followup and b"Mallory" in followup
    assert services.report_evidence.resolve_pending() == 0


def test_an_emergency_reaches_the_desk_before_any_wiki_is_asked(tmp_path, mediawiki, insult):
    app = make_app(tmp_path, **{"wikis.extra": {WIKI: mediawiki.api_url}})
    client, ref = submit(app, [link_to(mediawiki, insult)], category="threat-of-violence")
    messages = maildir_messages(app)
    first = [m for m in messages if "followup" not in m["Message-ID"]][0]
    body = first.get_payload()[0].get_payload(decode=True).decode()
    assert "the facts will follow as a note" in body
    assert any("followup" in m["Message-ID"] for m in messages)
    assert stored(app, client, ref).evidence_state == "resolved"


def test_retention_wipes_old_delivered_reports_only(tmp_path):
    app = make_app(tmp_path, **{"retention_days": 30, "delivery.synchronous": False})
    client, pending_ref = submit(app, [], wiki="en.wikipedia.org")
    services = app.extensions["reporting"]
    sync = make_app(tmp_path, **{"retention_days": 30, "secret_key": app.config["SECRET_KEY"],
                                 "encryption_key": services.config["encryption_key"]})
    _, old_ref = submit(sync, [], wiki="en.wikipedia.org")
    with services.stores.engine.begin() as connection:
        connection.execute(update(schema.reports).values(updated_at=utcnow() - timedelta(days=31)))
    assert services.purge_expired() == 1  # the undelivered one is kept
    old = stored(app, client, old_ref)
    assert old.purged and old.description == "" and old.evidence == () and old.status == "forwarded"
    assert not stored(app, client, pending_ref).purged
    page = client.get(f"/reports/{old_ref}").get_data(as_text=True)
    assert "deleted after the retention period" in page
    assert services.purge_expired() == 0


def test_no_note_reaches_the_desk_while_the_wiki_is_still_silent(tmp_path, mediawiki, insult):
    app = make_app(tmp_path, **{"wikis.extra": {WIKI: "http://127.0.0.1:1/api.php"},
                                "wikis.submit_timeout_seconds": 1})
    client, ref = submit(app, [link_to(mediawiki, insult)], category="threat-of-violence")
    assert stored(app, client, ref).evidence_state == "pending"
    assert [m["Message-ID"] for m in maildir_messages(app)] == [f"<report-{ref}@incident-reporting.toolforge.org>"]
