"""How desk states read as case statuses: the documented defaults and per-destination overrides."""
from __future__ import annotations

import pytest

from reporting.cases.desk_states import zendesk_rule, znuny_rule
from reporting.delivery.desk_reading import DeskTicket
from reporting.delivery.destinations import parse_destination


def zendesk(state, tags=(), custom=None):
    return DeskTicket(ticket_id="1", state=state, tags=tuple(tags), custom_status=custom)


def znuny(state, state_type):
    return DeskTicket(ticket_id="1", state=state, state_type=state_type)


@pytest.mark.parametrize("ticket, rule, status", [
    (zendesk("new"), "new", "forwarded"),
    (zendesk("open"), "open", "in-review"),
    (zendesk("hold"), "hold", "in-review"),
    (zendesk("pending"), "pending", "needs-info"),
    (zendesk("solved"), "solved", "resolved"),
    (zendesk("closed"), "closed", "resolved"),
    (zendesk("solved", ["incident-report", "declined"]), "tag:declined", "declined"),
    (zendesk("closed", ["declined"]), "tag:declined", "declined"),
    (zendesk("open", ["declined"]), "open", "in-review"),  # a reopened ticket keeps its tags
    (zendesk("open", custom="77"), "open", "in-review"),  # a custom status nobody mapped
    (zendesk("weird"), "unmapped:weird", None),
])
def test_zendesk_defaults(ticket, rule, status):
    assert zendesk_rule(ticket) == (rule, status)


@pytest.mark.parametrize("ticket, rule, status", [
    (znuny("new", "new"), "new", "forwarded"),
    (znuny("open", "open"), "open", "in-review"),
    (znuny("pending reminder", "pending reminder"), "pending reminder", "in-review"),
    (znuny("pending auto close+", "pending auto"), "type:pending auto", "in-review"),
    (znuny("closed successful", "closed"), "closed successful", "resolved"),
    (znuny("closed unsuccessful", "closed"), "closed unsuccessful", "declined"),
    (znuny("removed", "removed"), "removed", "declined"),
    (znuny("closed with workaround", "closed"), "type:closed", "resolved"),  # an admin's own state
    (znuny("parked", "custom-type"), "unmapped:parked", None),
])
def test_znuny_defaults(ticket, rule, status):
    assert znuny_rule(ticket) == (rule, status)


def test_destinations_override_single_entries():
    destination = parse_destination("zendesk+https://wikimedia.zendesk.com?status.hold=needs-info"
                                    "&status.custom:360001=declined&status.tag:no-action=declined")
    overrides = destination.status_map
    assert zendesk_rule(zendesk("hold"), overrides) == ("hold", "needs-info")
    assert zendesk_rule(zendesk("open", custom="360001"), overrides) == ("custom:360001", "declined")
    assert zendesk_rule(zendesk("solved", ["no-action"]), overrides) == ("tag:no-action", "declined")
    assert zendesk_rule(zendesk("pending"), overrides) == ("pending", "needs-info")  # the rest stays
    destination = parse_destination("znuny+https://vrts.example.org/otrs/nph-genericinterface.pl/Webservice/R"
                                    "?queue=Q&status.pending+auto+close%2B=needs-info&status.type:closed=declined")
    assert znuny_rule(znuny("pending auto close+", "pending auto"), destination.status_map) == (
        "pending auto close+", "needs-info")
    assert znuny_rule(znuny("closed with workaround", "closed"), destination.status_map) == ("type:closed", "declined")


@pytest.mark.parametrize("url, problem", [
    ("zendesk+https://x.zendesk.com?status.bogus=resolved", "names no state"),
    ("zendesk+https://x.zendesk.com?status.open=withdrawn", "must be one of"),
    ("zendesk+https://x.zendesk.com?status.open=received", "must be one of"),
    ("zendesk+https://x.zendesk.com?status.custom:abc=declined", "names no state"),
    ("znuny+https://h.example.org/ws?queue=Q&status.type:sleeping=resolved", "names no state"),
    ("znuny+https://h.example.org/ws?queue=Q&get_batch=0", "positive"),
    ("znuny+https://h.example.org/ws?queue=Q&get_batch=500", "at most"),
])
def test_bad_mappings_are_refused_at_start(url, problem):
    with pytest.raises(ValueError, match=problem):
        parse_destination(url)
