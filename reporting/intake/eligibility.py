"""Who may submit a report right now: rate limits and the Trust & Safety bar.

Unlike ReportIncident, blocked users, new accounts and accounts without a
confirmed email may report: they are often the people being harassed. Abuse
is kept in check instead by

- a daily limit per user (``rate_limit.per_day``), stricter for accounts
  younger than a day or without a single edit
  (``rate_limit.new_account_per_day``), counted from the database so every
  web replica sees the same numbers;
- emergencies, which the daily limit never blocks (and which do not use it
  up); past a generous ceiling of their own (``rate_limit.emergency_per_hour``)
  they are still stored and delivered, but by the worker rather than in the
  request, and Trust & Safety is alerted once per reporter and hour;
- a bar list kept by Trust & Safety (``flask --app app reporting bar``),
  holding only keyed hashes of user names;
- a suspension from non-emergency reporting after reports declined as
  manifestly unfounded (:mod:`reporting.cases.misuse`, DSA article 23):
  emergency categories stay open.

The functions return a :class:`Refusal` (or None) that names a message key;
views turn it into a page or an API error.

The decisive check runs inside the report's own transaction, one submission
of a reporter at a time (:func:`admission_check`,
:meth:`reporting.storage.reports.ReportStore.create_checked`): counting in a
transaction of its own let 40 parallel submits with ``per_day=10`` store 14.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from reporting.cases.misuse import Standing
from reporting.config import Config, Setting, parse_positive_int, register_settings
from reporting.identity.usernames import canonical_username
from reporting.storage.bar_list import BarList
from reporting.storage.database import utcnow
from reporting.storage.reports import Admission, AdmissionCheck, ReporterHistory, ReportStore

register_settings(
    Setting("rate_limit.per_day", parse_positive_int, 10,
            "Reports a user may send in 24 hours (emergencies are never limited)."),
    Setting("rate_limit.new_account_per_day", parse_positive_int, 3,
            "Reports in 24 hours for accounts younger than a day or without edits."),
    Setting("rate_limit.emergency_per_hour", parse_positive_int, 10,
            "Emergency reports a user may send in an hour before the ceiling applies. Emergencies are never "
            "refused: those over the ceiling are stored and delivered, but by the worker (after other "
            "reporters' emergencies) instead of at once, and Trust & Safety gets one alert per user and hour "
            "on the ticket of the first one over it."),
)

WINDOW = timedelta(hours=24)
EMERGENCY_WINDOW = timedelta(hours=1)
NEW_ACCOUNT_AGE = timedelta(days=1)
BAR_REASONS = ("abusive-reports", "spam", "impersonation", "other")


@dataclass(frozen=True)
class Refusal:
    """Why a submission is refused: HTTP status, API code, message and its
    parameters, and for rate limits the seconds until the next report fits."""

    status: int
    code: str
    message_key: str
    params: tuple[int, ...] = ()
    retry_after: int | None = None


BARRED = Refusal(403, "barred", "reporting-barred-text")


def suspension_refusal(standing: Standing, now: datetime | None = None) -> Refusal | None:
    """403 ``suspended`` for a non-emergency report while a misuse suspension runs; the message
    says for how many more days and that emergency categories stay open (never who declined what)."""
    if not standing.suspended:
        return None
    return Refusal(403, "suspended", "reporting-suspended-text", (standing.days_left(now or utcnow()),))


class Refused(Exception):
    """A refusal decided while storing: nothing was stored."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.code)
        self.refusal = refusal


def parse_mediawiki_timestamp(value: str | None) -> datetime | None:
    """``20240102030405`` -> naive UTC datetime; None for missing or malformed."""
    try:
        return datetime.strptime(value, "%Y%m%d%H%M%S") if value else None
    except ValueError:
        return None


def is_new_account(registered: str | None, editcount: int | None, now: datetime) -> bool:
    """Younger than a day, or known to have no edit. Very old accounts have no
    registration date and are not new; an unknown edit count is not zero."""
    created = parse_mediawiki_timestamp(registered)
    return (created is not None and now - created < NEW_ACCOUNT_AGE) or editcount == 0


@dataclass(frozen=True)
class RateLimits:
    """Reports per 24 hours: ``per_day``, or ``new_account_per_day`` for new accounts;
    emergencies per hour before the ceiling applies: ``emergency_per_hour``."""

    per_day: int
    new_account_per_day: int
    emergency_per_hour: int = 10

    @classmethod
    def from_config(cls, config: Config) -> RateLimits:
        return cls(per_day=config["rate_limit.per_day"], new_account_per_day=config["rate_limit.new_account_per_day"],
                   emergency_per_hour=config["rate_limit.emergency_per_hour"])

    def daily_limit(self, registered: str | None, editcount: int | None, now: datetime) -> int:
        return self.new_account_per_day if is_new_account(registered, editcount, now) else self.per_day


def seconds_until_allowed(recent: list[datetime], limit: int, now: datetime) -> int | None:
    """None if one more report fits under ``limit`` given the creation times of
    the reports inside the window; else the whole seconds until it does."""
    if len(recent) < limit:
        return None
    ordered = sorted(recent)
    # Once the (len - limit + 1) oldest reports leave the window, one fits again.
    frees_at = ordered[len(ordered) - limit] + WINDOW
    return max(1, math.ceil((frees_at - now).total_seconds()))


def rate_limit_refusal(retry_after: int) -> Refusal:
    """The 429 refusal, worded in minutes below an hour and in hours above."""
    if retry_after < 3600:
        return Refusal(429, "rate-limited", "reporting-rate-limited-minutes",
                       (max(1, math.ceil(retry_after / 60)),), retry_after)
    return Refusal(429, "rate-limited", "reporting-rate-limited-hours",
                   (math.ceil(retry_after / 3600),), retry_after)


def _pre_canonical_bar_name(username: str) -> str:
    """How the bar list spelt names before ``canonical_username`` existed. Frozen: rows hashed
    from this spelling may be stored, and a keyed hash cannot be recomputed from the database."""
    name = " ".join(username.replace("_", " ").split())
    return name[:1].upper() + name[1:]


def _bar_list_names(username: str) -> list[str]:
    """The spellings under which ``username``'s bar may be stored: the canonical one, then the
    old rule's when it differs. They differ only for names with bidi marks, U+180E or an IP
    address (tests/identity/test_usernames.py), which no account has, so a login never needs the
    second look-up; it lets ``unbar`` find such a row by the spelling it was barred under."""
    names = [canonical_username(username)]
    old = _pre_canonical_bar_name(username)
    return names if old in names else [*names, old]


def barred_refusal(bar_list: BarList, username: str) -> Refusal | None:
    return BARRED if any(bar_list.is_barred(name) for name in _bar_list_names(username)) else None


def submission_refusal(bar_list: BarList, reports: ReportStore, limits: RateLimits, username: str,
                       registered: str | None, editcount: int | None, *, emergency: bool,
                       now: datetime | None = None) -> Refusal | None:
    """Why ``username`` may not submit this report now, or None if they may.

    Checked after validation (the category decides whether the report is an
    emergency) and before anything is stored.
    """
    barred = barred_refusal(bar_list, username)
    if barred is not None or emergency:
        return barred
    now = now or utcnow()
    recent = reports.recent_times(username, since=now - WINDOW)
    wait = seconds_until_allowed(recent, limits.daily_limit(registered, editcount, now), now)
    return rate_limit_refusal(wait) if wait is not None else None


def admission_check(limits: RateLimits, registered: str | None, editcount: int | None, *, emergency: bool,
                    now: datetime | None = None) -> AdmissionCheck:
    """The check :meth:`ReportStore.create_checked` runs under the reporter's lock.

    A report over the daily limit raises :class:`Refused` (the same 429 as
    :func:`submission_refusal`); an emergency over the ceiling is admitted
    for the worker to deliver, with an alert unless this reporter's window
    already had one.
    """
    now = now or utcnow()

    def decide(history: ReporterHistory) -> Admission:
        if emergency:
            over = len(history.emergencies) >= limits.emergency_per_hour
            return Admission(deliver_later=over, alert=over and not history.alerted)
        wait = seconds_until_allowed(history.reports, limits.daily_limit(registered, editcount, now), now)
        if wait is not None:
            raise Refused(rate_limit_refusal(wait))
        return Admission()

    return AdmissionCheck(day_since=now - WINDOW, emergency_since=now - EMERGENCY_WINDOW, decide=decide)


def bar(bar_list: BarList, username: str, reason: str) -> bool:
    """Bar ``username`` (any spelling MediaWiki accepts); False if already barred."""
    if reason not in BAR_REASONS:
        raise ValueError(f"unknown reason {reason!r}")
    canonical, *old = _bar_list_names(username)
    if any(bar_list.is_barred(name) for name in old):
        return False
    return bar_list.bar(canonical, reason)


def unbar(bar_list: BarList, username: str) -> bool:
    """Lift the bar; False if ``username`` was not barred."""
    return any([bar_list.unbar(name) for name in _bar_list_names(username)])  # noqa: C419 - every spelling
