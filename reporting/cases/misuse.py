"""Misuse of reporting, the DSA article 23 way: warn first, then suspend for a while, never silence emergencies.

Article 23 of the Digital Services Act lets a platform suspend, "for a
reasonable period of time and after having issued a prior warning", the
processing of notices from someone who "frequently submits notices that
are manifestly unfounded". Here:

- a case counts when a functionary declined it as *manifestly unfounded*
  (the audit entry ``declined-unfounded``, :data:`UNFOUNDED_ACTION`) and it is
  still ``declined`` and was not reopened since: a second look that reopens
  the case takes the mark back;
- only cases declined within the last :data:`WINDOW` (90 days) count, and each
  case counts once however often it was declined;
- ``misuse.warning_after`` (N) such cases: the reporter's next visit shows a
  calm warning (it never says who declined what);
- N + :data:`SUSPEND_AFTER_WARNING` (N+2): reports outside the emergency
  categories are refused for ``misuse.suspension_days`` from the moment the
  tool notices (the reporter's next visit or submission), so the warning
  always had a chance to be seen first; emergency categories stay open,
  because a person in danger must never meet a closed door;
- declines that led to a suspension, or that came before Trust & Safety
  lifted one, never count again (``counted_until`` in storage).

This module is the rule alone (no I/O): :mod:`reporting.storage.misuse`
feeds it the declines and records what it decides.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from reporting.config import Config, Setting, parse_positive_int, register_settings

register_settings(
    Setting("misuse.warning_after", parse_positive_int, 3,
            "Reports declined as manifestly unfounded within 90 days after which the reporter sees a warning; "
            "two more suspend them from non-emergency reporting (DSA article 23; see \"Misuse\")."),
    Setting("misuse.suspension_days", parse_positive_int, 30,
            "Days a suspension from non-emergency reporting lasts (emergency categories stay open)."),
)

#: The audit action a functionary's "declined as manifestly unfounded" writes.
UNFOUNDED_ACTION = "declined-unfounded"
#: Audit actions of the suspension itself (no reporter name in either).
SUSPENDED_ACTION = "reporter-suspended"
LIFTED_ACTION = "suspension-lifted"

#: How far back unfounded declines count.
WINDOW = timedelta(days=90)
#: Declines beyond the warning threshold that suspend.
SUSPEND_AFTER_WARNING = 2


@dataclass(frozen=True)
class MisusePolicy:
    warning_after: int = 3
    suspension_days: int = 30

    @classmethod
    def from_config(cls, config: Config) -> MisusePolicy:
        return cls(warning_after=int(config["misuse.warning_after"]),
                   suspension_days=int(config["misuse.suspension_days"]))

    @property
    def suspend_after(self) -> int:
        return self.warning_after + SUSPEND_AFTER_WARNING

    @property
    def suspension(self) -> timedelta:
        return timedelta(days=self.suspension_days)


@dataclass(frozen=True)
class Decline:
    """One unfounded decline as the audit log holds it."""

    audit_id: int
    report_id: int
    at: datetime


class Verdict(StrEnum):
    CLEAR = "clear"
    WARNED = "warned"
    SUSPENDED = "suspended"


@dataclass(frozen=True)
class Standing:
    """What the rule says about one reporter now."""

    verdict: Verdict
    declines: int = 0
    suspended_until: datetime | None = None

    @property
    def warned(self) -> bool:
        return self.verdict == Verdict.WARNED

    @property
    def suspended(self) -> bool:
        return self.verdict == Verdict.SUSPENDED

    def days_left(self, now: datetime) -> int:
        """Whole days (rounded up, at least 1) until a suspension ends."""
        if self.suspended_until is None:
            return 0
        return max(1, math.ceil((self.suspended_until - now).total_seconds() / 86400))


CLEAR = Standing(Verdict.CLEAR)


def counted(declines: Iterable[Decline], counted_until: datetime | None, now: datetime) -> list[Decline]:
    """The declines that count now, one per case (its latest), oldest first: within
    :data:`WINDOW` and after ``counted_until``."""
    since = now - WINDOW
    if counted_until is not None and counted_until > since:
        since = counted_until
    latest: dict[int, Decline] = {}
    for decline in declines:
        if decline.at > since and decline.at <= now:
            known = latest.get(decline.report_id)
            if known is None or (decline.at, decline.audit_id) > (known.at, known.audit_id):
                latest[decline.report_id] = decline
    return sorted(latest.values(), key=lambda d: (d.at, d.audit_id))


@dataclass(frozen=True)
class Judgement:
    """The verdict on counted declines; ``trigger`` is the decline that reached the
    suspension threshold (the suspension is recorded under it)."""

    standing: Standing
    trigger: Decline | None = None


def judge(declines: list[Decline], policy: MisusePolicy, now: datetime) -> Judgement:
    """``declines`` as :func:`counted` returns them; no suspension is running."""
    count = len(declines)
    if count >= policy.suspend_after:
        return Judgement(Standing(Verdict.SUSPENDED, count, now + policy.suspension),
                         declines[policy.suspend_after - 1])
    if count >= policy.warning_after:
        return Judgement(Standing(Verdict.WARNED, count))
    return Judgement(Standing(Verdict.CLEAR, count))
