"""A case's status: the one definition the database, the views and the desks share.

The reporter sees these words (localized as ``reporting-status-<value>``,
with a plain-language line ``reporting-status-<value>-help``); the database
stores the value. Which status may follow which is decided here and nowhere
else: the status sync, the reporter's follow-ups and withdrawals, and the
functionaries' workspace all ask :func:`path` before they change a case.
"""
from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """Where a report is on its way to a human."""

    RECEIVED = "received"  # stored; no desk has it yet
    FORWARDED = "forwarded"  # a desk or queue has it; nobody has picked it up
    IN_REVIEW = "in-review"  # someone at the desk is working on it
    NEEDS_INFO = "needs-info"  # the team asked the reporter something
    RESOLVED = "resolved"  # action was taken
    DECLINED = "declined"  # no action, with a reason
    WITHDRAWN = "withdrawn"  # the reporter took it back


class Source(StrEnum):
    """Who caused an entry of a case's timeline."""

    DESK = "desk"  # read from an API desk by the status sync
    REPORTER = "reporter"
    TOOL = "tool"  # the tool itself (stored, delivered)
    FUNCTIONARY = "functionary"  # someone in the tool's own workspace


#: The statuses in the order a case usually passes them (lists, filters, the API schema).
ORDER: tuple[Status, ...] = tuple(Status)

#: Statuses of a case someone still works on: the reporter may add to it or withdraw it.
OPEN: frozenset[Status] = frozenset({Status.RECEIVED, Status.FORWARDED, Status.IN_REVIEW, Status.NEEDS_INFO})

#: What a desk's state can mean (configurable per destination): never ``received``
#: (the desk has it) nor ``withdrawn`` (only the reporter withdraws).
DESK_STATUSES: frozenset[Status] = frozenset({Status.FORWARDED, Status.IN_REVIEW, Status.NEEDS_INFO,
                                              Status.RESOLVED, Status.DECLINED})

#: The allowed changes. ``received`` only ever becomes ``forwarded`` through
#: delivery (or ``withdrawn``); a finished case can only be reopened
#: (``in-review``); a withdrawn case stays withdrawn whatever its desk does.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.RECEIVED: frozenset({Status.FORWARDED, Status.WITHDRAWN}),
    Status.FORWARDED: frozenset({Status.IN_REVIEW, Status.NEEDS_INFO, Status.RESOLVED, Status.DECLINED,
                                 Status.WITHDRAWN}),
    Status.IN_REVIEW: frozenset({Status.NEEDS_INFO, Status.RESOLVED, Status.DECLINED, Status.WITHDRAWN}),
    Status.NEEDS_INFO: frozenset({Status.IN_REVIEW, Status.RESOLVED, Status.DECLINED, Status.WITHDRAWN}),
    Status.RESOLVED: frozenset({Status.IN_REVIEW}),
    Status.DECLINED: frozenset({Status.IN_REVIEW}),
    Status.WITHDRAWN: frozenset(),
}


def allowed(current: Status | str, new: Status | str) -> bool:
    """Whether a case may go straight from ``current`` to ``new``."""
    return Status(new) in TRANSITIONS[Status(current)]


def path(current: Status | str, target: Status | str) -> list[Status] | None:
    """The statuses a case passes to get from ``current`` to ``target``.

    ``[]`` when it is there already, one step when the change is allowed,
    and two when a finished case is reopened on the way (a desk that moves
    a solved ticket back to "pending" reopens the case, then asks the
    reporter). None when the change is not allowed at all (e.g. anything
    after a withdrawal, or back to ``forwarded``): callers leave the case
    as it is.
    """
    current, target = Status(current), Status(target)
    if current == target:
        return []
    if allowed(current, target):
        return [target]
    if allowed(current, Status.IN_REVIEW) and allowed(Status.IN_REVIEW, target):
        return [Status.IN_REVIEW, target]
    return None


def is_open(status: Status | str) -> bool:
    return Status(status) in OPEN


def can_follow_up(status: Status | str) -> bool:
    """The reporter may add text and links while someone still works on the case."""
    return is_open(status)


def can_withdraw(status: Status | str) -> bool:
    return is_open(status)


def after_reporter_answer(status: Status | str) -> Status:
    """The status a follow-up leaves: an answer to the team's question puts
    the case back in review; otherwise the status does not change."""
    return Status.IN_REVIEW if Status(status) == Status.NEEDS_INFO else Status(status)
