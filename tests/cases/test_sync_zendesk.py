"""The status sync against the strict fake Zendesk: statuses, replies, politeness, batching."""
from __future__ import annotations

import time

import pytest

from tests.cases.helpers import Reporter, app_for, status_chip, sync, zendesk_settings
from tests.fakes.zendesk import standard_desk


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


def test_open_then_pending_with_a_reply_then_solved_reach_the_reporters_page(app, desk):
    alice = Reporter(app)
    ref = alice.report()
    ticket = ticket_of(desk, ref)
    assert status_chip(alice.page(ref)) == "forwarded"

    desk.set_status(ticket, "open")
    sync(app)
    assert status_chip(alice.page(ref)) == "in-review"

    desk.agent_comment(ticket, "Internal: check the user's other accounts first.", public=False)
    desk.agent_comment(ticket, "Which talk page did this happen on? <script>alert(1)</script>")
    desk.set_status(ticket, "pending")
    sync(app)
    page = alice.page(ref)
    assert status_chip(page) == "needs-info"
    assert "The team needs more information from you." in page
    assert "Which talk page did this happen on? &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page

    desk.set_status(ticket, "solved")
    sync(app)
    page = alice.page(ref)
    assert status_chip(page) == "resolved"
    case = alice.case(ref)
    assert [(entry["status"], entry["source"], entry["message"]) for entry in case["timeline"]] == [
        ("received", "tool", None), ("forwarded", "tool", None), ("in-review", "desk", None),
        ("needs-info", "desk", "Which talk page did this happen on? <script>alert(1)</script>"),
        ("resolved", "desk", None)]
    assert case["can_follow_up"] is False and case["can_withdraw"] is False
    # Internal notes never appear; nor who handled it or the ticket number.
    for hidden in ("Internal: check", "other accounts", str(ticket)):
        assert hidden not in page and hidden not in str(case)
    listing = alice.client.get("/reports").get_data(as_text=True)
    assert "The team has taken action." in listing


def test_300_open_cases_are_synced_in_at_most_4_requests(tmp_path, desk):
    app = app_for(tmp_path, zendesk_settings(desk), **{"rate_limit.per_day": 1000})
    alice = Reporter(app)
    refs = [alice.report() for _ in range(300)]
    changed = ticket_of(desk, refs[150])
    desk.set_status(changed, "pending")
    desk.agent_comment(changed, "Can you tell us more?")
    before = len(desk.requests)
    output = sync(app)
    requests = desk.requests[before:]
    assert len(requests) <= 4, [(r.method, r.path) for r in requests]
    assert [r.path for r in requests].count("/api/v2/tickets/show_many") == 3
    assert "300 cases" in output and "1 changed" in output and "1 new messages" in output
    assert alice.case(refs[150])["status"] == "needs-info"
    assert alice.case(refs[0])["status"] == "forwarded"
    # Next pass: the changed ticket's comments are read once more (a change in the same second would
    # not move updated_at), the others not at all.
    before = len(desk.requests)
    sync(app)
    assert len(desk.requests) - before <= 4


def test_a_short_retry_after_is_waited_out(app, desk):
    alice = Reporter(app)
    ref = alice.report()
    desk.set_status(ticket_of(desk, ref), "open")
    desk.rate_limit(retry_after=1, method="GET")
    started = time.monotonic()
    output = sync(app)
    assert time.monotonic() - started >= 1.0
    assert "0 desks failed" in output
    assert alice.case(ref)["status"] == "in-review"


def test_a_long_retry_after_ends_the_desks_turn_and_is_respected(app, desk):
    alice = Reporter(app)
    ref = alice.report()
    desk.set_status(ticket_of(desk, ref), "open")
    desk.rate_limit(retry_after=3600, method="GET")
    components = app.extensions["reporting"]
    outcome = components.status_sync.run_once()
    assert (outcome.failed_desks, outcome.changed) == (1, 0)
    before = len(desk.requests)
    outcome = components.status_sync.run_once()  # within the hour: the desk is left alone
    assert len(desk.requests) == before and outcome.desks == 0
    assert alice.case(ref)["status"] == "forwarded"


def test_a_reopened_ticket_reopens_the_case(app, desk):
    alice = Reporter(app)
    ref = alice.report()
    ticket = ticket_of(desk, ref)
    desk.set_status(ticket, "solved")
    sync(app)
    desk.set_status(ticket, "pending")
    desk.agent_comment(ticket, "We reopened this: is it still happening?")
    sync(app)
    statuses = [entry["status"] for entry in alice.case(ref)["timeline"]]
    assert statuses == ["received", "forwarded", "resolved", "in-review", "needs-info"]


def test_the_reporters_answer_is_not_undone_by_a_desk_that_still_says_pending(app, desk):
    alice = Reporter(app)
    ref = alice.report()
    ticket = ticket_of(desk, ref)
    desk.set_status(ticket, "pending")
    desk.agent_comment(ticket, "Which page?")
    sync(app)
    assert alice.post(f"/api/v1/reports/{ref}/followups", {"text": "His talk page."}).status_code == 201
    assert alice.case(ref)["status"] == "in-review"
    desk.add_tags(ticket, "triaged")  # the ticket changes, its status does not
    sync(app)
    assert alice.case(ref)["status"] == "in-review"
    desk.agent_comment(ticket, "Thanks. And when did it start?")  # still pending: a new question
    sync(app)
    assert alice.case(ref)["status"] == "needs-info"
    assert alice.case(ref)["timeline"][-1]["message"] == "Thanks. And when did it start?"
    desk.set_status(ticket, "solved")
    sync(app)
    assert alice.case(ref)["status"] == "resolved"


@pytest.mark.parametrize("query, tags, custom, expected", [
    ("", ["declined"], None, "declined"),
    ("status.tag:no-action=declined", ["no-action"], None, "declined"),
    ("status.custom:360009=declined", [], 360009, "declined"),
    ("", [], None, "resolved"),
])
def test_declined_tickets(tmp_path, desk, query, tags, custom, expected):
    app = app_for(tmp_path, zendesk_settings(desk, query))
    alice = Reporter(app)
    ref = alice.report()
    ticket = ticket_of(desk, ref)
    if tags:
        desk.add_tags(ticket, *tags)
    if custom:
        desk.set_custom_status(ticket, custom)
    desk.set_status(ticket, "solved")
    sync(app)
    assert alice.case(ref)["status"] == expected


def test_a_desk_that_is_down_does_not_stop_the_pass(tmp_path, desk):
    app = app_for(tmp_path, zendesk_settings(desk))
    alice = Reporter(app)
    ref = alice.report()
    desk.fail_with(500, {"error": "Boom"}, times=3, method="GET")
    result = app.test_cli_runner().invoke(args=["reporting", "sync-status"])
    assert result.exit_code == 1 and "1 desks failed" in result.output
    assert alice.case(ref)["status"] == "forwarded"
