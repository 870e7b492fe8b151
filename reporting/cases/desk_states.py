"""What a desk's ticket state means for the case: the mapping, with documented defaults.

Every destination may override single entries (``status.<desk state>=<status>``
in its URL, see :mod:`reporting.delivery.destinations`). The mapping answers
with the *rule* that matched as well as the status: the status sync applies a
desk's status only when the matching rule changes, so a tag added to a
ticket, or a desk that still says "pending" after the reporter answered,
does not undo what happened in the tool since.

Zendesk (``status`` of the ticket):

==================  ============  =============================================
``new``             forwarded     nobody has picked it up
``open``, ``hold``  in-review
``pending``         needs-info    the team waits for the requester
``solved``,         resolved
``closed``
``tag:declined``    declined      a solved or closed ticket tagged ``declined``
``custom:<id>``     (none)        a custom ticket status; map yours to a status
==================  ============  =============================================

Tag rules apply to solved and closed tickets only (a reopened ticket keeps
its tags); custom-status rules win over everything.

Znuny (``State``, else ``type:<StateType>``):

=================================  ===========
``new``                            forwarded
``open``, ``pending reminder``     in-review
``type:pending auto``              in-review
``closed successful``              resolved
``closed unsuccessful``            declined
``removed``                        declined
``type:closed``                    resolved
``merged``                         the state of the ticket it was merged into
=================================  ===========
"""
from __future__ import annotations

from collections.abc import Iterable

from reporting.cases.statuses import Status
from reporting.delivery.desk_reading import DeskTicket

ZENDESK_DEFAULTS: dict[str, Status] = {
    "new": Status.FORWARDED,
    "open": Status.IN_REVIEW,
    "hold": Status.IN_REVIEW,
    "pending": Status.NEEDS_INFO,
    "solved": Status.RESOLVED,
    "closed": Status.RESOLVED,
    "tag:declined": Status.DECLINED,
}
_ZENDESK_FINISHED = ("solved", "closed")

ZNUNY_DEFAULTS: dict[str, Status] = {
    "new": Status.FORWARDED,
    "open": Status.IN_REVIEW,
    "pending reminder": Status.IN_REVIEW,
    "closed successful": Status.RESOLVED,
    "closed unsuccessful": Status.DECLINED,
    "removed": Status.DECLINED,
    "type:new": Status.FORWARDED,
    "type:open": Status.IN_REVIEW,
    "type:pending reminder": Status.IN_REVIEW,
    "type:pending auto": Status.IN_REVIEW,
    "type:closed": Status.RESOLVED,
    "type:removed": Status.DECLINED,
}


def _merged(defaults: dict[str, Status], overrides: Iterable[tuple[str, str]]) -> dict[str, Status]:
    return {**defaults, **{state: Status(status) for state, status in overrides}}


def zendesk_rule(ticket: DeskTicket, overrides: Iterable[tuple[str, str]] = ()) -> tuple[str, Status | None]:
    """The rule that matches a Zendesk ticket and the status it gives (None: no rule)."""
    mapping = _merged(ZENDESK_DEFAULTS, overrides)
    if ticket.custom_status is not None and f"custom:{ticket.custom_status}" in mapping:
        key = f"custom:{ticket.custom_status}"
        return key, mapping[key]
    if ticket.state in _ZENDESK_FINISHED:
        for tag in sorted(ticket.tags):
            if f"tag:{tag}" in mapping:
                return f"tag:{tag}", mapping[f"tag:{tag}"]
    if ticket.state in mapping:
        return ticket.state, mapping[ticket.state]
    return f"unmapped:{ticket.state}", None


def znuny_rule(ticket: DeskTicket, overrides: Iterable[tuple[str, str]] = ()) -> tuple[str, Status | None]:
    """The rule that matches a Znuny ticket and the status it gives (None: no rule).

    Merged tickets are not mapped here: the sync follows them to their target.
    """
    mapping = _merged(ZNUNY_DEFAULTS, overrides)
    if ticket.state in mapping:
        return ticket.state, mapping[ticket.state]
    if ticket.state_type and f"type:{ticket.state_type}" in mapping:
        return f"type:{ticket.state_type}", mapping[f"type:{ticket.state_type}"]
    return f"unmapped:{ticket.state}", None


RULES = {"zendesk": zendesk_rule, "znuny": znuny_rule}
