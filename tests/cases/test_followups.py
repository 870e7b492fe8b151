"""Follow-ups and withdrawal, as the reporter does them (HTML and API) and as the desk gets them."""
from __future__ import annotations

import email
import json
import re
from datetime import timedelta
from email import policy

import pytest
from sqlalchemy import func, select

from reporting.delivery.worker import Worker
from reporting.storage import schema
from reporting.storage.database import utcnow
from tests.cases.helpers import (
    ZNUNY_PASSWORD,
    ZNUNY_QUEUE,
    ZNUNY_USER,
    Reporter,
    app_for,
    status_chip,
    zendesk_settings,
    znuny_settings,
)
from tests.conftest import csrf_from, maildir_messages, make_app
from tests.fakes.http_server import free_port
from tests.fakes.zendesk import standard_desk
from tests.fakes.znuny import FakeZnuny


@pytest.fixture
def desk():
    with standard_desk() as fake:
        yield fake


@pytest.fixture
def app(tmp_path, desk):
    return app_for(tmp_path, zendesk_settings(desk))


def ticket_of(desk, ref: str) -> int:
    [ticket_id] = [ticket_id for ticket_id, ticket in desk.tickets.items() if ticket["external_id"] == ref]
    return ticket_id


def counts(app) -> tuple[int, int, int]:
    """Follow-ups, outbox rows and timeline entries stored, in that order."""
    with app.extensions["reporting"].stores.engine.connect() as connection:
        return tuple(connection.execute(select(func.count()).select_from(table)).scalar()
                     for table in (schema.followups, schema.outbox, schema.case_events))


def deliver_due_in(app, minutes: float) -> int:
    """The worker, ``minutes`` from now (backoffs and waits are over by then); returns deliveries."""
    components = app.extensions["reporting"]
    worker = Worker(components.stores.outbox, components.delivery.connectors.connector_for,
                    clock=lambda: utcnow() + timedelta(minutes=minutes))
    return worker.run_once()


def test_a_followup_reaches_the_zendesk_ticket_as_a_private_comment(app, desk):
    alice = Reporter(app)
    ref = alice.report()
    response = alice.post(f"/api/v1/reports/{ref}/followups",
                          {"text": "Er schreibt mir jetzt auch per E-Mail.", "evidence": ["https://en.wikipedia.org/wiki/User_talk:Alice"]})
    assert response.status_code == 201
    body = response.get_json()["followup"]
    assert body["text"] == "Er schreibt mir jetzt auch per E-Mail."
    assert body["evidence"] == ["https://en.wikipedia.org/wiki/User_talk:Alice"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", body["at"])
    comment = desk.comments_of(ticket_of(desk, ref))[-1]
    assert comment["public"] is False
    assert f"The reporter added information to report {ref}." in comment["body"]
    assert "Er schreibt mir jetzt auch per E-Mail." in comment["body"]
    assert "https://en.wikipedia.org/wiki/User_talk:Alice" in comment["body"]
    case = alice.case(ref)
    assert case["followups"] == [body]
    assert case["timeline"][-1] == {"at": body["at"], "status": "forwarded", "source": "reporter",
                                    "message": "Er schreibt mir jetzt auch per E-Mail."}


@pytest.mark.parametrize("lose", ["PUT", "GET"], ids=["put-answer-lost", "lookup-answer-lost"])
def test_a_followup_whose_answer_was_lost_is_added_once(app, desk, lose):
    alice = Reporter(app)
    ref = alice.report()
    ticket = ticket_of(desk, ref)
    desk.lose_response(method=lose, path_prefix=f"/api/v2/tickets/{ticket}")
    assert alice.post(f"/api/v1/reports/{ref}/followups", {"text": "One more thing."}).status_code == 201
    assert deliver_due_in(app, 30) == 1  # the retry looks for the note's marker before it adds anything
    notes = [c for c in desk.comments_of(ticket) if "One more thing." in c["body"]]
    assert len(notes) == 1
    assert deliver_due_in(app, 60) == 0


def test_withdrawal_reaches_the_desk_once_with_a_tag_and_ends_the_case(app, desk):
    alice = Reporter(app)
    ref = alice.report()
    ticket = ticket_of(desk, ref)
    desk.lose_response(method="PUT", path_prefix=f"/api/v2/tickets/{ticket}")
    response = alice.post(f"/api/v1/reports/{ref}/withdraw", {"reason": "We talked it through."})
    assert response.status_code == 200
    case = response.get_json()
    assert (case["status"], case["can_follow_up"], case["can_withdraw"]) == ("withdrawn", False, False)
    assert case["timeline"][-1]["status"] == "withdrawn" and case["timeline"][-1]["message"] == "We talked it through."
    deliver_due_in(app, 30)
    notes = [c for c in desk.comments_of(ticket) if "withdrew" in c["body"]]
    assert len(notes) == 1 and "We talked it through." in notes[0]["body"] and notes[0]["public"] is False
    assert "withdrawn-by-reporter" in desk.tickets[ticket]["tags"]
    refused = alice.post(f"/api/v1/reports/{ref}/followups", {"text": "Actually..."})
    assert refused.status_code == 409 and refused.get_json()["errors"][0]["code"] == "case-closed"
    assert alice.post(f"/api/v1/reports/{ref}/withdraw", {}).status_code == 409
    assert len([c for c in desk.comments_of(ticket) if "withdrew" in c["body"]]) == 1


def test_bad_followups_are_refused_with_every_problem_and_nothing_stored(app):
    alice = Reporter(app)
    ref = alice.report()
    before = counts(app)
    cases = [
        ({}, {("text", "followup-empty")}),
        ({"text": "x" * 5001}, {("text", "followup-too-long")}),
        ({"text": "a\x00b", "evidence": ["https://upload.wikimedia.org/wikipedia/commons/1/1a/Face.jpg"]},
         {("text", "control-characters"), ("evidence", "media-link")}),
        ({"text": "\x1b" + "y" * 5000, "evidence": ["https://en.wikipedia.org/x.png", "http://a.org/\x07"],
          "cc": "x"},
         {("text", "control-characters"), ("text", "followup-too-long"), ("evidence", "media-link"),
          ("evidence", "control-characters"), ("cc", "unknown-field")}),
    ]
    for body, expected in cases:
        response = alice.post(f"/api/v1/reports/{ref}/followups", body)
        assert response.status_code == 422
        errors = response.get_json()["errors"]
        assert {(e["field"], e["code"]) for e in errors} == expected
        assert all(e["message"] for e in errors)
    assert counts(app) == before


def test_the_html_form_lists_every_problem_keeps_what_was_typed_and_stores_nothing(app):
    alice = Reporter(app)
    ref = alice.report()
    before = counts(app)
    page = alice.page(ref)
    response = alice.client.post(f"/reports/{ref}/followups", data={
        "csrf_token": csrf_from(page), "text": "Look at this\x07", "evidence": "https://example.org/photo.jpg"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.count("field-error") == 2
    assert "invisible control characters" in html and "Links to images or videos are not accepted" in html
    assert "https://example.org/photo.jpg</textarea>" in html
    assert counts(app) == before


def test_the_html_flow_adds_then_withdraws_with_a_confirmation_step(app, desk):
    alice = Reporter(app)
    ref = alice.report()
    page = alice.page(ref)
    response = alice.client.post(f"/reports/{ref}/followups", data={"csrf_token": csrf_from(page),
                                                                     "text": "It happened again today."})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/reports/{ref}?added=1#timeline")
    page = alice.client.get(f"/reports/{ref}?added=1").get_data(as_text=True)
    assert 'id="case-notice"' in page and "It happened again today." in page
    # Withdrawing needs two steps: the button only leads to a confirmation page.
    assert f'href="/reports/{ref}/withdraw"' in page
    confirm = alice.client.get(f"/reports/{ref}/withdraw")
    assert confirm.status_code == 200 and alice.case(ref)["status"] == "forwarded"
    html = confirm.get_data(as_text=True)
    assert 'id="withdraw-confirm"' in html and f'href="/reports/{ref}"' in html
    response = alice.client.post(f"/reports/{ref}/withdraw", data={"csrf_token": csrf_from(html), "reason": ""})
    assert response.status_code == 303
    page = alice.client.get(response.headers["Location"]).get_data(as_text=True)
    assert status_chip(page) == "withdrawn"
    assert 'id="followup-closed"' in page and 'id="withdraw-start"' not in page
    assert "followup-form" not in page
    response = alice.client.post(f"/reports/{ref}/followups", data={"csrf_token": csrf_from(page), "text": "x"})
    assert response.status_code == 409 and "closed or withdrawn" in response.get_data(as_text=True)


def test_another_users_reference_is_not_found_everywhere(app):
    alice, mallory = Reporter(app, "Alice"), Reporter(app, "Mallory")
    ref = alice.report()
    before = counts(app)
    assert mallory.client.get(f"/api/v1/reports/{ref}").status_code == 404
    assert mallory.post(f"/api/v1/reports/{ref}/followups", {"text": "hi"}).status_code == 404
    assert mallory.post(f"/api/v1/reports/{ref}/withdraw", {}).status_code == 404
    assert mallory.client.get(f"/reports/{ref}/withdraw").status_code == 404
    page = mallory.client.get("/reports").get_data(as_text=True)
    for path in (f"/reports/{ref}/followups", f"/reports/{ref}/withdraw"):
        assert mallory.client.post(path, data={"csrf_token": csrf_from(page), "text": "x"}).status_code == 404
    unknown = "IR-0000-0000-0000-0000"
    assert mallory.post(f"/api/v1/reports/{unknown}/withdraw", {}).get_json() == \
        mallory.post(f"/api/v1/reports/{ref}/withdraw", {}).get_json()
    assert counts(app) == before
    assert alice.case(ref)["status"] == "forwarded"


def test_every_post_needs_the_csrf_token(app):
    alice = Reporter(app)
    ref = alice.report()
    before = counts(app)
    for path in (f"/api/v1/reports/{ref}/followups", f"/api/v1/reports/{ref}/withdraw"):
        assert alice.post(path, {"text": "x"}, token="wrong").status_code == 403
        assert alice.client.post(path, json={"text": "x"}).status_code == 403
    for path in (f"/reports/{ref}/followups", f"/reports/{ref}/withdraw"):
        assert alice.client.post(path, data={"text": "x"}).status_code == 403
    assert counts(app) == before


def test_followups_are_rate_limited_per_case(tmp_path, desk):
    app = app_for(tmp_path, zendesk_settings(desk), **{"rate_limit.followups_per_day": 2})
    alice = Reporter(app)
    ref, other = alice.report(), alice.report()
    for number in range(2):
        assert alice.post(f"/api/v1/reports/{ref}/followups", {"text": f"note {number}"}).status_code == 201
    limited = alice.post(f"/api/v1/reports/{ref}/followups", {"text": "note 3"})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert limited.get_json()["errors"][0]["code"] == "rate-limited"
    assert alice.post(f"/api/v1/reports/{other}/followups", {"text": "elsewhere"}).status_code == 201
    assert alice.post(f"/api/v1/reports/{ref}/withdraw", {}).status_code == 200  # withdrawing is never limited


def test_a_followup_waits_for_the_report_ticket_and_then_follows_it(tmp_path):
    port = free_port()
    desk = standard_desk()
    desk.bind_port = port
    app = app_for(tmp_path, zendesk_settings(port))  # the desk is down while the reporter writes
    alice = Reporter(app)
    ref = alice.report()
    assert alice.case(ref)["status"] == "received"
    assert alice.post(f"/api/v1/reports/{ref}/followups", {"text": "Before you even saw it."}).status_code == 201
    with desk:
        assert deliver_due_in(app, 30) == 1  # the report; its follow-up waits a minute for the ticket
        assert [c["body"] for c in desk.comments_of(ticket_of(desk, ref))][1:] == []
        assert deliver_due_in(app, 32) == 1  # then the follow-up
        assert "Before you even saw it." in desk.comments_of(ticket_of(desk, ref))[-1]["body"]
    assert [row.attempts for row in app.extensions["reporting"].stores.outbox.rows() if row.kind == "followup"] == [1]


def test_an_email_desk_gets_the_followup_threaded_under_the_report(tmp_path):
    app = make_app(tmp_path)  # the embedded default: a Maildir
    alice = Reporter(app)
    ref = alice.report()
    assert alice.post(f"/api/v1/reports/{ref}/followups", {"text": "Noch etwas."}).status_code == 201
    messages = {m["Message-ID"]: m for m in maildir_messages(app)}
    report_id = f"<report-{ref}@incident-reporting.toolforge.org>"
    [note] = [m for key, m in messages.items() if key != report_id]
    assert note["In-Reply-To"] == report_id and note["References"] == report_id
    note = email.message_from_bytes(note.as_bytes(), policy=policy.default)
    assert "Noch etwas." in note.get_body(preferencelist=("plain",)).get_content()
    [attachment] = list(note.iter_attachments())
    document = json.loads(attachment.get_content())
    assert document["schema"] == "incident-report/2"
    assert [entry["status"] for entry in document["status_history"]] == ["received", "forwarded"]
    assert [(f["kind"], f["text"]) for f in document["followups"]] == [("followup", "Noch etwas.")]


def test_a_znuny_followup_whose_answer_was_lost_is_one_article(tmp_path):
    with FakeZnuny(users={ZNUNY_USER: ZNUNY_PASSWORD}, queues={ZNUNY_QUEUE}) as desk:
        app = app_for(tmp_path, znuny_settings(desk))
        alice = Reporter(app)
        ref = alice.report()
        [ticket] = desk.tickets
        desk.lose_response(method="PATCH")
        assert alice.post(f"/api/v1/reports/{ref}/followups", {"text": "Und noch etwas."}).status_code == 201
        assert deliver_due_in(app, 30) == 1
        articles = [a for a in desk.tickets[ticket]["Articles"] if "Und noch etwas." in a["Body"]]
        assert len(articles) == 1
        assert articles[0]["IsVisibleForCustomer"] == 0 and articles[0]["SenderType"] == "system"
