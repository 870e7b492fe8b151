"""A follow-up's evidence links are resolved like the report's: at once, and again by the worker
when a wiki did not answer, with the facts following as a note on the desk's ticket."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from reporting.storage import schema
from reporting.storage.database import utcnow
from tests.conftest import login, maildir_messages, make_app
from tests.evidence.mediawiki import MediaWiki

WIKI = "wiki-en.test"


@pytest.fixture(scope="module")
def insult(mediawiki: MediaWiki) -> int:
    return mediawiki.edit("Mallory", "User talk:Alice/Followup",
                          appendtext="\n== Again ==\nStill nobody wants you here. ~~~~\n", summary="again")


def link(revision: int) -> str:
    return f"http://{WIKI}/index.php?diff={revision}"


def report_and_follow_up(app, evidence: list[str]):
    client = app.test_client()
    token = login(client, "Alice")
    response = client.post("/api/v1/reports", json={"wiki": WIKI, "category": "harassment"},
                           headers={"X-CSRF-Token": token})
    ref = response.get_json()["ref"]
    response = client.post(f"/api/v1/reports/{ref}/followups", json={"text": "More of it.", "evidence": evidence},
                           headers={"X-CSRF-Token": token})
    assert response.status_code == 201, response.get_json()
    return client, ref


def body_of(message) -> str:
    return message.get_payload()[0].get_payload(decode=True).decode()


def followups_of(app, ref):
    stores = app.extensions["reporting"].stores
    report = stores.reports.of_reporter(ref, "Alice")
    return stores.followups.of(report.id, ref)


def test_followup_links_are_resolved_before_the_note_goes(tmp_path, mediawiki, insult):
    app = make_app(tmp_path, **{"wikis.extra": {WIKI: mediawiki.api_url}})
    client, ref = report_and_follow_up(app, [link(insult)])
    [followup] = followups_of(app, ref)
    assert followup.evidence_state == "resolved" and followup.evidence_facts[0]["author"] == "Mallory"
    [note] = [m for m in maildir_messages(app) if "followup" in m["Message-ID"]]
    assert "By: Mallory" in body_of(note) and "| Still nobody wants you here." in body_of(note)
    page = client.get(f"/reports/{ref}").get_data(as_text=True)
    assert "Still nobody wants you here." in page


def test_a_silent_wiki_is_asked_again_and_the_facts_follow_the_note(tmp_path, mediawiki, insult):
    down = make_app(tmp_path, **{"wikis.extra": {WIKI: "http://127.0.0.1:1/api.php"},
                                 "wikis.submit_timeout_seconds": 1})
    client, ref = report_and_follow_up(down, [link(insult)])
    [followup] = followups_of(down, ref)
    assert followup.evidence_state == "pending"
    assert [f["reason"] for f in followup.evidence_facts] == ["wiki-unavailable"]
    assert len(maildir_messages(down)) == 2  # the report, and the note with the link as given

    up = make_app(tmp_path, **{"wikis.extra": {WIKI: mediawiki.api_url}, "secret_key": down.config["SECRET_KEY"],
                               "encryption_key": down.extensions["reporting"].config["encryption_key"]})
    components = up.extensions["reporting"]
    with components.stores.engine.begin() as connection:  # the retry is due
        connection.execute(update(schema.followups).values(evidence_next_at=utcnow() - timedelta(seconds=1)))
    assert components.cases.followup_evidence.resolve_pending() == 1
    [followup] = followups_of(up, ref)
    assert followup.evidence_state == "resolved" and followup.evidence_facts[0]["author"] == "Mallory"
    notes = [m for m in maildir_messages(up) if "followup" in m["Message-ID"]]
    assert len(notes) == 2 and any("have now been checked" in body_of(m) and "Mallory" in body_of(m) for m in notes)
    assert components.cases.followup_evidence.resolve_pending() == 0
