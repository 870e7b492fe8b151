"""ZendeskConnector against the strict local Zendesk (tests/fakes/zendesk.py)."""
from __future__ import annotations

import time

import pytest

from reporting.delivery.base import Delivered, PermanentFailure, TemporaryFailure
from reporting.delivery.zendesk import ZendeskConnector
from tests.delivery.conftest import make_ticket
from tests.fakes.http_server import free_port
from tests.fakes.zendesk import AGENT_EMAIL, AGENT_TOKEN, FakeZendesk, standard_desk

EMAIL, TOKEN = AGENT_EMAIL, AGENT_TOKEN


@pytest.fixture
def desk():
    with standard_desk() as fake:
        yield fake


def connector(desk: FakeZendesk, **changes) -> ZendeskConnector:
    options = dict(email=EMAIL, api_token=TOKEN, group_id=360001, tags=("incident-reporting",), timeout=0.5)
    options.update(changes)
    return ZendeskConnector(desk.base_url, **options)


def test_create_ticket_sends_a_private_documented_ticket(desk, ticket):
    delivered = connector(desk, custom_field_ref_id=77).create_ticket(ticket)

    assert isinstance(delivered, Delivered)
    created = desk.tickets[int(delivered.ticket_id)]
    assert created["external_id"] == ticket.ref
    assert created["priority"] == "normal"
    assert created["group_id"] == 360001
    assert created["tags"] == ["harassment", "incident-reporting"]
    assert created["custom_fields"] == [{"id": 77, "value": ticket.ref}]
    assert [(c["body"], c["public"]) for c in desk.comments[int(delivered.ticket_id)]] == [(ticket.body, False)]
    post = [r for r in desk.requests if r.method == "POST"][0]
    assert post.headers["idempotency-key"] == f"incident-report-{ticket.ref}"


@pytest.mark.parametrize("priority", ["urgent", "high", "normal", "low"])
def test_priority_comes_from_the_ticket(desk, priority):
    delivered = connector(desk).create_ticket(make_ticket(priority=priority))
    assert desk.tickets[int(delivered.ticket_id)]["priority"] == priority


def test_unknown_priority_is_permanent_and_sends_nothing(desk):
    with pytest.raises(PermanentFailure):
        connector(desk).create_ticket(make_ticket(priority="critical"))
    assert desk.tickets_created == 0


def test_same_ticket_twice_gives_one_ticket(desk, ticket):
    first = connector(desk).create_ticket(ticket)
    second = connector(desk).create_ticket(ticket)
    assert first == second
    assert desk.tickets_created == 1


def test_lost_response_then_retry_gives_one_ticket(desk, ticket):
    desk.lose_response(method="POST")
    with pytest.raises(TemporaryFailure):
        connector(desk).create_ticket(ticket)
    assert desk.tickets_created == 1

    delivered = connector(desk).create_ticket(ticket)
    assert desk.tickets_created == 1
    assert int(delivered.ticket_id) in desk.tickets


def test_lookup_missing_the_ticket_still_gives_one_ticket_via_idempotency_key(desk, ticket):
    """The external_id lookup can lag behind a create; the key catches it."""
    desk.lose_response(method="POST")
    with pytest.raises(TemporaryFailure):
        connector(desk).create_ticket(ticket)
    desk.fail_with(200, {"tickets": [], "count": 0, "next_page": None, "previous_page": None}, method="GET")

    delivered = connector(desk).create_ticket(ticket)
    assert desk.tickets_created == 1
    assert desk.idempotent_replays == 1
    assert int(delivered.ticket_id) in desk.tickets


def test_changed_rendering_on_retry_finds_the_earlier_ticket(desk, ticket):
    delivered = connector(desk).create_ticket(ticket)
    changed = make_ticket(body="re-rendered text")
    assert connector(desk).create_ticket(changed) == delivered
    assert desk.tickets_created == 1


@pytest.mark.parametrize(
    "desk_status, expected",
    [("new", "new"), ("open", "open"), ("pending", "pending"), ("hold", "pending"), ("solved", "solved"), ("closed", "closed")],
)
def test_status_mapping(desk, ticket, desk_status, expected):
    delivered = connector(desk).create_ticket(ticket)
    desk.set_status(int(delivered.ticket_id), desk_status)
    assert connector(desk).ticket_status(delivered.ticket_id) == expected


def test_status_of_missing_ticket_is_permanent(desk):
    with pytest.raises(PermanentFailure):
        connector(desk).ticket_status("999999")


def test_followup_is_a_private_comment(desk, ticket):
    delivered = connector(desk).create_ticket(ticket)
    connector(desk).add_followup(ticket, delivered.ticket_id, "The reporter added a link.")
    last = desk.comments[int(delivered.ticket_id)][-1]
    assert (last["body"], last["public"]) == ("The reporter added a link.", False)


@pytest.mark.parametrize("target", ["GET", "POST"], ids=["during-lookup", "during-create"])
@pytest.mark.parametrize(
    "inject, failure, retry_after",
    [
        (lambda d, m: d.rate_limit(retry_after=17, method=m), TemporaryFailure, 17.0),
        (lambda d, m: d.fail_with(500, {"error": "InternalError"}, method=m), TemporaryFailure, None),
        (lambda d, m: d.fail_with(503, {"error": "Unavailable"}, {"Retry-After": "30"}, method=m), TemporaryFailure, 30.0),
        (lambda d, m: d.fail_with(409, {"error": "Conflict"}, method=m), TemporaryFailure, None),
        (lambda d, m: d.fail_with(403, {"error": "Forbidden"}, method=m), PermanentFailure, None),
        (lambda d, m: d.fail_with(301, None, {"Location": "https://elsewhere.example/"}, method=m), PermanentFailure, None),
        (lambda d, m: d.fail_with(200 if m == "GET" else 201, None, {"Content-Type": "text/html"}, method=m), TemporaryFailure, None),
        (lambda d, m: d.fail_with(200 if m == "GET" else 201, [1, 2], method=m), TemporaryFailure, None),
        (lambda d, m: d.fail_with(200 if m == "GET" else 201, {"tickets": "x", "ticket": {"id": None}}, method=m), TemporaryFailure, None),
        (lambda d, m: d.drop(method=m), TemporaryFailure, None),
        (lambda d, m: d.hang(3, method=m), TemporaryFailure, None),
    ],
    ids=["429", "500", "503-retry-after", "409", "403", "redirect", "garbled", "not-an-object", "malformed", "dropped", "hang"],
)
def test_failures_are_classified(desk, ticket, inject, failure, retry_after, target):
    inject(desk, target)
    started = time.monotonic()
    with pytest.raises(failure) as raised:
        connector(desk).create_ticket(ticket)
    assert time.monotonic() - started < 2
    if failure is TemporaryFailure:
        assert raised.value.retry_after == retry_after
    assert desk.tickets_created == 0
    assert [r.method for r in desk.requests] == (["GET"] if target == "GET" else ["GET", "POST"])


def test_wrong_token_is_permanent(desk, ticket):
    with pytest.raises(PermanentFailure, match="401"):
        connector(desk, api_token="wrong").create_ticket(ticket)
    assert desk.tickets_created == 0


def test_unknown_group_is_a_validation_failure(desk, ticket):
    with pytest.raises(PermanentFailure, match="422.*RecordInvalid"):
        connector(desk, group_id=1).create_ticket(ticket)
    assert desk.tickets_created == 0


def test_connection_refused_is_temporary(ticket):
    unreachable = ZendeskConnector(f"http://127.0.0.1:{free_port()}", EMAIL, TOKEN, timeout=0.5)
    with pytest.raises(TemporaryFailure):
        unreachable.create_ticket(ticket)


# -- reading tickets back and notes added once ---------------------------------------------------------


def test_tickets_are_read_100_a_request(desk):
    tickets = [connector(desk).create_ticket(make_ticket(ref=f"IR-2026-{n:04d}")).ticket_id for n in range(150)]
    before = len(desk.requests)
    found = connector(desk).read_tickets(tickets + ["999999"])
    assert set(found) == set(tickets)
    assert [r.path for r in desk.requests[before:]] == ["/api/v2/tickets/show_many"] * 2
    assert found[tickets[0]].state == "new" and found[tickets[0]].marker.endswith("Z")
    with pytest.raises(PermanentFailure):
        connector(desk).read_tickets(["12; DROP"])


def test_replies_are_the_public_comments_only(desk, ticket):
    ticket_id = int(connector(desk).create_ticket(ticket).ticket_id)
    desk.agent_comment(ticket_id, "note to self", public=False)
    desk.agent_comment(ticket_id, "Dear reporter")
    assert [m.body for m in connector(desk).replies(str(ticket_id))] == ["Dear reporter"]


def test_a_note_with_a_marker_is_added_once(desk, ticket):
    ticket_id = connector(desk).create_ticket(ticket).ticket_id
    for _ in range(2):
        connector(desk).add_followup(ticket, ticket_id, "Follow-up\n\nNote reference: IR-X-F1", marker="IR-X-F1",
                                     tags=("withdrawn-by-reporter",))
    assert [c["body"] for c in desk.comments[int(ticket_id)]].count("Follow-up\n\nNote reference: IR-X-F1") == 1
    assert "withdrawn-by-reporter" in desk.tickets[int(ticket_id)]["tags"]
