"""ZnunyConnector against the strict local Znuny web service (tests/fakes/znuny.py)."""
from __future__ import annotations

import base64
import json
import time

import pytest

from reporting.delivery.base import PermanentFailure, TemporaryFailure
from reporting.delivery.znuny import ZnunyConnector, normalize_state
from tests.delivery.conftest import make_ticket
from tests.fakes.http_server import free_port
from tests.fakes.znuny import FakeZnuny

USER, PASSWORD, QUEUE = "reporting-bot", "agent-password", "Trust and Safety"


@pytest.fixture
def desk():
    with FakeZnuny(users={USER: PASSWORD}, queues={QUEUE}) as fake:
        yield fake


def connector(desk: FakeZnuny, **changes) -> ZnunyConnector:
    options = dict(base_url=desk.url, user_login=USER, password=PASSWORD, queue=QUEUE, timeout=0.5)
    options.update(changes)
    return ZnunyConnector(**options)


def test_create_ticket_is_internal_and_carries_the_reference(desk, ticket):
    delivered = connector(desk).create_ticket(ticket)

    stored = desk.tickets[int(delivered.ticket_id)]
    assert delivered.ticket_number == stored["TicketNumber"]
    assert stored["Queue"] == QUEUE and stored["State"] == "new" and stored["Priority"] == "3 normal"
    assert ticket.ref in stored["Title"]
    assert stored["DynamicFields"] == {"IncidentReportRef": ticket.ref}
    article = stored["Articles"][0]
    assert article["IsVisibleForCustomer"] == 0
    assert article["CommunicationChannel"] == "Internal" and article["SenderType"] == "system"
    assert article["Body"] == ticket.body
    [attachment] = article["Attachment"]
    assert attachment["Filename"] == "report.json"
    assert json.loads(base64.b64decode(attachment["Content"])) == json.loads(ticket.report_json)


@pytest.mark.parametrize("priority, name", [("urgent", "5 very high"), ("high", "4 high"), ("normal", "3 normal"), ("low", "2 low")])
def test_priority_names(desk, priority, name):
    delivered = connector(desk).create_ticket(make_ticket(priority=priority))
    assert desk.tickets[int(delivered.ticket_id)]["Priority"] == name


def test_session_is_created_once_and_reused(desk, ticket):
    desk_connector = connector(desk)
    desk_connector.create_ticket(ticket)
    desk_connector.create_ticket(make_ticket(ref="IR-2026-0002"))
    desk_connector.ticket_status("501")
    assert desk.sessions_created == 1
    assert all("Password" not in r.body.decode() for r in desk.requests if not r.path.endswith("/Session"))
    assert all(key != "Password" for r in desk.requests for key, _ in r.query)


def test_expired_session_is_renewed(desk, ticket):
    desk_connector = connector(desk)
    desk_connector.create_ticket(ticket)
    desk.expire_sessions()
    desk_connector.create_ticket(make_ticket(ref="IR-2026-0002"))
    assert desk.sessions_created == 2
    assert desk.tickets_created == 2


def test_wrong_password_is_permanent(desk, ticket):
    with pytest.raises(PermanentFailure, match="SessionCreate.AuthFail"):
        connector(desk, password="wrong").create_ticket(ticket)
    assert desk.tickets_created == 0


def test_same_ticket_twice_gives_one_ticket(desk, ticket):
    first = connector(desk).create_ticket(ticket)
    second = connector(desk).create_ticket(ticket)
    assert first == second
    assert desk.tickets_created == 1


def test_lost_response_after_create_then_retry_gives_one_ticket(desk, ticket):
    desk.lose_response(method="POST", path_prefix=desk.webservice_path + "/Ticket")
    with pytest.raises(TemporaryFailure):
        connector(desk).create_ticket(ticket)
    assert desk.tickets_created == 1

    delivered = connector(desk).create_ticket(ticket)
    assert desk.tickets_created == 1
    assert int(delivered.ticket_id) in desk.tickets


def test_slow_create_timing_out_then_retry_gives_one_ticket(desk, ticket):
    desk.lose_response(method="POST", path_prefix=desk.webservice_path + "/Ticket")
    desk.hang(0.01, method="GET")  # the first search attempt of the retry fails too
    with pytest.raises(TemporaryFailure):
        connector(desk).create_ticket(ticket)
    with pytest.raises(TemporaryFailure):
        connector(desk).create_ticket(ticket)
    connector(desk).create_ticket(ticket)
    assert desk.tickets_created == 1


def test_title_search_confirms_candidates_by_reference(desk):
    """IR-1 is a prefix of IR-10's reference: the title search finds both,
    the dynamic field tells them apart."""
    ten = connector(desk).create_ticket(make_ticket(ref="IR-10"))
    one = connector(desk).create_ticket(make_ticket(ref="IR-1"))
    assert one != ten
    assert connector(desk).create_ticket(make_ticket(ref="IR-1")) == one
    assert desk.tickets_created == 2


def test_title_gets_the_reference_when_the_subject_lacks_it(desk):
    delivered = connector(desk).create_ticket(make_ticket(ref="IR-7", subject="Incident report"))
    assert desk.tickets[int(delivered.ticket_id)]["Title"] == "Incident report [IR-7]"
    assert connector(desk).create_ticket(make_ticket(ref="IR-7", subject="Incident report")) == delivered


def test_configured_post_search_route_uses_the_dynamic_field(ticket):
    routes = {"TicketSearch": "POST /TicketSearch", "TicketUpdate": "POST /TicketUpdate/:TicketID"}
    with FakeZnuny(users={USER: PASSWORD}, queues={QUEUE}, routes=routes) as desk:
        desk_connector = connector(desk, routes=routes)
        first = desk_connector.create_ticket(ticket)
        assert desk_connector.create_ticket(ticket) == first
        desk_connector.add_followup(ticket, first.ticket_id, "More evidence.")
        searches = [r for r in desk.requests if r.path.endswith("/TicketSearch")]
        assert searches and all(r.json()["DynamicField_IncidentReportRef"] == {"Equals": ticket.ref} for r in searches)
        assert desk.tickets_created == 1
        assert desk.tickets[int(first.ticket_id)]["Articles"][-1]["Body"] == "More evidence."


def test_default_routes_against_a_desk_with_other_routes_is_permanent(ticket):
    with FakeZnuny(users={USER: PASSWORD}, queues={QUEUE}, routes={"TicketSearch": "POST /TicketSearch"}) as desk:
        with pytest.raises(PermanentFailure, match="route"):
            connector(desk).create_ticket(ticket)


def test_search_that_ignores_its_filter_is_permanent(desk):
    for number in range(11):
        connector(desk).create_ticket(make_ticket(ref=f"IR-{number}", subject="Incident report"))
    desk.fail_with(200, {"TicketID": [str(i) for i in desk.tickets]}, method="GET")
    with pytest.raises(PermanentFailure, match="filter"):
        connector(desk).create_ticket(make_ticket(ref="IR-99"))


@pytest.mark.parametrize(
    "state, expected",
    [
        ("new", "new"),
        ("open", "open"),
        ("pending reminder", "pending"),
        ("pending auto close+", "pending"),
        ("closed successful", "solved"),
        ("closed unsuccessful", "closed"),
        ("merged", "closed"),
        ("removed", "closed"),
    ],
)
def test_status_mapping(desk, ticket, state, expected):
    delivered = connector(desk).create_ticket(ticket)
    desk.set_state(int(delivered.ticket_id), state)
    assert connector(desk).ticket_status(delivered.ticket_id) == expected


@pytest.mark.parametrize(
    "state, state_type, expected",
    [("awaiting reply", "pending reminder", "pending"), ("escalated", "open", "open"), ("unknown", "unknown", None), (None, None, None)],
)
def test_custom_states_map_by_state_type(state, state_type, expected):
    assert normalize_state(state, state_type) == expected


def test_status_of_unknown_ticket_is_permanent(desk):
    with pytest.raises(PermanentFailure, match="AccessDenied"):
        connector(desk).ticket_status("424242")


def test_followup_is_an_internal_article(desk, ticket):
    delivered = connector(desk).create_ticket(ticket)
    connector(desk).add_followup(ticket, delivered.ticket_id, "The reporter added a link.")
    article = desk.tickets[int(delivered.ticket_id)]["Articles"][-1]
    assert article["Body"] == "The reporter added a link."
    assert article["IsVisibleForCustomer"] == 0
    assert [r.method for r in desk.requests if "/Ticket/" in r.path][-1] == "PATCH"


@pytest.mark.parametrize(
    "inject, failure, retry_after",
    [
        (lambda d: d.fail_with(500, {"faultcode": "Server", "faultstring": "Could not connect to database"}), TemporaryFailure, None),
        (lambda d: d.fail_with(503, None, {"Retry-After": "12"}), TemporaryFailure, 12.0),
        (lambda d: d.fail_with(429, None, {"Retry-After": "5"}), TemporaryFailure, 5.0),
        (lambda d: d.fail_with(200, {"Error": {"ErrorCode": "TicketSearch.InternalError", "ErrorMessage": "x"}}), TemporaryFailure, None),
        (lambda d: d.fail_with(200, {"Error": {"ErrorCode": "Webservice.InvalidConfiguration", "ErrorMessage": "x"}}), PermanentFailure, None),
        (lambda d: d.fail_with(200, {"Error": {"ErrorCode": "TicketSearch.AccessDenied", "ErrorMessage": "x"}}), PermanentFailure, None),
        (lambda d: d.fail_with(200, ["TicketID"]), TemporaryFailure, None),
        (lambda d: d.fail_with(200, {"TicketID": ["abc"]}, method="GET"), TemporaryFailure, None),
        (lambda d: d.fail_with(200, {"Error": "boom"}), TemporaryFailure, None),
        (lambda d: d.fail_with(401), PermanentFailure, None),
        (lambda d: d.fail_with(302, None, {"Location": "https://sso.example/"}), PermanentFailure, None),
        (lambda d: d.drop(), TemporaryFailure, None),
        (lambda d: d.hang(3), TemporaryFailure, None),
    ],
    ids=["500-fault", "503", "429", "error-temporary", "error-config", "error-denied", "not-an-object", "bad-ids",
         "bad-error", "401", "redirect", "dropped", "hang"],
)
def test_failures_are_classified(desk, ticket, inject, failure, retry_after):
    inject(desk)
    started = time.monotonic()
    with pytest.raises(failure) as raised:
        connector(desk).create_ticket(ticket)
    assert time.monotonic() - started < 2
    if failure is TemporaryFailure:
        assert raised.value.retry_after == retry_after
    assert desk.tickets_created == 0


@pytest.mark.parametrize(
    "code, failure",
    [
        ("TicketCreate.MissingParameter", PermanentFailure),
        ("TicketCreate.InvalidParameter", PermanentFailure),
        ("TicketCreate.AccessDenied", PermanentFailure),
        ("TicketCreate.OperationFailed", TemporaryFailure),
    ],
)
def test_create_errors_are_classified(desk, ticket, code, failure):
    desk.fail_with(200, {"Error": {"ErrorCode": code, "ErrorMessage": "x"}}, method="POST", path_prefix=desk.webservice_path + "/Ticket")
    with pytest.raises(failure, match=code):
        connector(desk).create_ticket(ticket)
    assert desk.tickets_created == 0


def test_auth_failure_with_a_renewed_session_is_permanent(desk, ticket):
    desk.fail_with(200, {"Error": {"ErrorCode": "TicketCreate.AuthFail", "ErrorMessage": "x"}}, times=2,
                   method="POST", path_prefix=desk.webservice_path + "/Ticket")
    with pytest.raises(PermanentFailure, match="AuthFail"):
        connector(desk).create_ticket(ticket)
    assert desk.sessions_created == 2
    assert desk.tickets_created == 0


def test_unknown_queue_is_a_permanent_validation_error(desk, ticket):
    with pytest.raises(PermanentFailure, match="InvalidParameter"):
        connector(desk, queue="No such queue").create_ticket(ticket)


def test_connection_refused_is_temporary(ticket):
    unreachable = ZnunyConnector(f"http://127.0.0.1:{free_port()}/otrs/nph-genericinterface.pl/Webservice/X",
                                 USER, PASSWORD, QUEUE, timeout=0.5)
    with pytest.raises(TemporaryFailure):
        unreachable.create_ticket(ticket)


# -- reading tickets back and notes added once ---------------------------------------------------------


def test_tickets_are_read_in_lists_of_get_batch(desk):
    tickets = [connector(desk).create_ticket(make_ticket(ref=f"IR-2026-{n:04d}")).ticket_id for n in range(7)]
    before = len(desk.requests)
    found = connector(desk, get_batch=3).read_tickets(tickets)
    assert set(found) == set(tickets) and found[tickets[0]].state_type == "new"
    gets = [r for r in desk.requests[before:] if r.method == "GET"]  # after a new connector's login
    assert [r.path.rsplit("/", 1)[1].count("%2C") + 1 for r in gets] == [3, 3, 1]


def test_a_route_without_a_placeholder_gets_the_ticket_id_in_the_body():
    routes = {"TicketGet": "POST /TicketGet"}
    with FakeZnuny(users={USER: PASSWORD}, queues={QUEUE}, routes=routes) as desk:
        ticket_id = connector(desk, routes=routes).create_ticket(make_ticket()).ticket_id
        desk.set_state(int(ticket_id), "open")
        assert connector(desk, routes=routes).read_tickets([ticket_id])[ticket_id].state == "open"


def test_replies_are_agent_articles_visible_to_the_customer(desk, ticket):
    ticket_id = int(connector(desk).create_ticket(ticket).ticket_id)
    desk.agent_article(ticket_id, "note to self", visible_for_customer=False)
    desk.agent_article(ticket_id, "Sehr geehrte Melderin")
    assert [m.body for m in connector(desk).replies(str(ticket_id))] == ["Sehr geehrte Melderin"]


def test_a_note_with_a_marker_is_one_article(desk, ticket):
    ticket_id = connector(desk).create_ticket(ticket).ticket_id
    for _ in range(2):
        connector(desk).add_followup(ticket, ticket_id, "More.\n\nNote reference: IR-X-F2", marker="IR-X-F2")
    assert [a["Body"] for a in desk.tickets[int(ticket_id)]["Articles"]].count("More.\n\nNote reference: IR-X-F2") == 1
