"""The status sync against the strict fake Znuny: TicketGet lists, articles, merges, removed tickets."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest

from reporting.storage.database import utcnow

from tests.cases.helpers import ZNUNY_PASSWORD, ZNUNY_QUEUE, ZNUNY_USER, Reporter, app_for, status_chip, sync, znuny_settings
from tests.fakes.znuny import FakeZnuny


@pytest.fixture
def desk():
    with FakeZnuny(users={ZNUNY_USER: ZNUNY_PASSWORD}, queues={ZNUNY_QUEUE}) as fake:
        yield fake


@pytest.fixture
def app(tmp_path, desk):
    return app_for(tmp_path, znuny_settings(desk))


def ticket_of(desk, ref: str) -> int:
    [ticket_id] = [ticket_id for ticket_id, ticket in desk.tickets.items()
                   if ticket["DynamicFields"].get("IncidentReportRef") == ref]
    return ticket_id


def ticket_gets(desk, since: int) -> list[str]:
    """The TicketID of every TicketGet request since request number ``since``."""
    return [request.path.rsplit("/", 1)[1] for request in desk.requests[since:]
            if request.method == "GET" and request.path.count("/Ticket/")]


def test_open_with_a_reply_then_closed_reach_the_reporters_page(app, desk):
    alice = Reporter(app)
    ref = alice.report()
    ticket = ticket_of(desk, ref)
    desk.set_state(ticket, "open")
    desk.agent_article(ticket, "Internal: looks like a sock of User:X.", visible_for_customer=False)
    desk.agent_article(ticket, "Danke. Wir prüfen das und melden uns.")
    sync(app)
    page = alice.page(ref)
    assert status_chip(page) == "in-review"
    assert "Danke. Wir prüfen das und melden uns." in page
    assert "sock of" not in page and "Internal:" not in page
    # The tool's own articles (the report, SenderType system) are no message to the reporter.
    assert "A report was submitted" not in page

    desk.set_state(ticket, "closed successful")
    sync(app)
    assert status_chip(alice.page(ref)) == "resolved"
    assert [(e["status"], e["source"]) for e in alice.case(ref)["timeline"]][2:] == [
        ("in-review", "desk"), ("resolved", "desk")]


@pytest.mark.parametrize("state, expected", [
    ("closed unsuccessful", "declined"), ("removed", "declined"), ("pending reminder", "in-review"),
    ("pending auto close+", "in-review"), ("new", "forwarded")])
def test_states(app, desk, state, expected):
    alice = Reporter(app)
    ref = alice.report()
    desk.set_state(ticket_of(desk, ref), state)
    sync(app)
    assert alice.case(ref)["status"] == expected


def test_tickets_are_read_in_lists_and_articles_only_for_changed_ones(tmp_path, desk):
    app = app_for(tmp_path, znuny_settings(desk, "get_batch=20"), **{"rate_limit.per_day": 100})
    alice = Reporter(app)
    refs = [alice.report() for _ in range(25)]
    changed = ticket_of(desk, refs[3])
    offset = timedelta(0)
    app.extensions["reporting"].status_sync.clock = lambda: utcnow() + offset

    def sync_ten_minutes_later() -> None:
        nonlocal offset
        offset += timedelta(minutes=10)
        sync(app)

    # The first pass reads every ticket's articles (nothing is known about them yet), the second once
    # more (a change in the very second of the first read would not have moved "Changed").
    before = len(desk.requests)
    sync_ten_minutes_later()
    sync_ten_minutes_later()
    assert len([get for get in ticket_gets(desk, before) if "%2C" not in get]) == 50
    # An agent acts later (in a later second than those passes read: Znuny's "Changed" counts seconds,
    # and the passes' ten minutes are the test's clock only).
    time.sleep(1.1)
    desk.set_state(changed, "open")
    desk.agent_article(changed, "Could you tell us more?")
    before = len(desk.requests)
    sync_ten_minutes_later()
    gets = ticket_gets(desk, before)
    lists = [get for get in gets if "%2C" in get]
    assert [len(get.split("%2C")) for get in lists] == [20, 5]
    assert [get for get in gets if "%2C" not in get] == [str(changed)]  # its articles
    assert alice.case(refs[3])["status"] == "in-review"
    assert alice.case(refs[3])["timeline"][-1]["message"] == "Could you tell us more?"


def test_an_unreadable_ticket_in_a_list_does_not_hide_the_others(app, desk):
    alice = Reporter(app)
    refs = [alice.report() for _ in range(3)]
    first, gone = ticket_of(desk, refs[0]), ticket_of(desk, refs[1])
    desk.set_state(first, "open")
    del desk.tickets[gone]  # removed from the desk (or our agent lost access): TicketGet refuses the whole list
    output = sync(app)
    assert "0 desks failed" in output
    assert alice.case(refs[0])["status"] == "in-review"
    assert alice.case(refs[1])["status"] == "forwarded"


def test_a_merged_ticket_is_followed_to_its_target(app, desk):
    alice = Reporter(app)
    ref, other = alice.report(), alice.report()
    ticket, target = ticket_of(desk, ref), ticket_of(desk, other)
    desk.set_state(target, "open")
    desk.merge(ticket, into_ticket_id=target)
    sync(app)
    case = alice.case(ref)
    assert case["status"] == "in-review"
    # Znuny's merge note (visible to the customer, naming ticket numbers) is no message for the reporter.
    assert all(entry["message"] is None for entry in case["timeline"])
    assert desk.tickets[target]["TicketNumber"] not in alice.page(ref)
    # Follow-ups go where the agents now work: the target ticket.
    assert alice.post(f"/api/v1/reports/{ref}/followups", {"text": "One more thing."}).status_code == 201
    assert "One more thing." in desk.tickets[target]["Articles"][-1]["Body"]
    desk.set_state(target, "closed successful")
    sync(app)
    assert alice.case(ref)["status"] == "resolved"


def test_open_then_waiting_for_the_reporter_then_closed_with_a_mapped_pending_state(tmp_path, desk):
    """Znuny has no state that means "the team asked you" by default; a desk that uses pending auto
    close for it says so in the destination (``status.type:pending auto=needs-info``)."""
    app = app_for(tmp_path, znuny_settings(desk, "status.type:pending+auto=needs-info"))
    alice = Reporter(app)
    ref = alice.report()
    ticket = ticket_of(desk, ref)
    desk.set_state(ticket, "open")
    sync(app)
    assert status_chip(alice.page(ref)) == "in-review"
    desk.agent_article(ticket, "Note: ask CheckUser about the IP.", visible_for_customer=False)
    desk.agent_article(ticket, "Which page was it on?")
    desk.set_state(ticket, "pending auto close+")
    sync(app)
    page = alice.page(ref)
    assert status_chip(page) == "needs-info" and "Which page was it on?" in page
    desk.set_state(ticket, "closed successful")
    sync(app)
    page = alice.page(ref)
    assert status_chip(page) == "resolved"
    assert "CheckUser" not in page and "CheckUser" not in str(alice.case(ref))
    assert [(e["status"], e["message"]) for e in alice.case(ref)["timeline"]][2:] == [
        ("in-review", None), ("needs-info", "Which page was it on?"), ("resolved", None)]
