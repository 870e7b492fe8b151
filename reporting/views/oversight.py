"""Trust & Safety's cross-case pages: numbers, the audit log, misuse suspensions.

- ``/queue/stats``: counts of cases by category, wiki, status and ISO week,
  and the median time to the first status change; small counts hidden
  (:mod:`reporting.cases.stats`), no content, no user names.
- ``/queue/audit``: the audit log across cases, filtered by user and dates,
  paginated; older entries only as monthly counts.
- ``/queue/suspensions``: running suspensions from non-emergency reporting
  (:mod:`reporting.cases.misuse`), each listed by the case whose decline
  started it, with a "lift" button (a CSRF-checked POST).

Only the ``trust-and-safety`` role may open them. Everyone else gets what
any other path under ``/queue/`` gives them, like the rest of the
functionaries' workspace: anonymous visitors the login (then back here), a
logged-in user without the role the same 404 as for a page that does not
exist. These pages must not even tell that they exist. The role is read
from the session user on every request, where the login blueprint
refreshes it from meta when due.

Why suspensions show a case and not a name: the tool stores no name for a
suspension (only the keyed hash, like the bar list), and Trust & Safety
need none to decide: the case (in the queue, where they see its reporter)
is where the reason is. The name is only needed to lift a suspension from
the command line, where the operator types it and it is hashed at once.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from functools import wraps
from typing import Any

from babel.dates import format_timedelta
from flask import Blueprint, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from reporting.cases.misuse import WINDOW, MisusePolicy
from reporting.cases.stats import MIN_CELL, median_seconds, suppress
from reporting.cases.statuses import ORDER
from reporting.i18n import babel_locale, current_language
from reporting.identity.roles import TRUST_AND_SAFETY
from reporting.identity.session import SessionUser, current_user, logged_in_user, login_required
from reporting.identity.usernames import canonical_username
from reporting.intake.submission import CATEGORIES
from reporting.storage.audit_review import AuditReview
from reporting.storage.case_stats import CaseStats
from reporting.storage.database import utcnow
from reporting.storage.misuse import MisuseStore

Page = str | tuple[str, int] | Response

#: The periods ``/queue/stats`` offers, in weeks.
STATS_PERIODS = (4, 12, 52)
DEFAULT_STATS_WEEKS = 12


def trust_and_safety_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """The login for anonymous visitors (as every ``/queue/`` path); 404 unless the session user
    has the trust-and-safety role (checked on every request)."""
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if TRUST_AND_SAFETY not in logged_in_user().roles:
            abort(404)
        return view(*args, **kwargs)
    return login_required(wrapper)


def _trust_and_safety_user() -> SessionUser:
    user = current_user()
    assert user is not None  # trust_and_safety_only answered already
    return user


def _parse_day(text: str) -> date | None:
    return date.fromisoformat(text) if len(text) == 10 else None


def _page_number(text: str | None) -> int:
    return int(text) if text and text.isdigit() and 0 < len(text) < 7 and int(text) > 0 else 1


def duration_text(seconds: float) -> str:
    """"3 hours", "2 days" in the user's language (Babel rounds to the largest sensible unit)."""
    return format_timedelta(timedelta(seconds=seconds), granularity="minute", locale=babel_locale(current_language()))


def create_blueprint(audit: AuditReview, stats: CaseStats, misuse: MisuseStore, policy: MisusePolicy) -> Blueprint:
    # Who did what to which case: like every /queue/ page, never cached (views/security.py).
    bp = Blueprint("oversight", __name__)

    @bp.get("/queue/stats")
    @trust_and_safety_only
    def queue_stats() -> Page:
        weeks_text = request.args.get("weeks", "")
        weeks = int(weeks_text) if weeks_text.isdigit() and int(weeks_text) in STATS_PERIODS else DEFAULT_STATS_WEEKS
        figures = stats.figures(utcnow() - timedelta(weeks=weeks))
        median = median_seconds(figures.first_change_seconds)
        tables = [
            ("category", suppress(figures.by_category, list(CATEGORIES))),
            ("wiki", suppress(figures.by_wiki)),
            ("status", suppress(figures.by_status, [str(status) for status in ORDER])),
            ("week", suppress(figures.by_week, sorted(figures.by_week))),
        ]
        return render_template("queue_stats.html", tables=tables, weeks=weeks, periods=STATS_PERIODS,
                               median=duration_text(median) if median is not None else None, min_cell=MIN_CELL)

    @bp.get("/queue/audit")
    @trust_and_safety_only
    def queue_audit() -> Page:
        actor = request.args.get("actor", "").strip()[:100]
        from_text, to_text = request.args.get("from", "").strip(), request.args.get("to", "").strip()
        try:
            since, until = _parse_day(from_text), _parse_day(to_text)
            bad_date = bool(from_text and since is None) or bool(to_text and until is None)
        except ValueError:
            since = until = None
            bad_date = True
        actors = sorted({actor, canonical_username(actor)}) if actor else None
        page = audit.search(actors,
                            datetime.combine(since, time()) if since and not bad_date else None,
                            datetime.combine(until + timedelta(days=1), time()) if until and not bad_date else None,
                            _page_number(request.args.get("page")))
        filters = {key: value for key, value in (("actor", actor), ("from", from_text), ("to", to_text)) if value}
        return render_template("queue_audit.html", page=page, filters=filters, actor=actor, from_text=from_text,
                               to_text=to_text, bad_date=bad_date, summary=audit.summary()), 422 if bad_date else 200

    @bp.get("/queue/suspensions")
    @trust_and_safety_only
    def queue_suspensions() -> Page:
        notice = request.args.get("done")
        return render_template("queue_suspensions.html", suspensions=misuse.running(), policy=policy,
                               window_days=WINDOW.days,
                               notice=notice if notice in ("lifted", "not-running") else None)

    @bp.post("/queue/suspensions/<int:suspension_id>/lift")
    @trust_and_safety_only
    def lift_suspension(suspension_id: int) -> Page:
        lifted = misuse.lift(suspension_id, canonical_username(_trust_and_safety_user().username))
        return redirect(url_for("oversight.queue_suspensions", done="lifted" if lifted else "not-running"), code=303)

    return bp
