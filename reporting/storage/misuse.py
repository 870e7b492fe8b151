"""Suspensions for misuse: the declines the rule counts, and the suspensions it decides.

The rule is :mod:`reporting.cases.misuse`; this store reads its input (a
reporter's unfounded declines, joined from the audit log and the reports by
the reporter's keyed hash) and records its outcome: a suspension row and its
``reporter-suspended`` audit entry, written together, once. Nothing here
holds or logs a reporter's name: callers pass it, it is hashed at once.

Callers pass names in MediaWiki's canonical spelling (the session's user,
or :func:`reporting.identity.usernames.canonical_username` for typed names),
as the reports were stored under.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Engine,
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from reporting.cases.misuse import (
    CLEAR,
    LIFTED_ACTION,
    SUSPENDED_ACTION,
    UNFOUNDED_ACTION,
    WINDOW,
    Decline,
    MisusePolicy,
    Standing,
    Verdict,
    counted,
    judge,
)
from reporting.cases.statuses import Status
from reporting.storage import schema
from reporting.storage.crypto import Sealer
from reporting.storage.database import utcnow
from reporting.storage.login_sessions import flag_sessions_in
from reporting.storage.prepared import PreparedRead
from reporting.storage.records import report_from_row

_suspensions = schema.misuse_suspensions
_audit = schema.audit_log
_reports = schema.reports
_events = schema.case_events


def record_unfounded_in(connection: Connection, sealer: Sealer, report_id: int, actor: str,
                        now: datetime) -> None:
    """Record that ``actor`` declined the case as manifestly unfounded (the audit entry the rule
    counts), inside the decline's transaction, and make the reporter's open sessions look at their
    standing again (:class:`reporting.storage.login_sessions.OpenSession`). The reporter's name comes
    from the sealed report, not its ``reporter_hash``: sessions are found by the name's hashes under
    every configured key, so a rekey between the login and the decline cannot hide one."""
    _record_in(connection, report_id, actor, UNFOUNDED_ACTION, now)
    row = connection.execute(select(_reports).where(_reports.c.id == report_id)).one()
    reporter = report_from_row(sealer, row).reporter.username
    flag_sessions_in(connection, sealer.index_hashes(reporter))


def _record_in(connection: Connection, report_id: int | None, actor: str, action: str, now: datetime,
               detail: str | None = None) -> None:
    """An audit entry under the suspension's case (None only if that report row were ever deleted)."""
    connection.execute(_audit.insert().values(report_id=report_id, at=now, actor=actor[:100], action=action,
                                              detail=detail))


@dataclass(frozen=True)
class Suspension:
    """A running suspension as Trust & Safety see it: the case it came from, never a name."""

    id: int
    ref: str | None
    started_at: datetime
    ends_at: datetime


def _overview() -> Select:
    """One round trip for the common case (most reporters were never declined unfounded): the
    end of a running suspension, where counting starts again, and whether any case of the
    reporter has an unfounded decline in the window at all. Built once, with parameters
    (``hashes``, ``now``, ``since``), and run as a :class:`reporting.storage.prepared.PreparedRead`."""
    hashes: BindParameter[str] = bindparam("hashes", expanding=True)
    mine = _suspensions.c.reporter_hash.in_(hashes)
    running = and_(_suspensions.c.lifted_at.is_(None), _suspensions.c.ends_at > bindparam("now"))
    until = select(func.max(case((running, _suspensions.c.ends_at)))).where(mine).scalar_subquery()
    counted_until = select(func.max(_suspensions.c.counted_until)).where(mine).scalar_subquery()
    declined = exists().select_from(_audit.join(_reports, _reports.c.id == _audit.c.report_id)).where(
        _reports.c.reporter_hash.in_(hashes), _reports.c.status == str(Status.DECLINED),
        _audit.c.action == UNFOUNDED_ACTION, _audit.c.at > bindparam("since"))
    return select(until.label("until"), counted_until.label("counted_until"), declined.label("declined"))


_OVERVIEW = _overview()


class MisuseStore:
    def __init__(self, engine: Engine, sealer: Sealer, policy: MisusePolicy) -> None:
        self.engine = engine
        self.sealer = sealer
        self.policy = policy
        # On every submission, and on pages until their session found the standing clear.
        self._overview = PreparedRead(engine, _OVERVIEW)

    # -- reading -----------------------------------------------------------

    def _declines_in(self, connection: Connection, hashes: list[str], since: datetime) -> list[Decline]:
        """Unfounded declines of the reporter's cases that are still ``declined`` and were not
        reopened after the decline: no later timeline entry in another status (whoever wrote it:
        the workspace, a desk's sync), and no later ``status:in-review`` audit entry (what
        :func:`reporting.storage.case_status.change_status_in` writes; by id, because MariaDB's
        DATETIME keeps whole seconds and a reopen can share the decline's second)."""
        later_other_status = exists().where(_events.c.report_id == _audit.c.report_id, _events.c.at > _audit.c.at,
                                            _events.c.status != str(Status.DECLINED))
        reopens = _audit.alias("reopens")
        later_reopen = exists().where(reopens.c.report_id == _audit.c.report_id, reopens.c.id > _audit.c.id,
                                      reopens.c.action == f"status:{Status.IN_REVIEW}")
        query = (select(_audit.c.id, _audit.c.report_id, _audit.c.at)
                 .select_from(_audit.join(_reports, _reports.c.id == _audit.c.report_id))
                 .where(_reports.c.reporter_hash.in_(hashes), _reports.c.status == str(Status.DECLINED),
                        _audit.c.action == UNFOUNDED_ACTION, _audit.c.at > since, ~later_other_status,
                        ~later_reopen))
        return [Decline(int(row.id), int(row.report_id), row.at) for row in connection.execute(query)]

    def _running_in(self, connection: Connection, hashes: list[str], now: datetime) -> datetime | None:
        return connection.execute(select(func.max(_suspensions.c.ends_at)).where(
            _suspensions.c.reporter_hash.in_(hashes), _suspensions.c.lifted_at.is_(None),
            _suspensions.c.ends_at > now)).scalar()

    def standing(self, username: str, now: datetime | None = None) -> Standing:
        """Whether ``username`` is clear, warned or suspended now; records a suspension the
        first time the declines reach it (with its audit entry, in one transaction)."""
        now = now or utcnow()
        hashes = self.sealer.index_hashes(username)
        overview = self._overview.first({"hashes": hashes, "now": now, "since": now - WINDOW})
        assert overview is not None  # one row of aggregates, always
        until, counted_until, declined = overview
        if until is not None:
            return Standing(Verdict.SUSPENDED, suspended_until=until)
        if not declined:  # nothing to count (the declines below would be none)
            return judge([], self.policy, now).standing
        with self.engine.connect() as connection:
            declines = self._declines_in(connection, hashes, now - WINDOW)
        judgement = judge(counted(declines, counted_until, now), self.policy, now)
        if judgement.trigger is None:
            return judgement.standing
        return self._suspend(hashes, judgement.trigger, judgement.standing, now)

    def _suspend(self, hashes: list[str], trigger: Decline, standing: Standing, now: datetime) -> Standing:
        assert standing.suspended_until is not None
        try:
            with self.engine.begin() as connection:
                connection.execute(_suspensions.insert().values(
                    reporter_hash=hashes[0], report_id=trigger.report_id, trigger_audit_id=trigger.audit_id,
                    started_at=now, ends_at=standing.suspended_until, counted_until=now))
                _record_in(connection, trigger.report_id, "system", SUSPENDED_ACTION, now,
                           f"{self.policy.suspension_days} days")
        except IntegrityError:  # another request recorded the same suspension first
            with self.engine.connect() as connection:
                until = self._running_in(connection, hashes, now)
            return Standing(Verdict.SUSPENDED, suspended_until=until) if until else CLEAR
        return standing

    def running(self, now: datetime | None = None) -> list[Suspension]:
        """Every running suspension, the soonest to end first (Trust & Safety's list)."""
        now = now or utcnow()
        query = (select(_suspensions.c.id, _suspensions.c.started_at, _suspensions.c.ends_at, _reports.c.ref)
                 .select_from(_suspensions.outerjoin(_reports, _reports.c.id == _suspensions.c.report_id))
                 .where(_suspensions.c.lifted_at.is_(None), _suspensions.c.ends_at > now)
                 .order_by(_suspensions.c.ends_at, _suspensions.c.id))
        with self.engine.connect() as connection:
            return [Suspension(int(row.id), row.ref, row.started_at, row.ends_at) for row in connection.execute(query)]

    # -- lifting -----------------------------------------------------------

    def lift(self, suspension_id: int, actor: str, now: datetime | None = None) -> bool:
        """Lift one running suspension (Trust & Safety's page); False if it is not running."""
        return self._lift(_suspensions.c.id == suspension_id, actor, now or utcnow())

    def lift_for(self, username: str, actor: str, now: datetime | None = None) -> bool:
        """Lift ``username``'s suspension (the CLI); one that is due but not yet recorded is
        recorded first, so lifting never leaves a suspension to start at the next visit.
        False if they are not suspended."""
        now = now or utcnow()
        if not self.standing(username, now).suspended:
            return False
        return self._lift(_suspensions.c.reporter_hash.in_(self.sealer.index_hashes(username)), actor, now)

    def _lift(self, which: ColumnElement[bool], actor: str, now: datetime) -> bool:
        """Lifting ends the suspension and moves ``counted_until`` to now, so the declines
        before it cannot suspend again; each lift is audited under the case it came from."""
        with self.engine.begin() as connection:
            rows = connection.execute(select(_suspensions.c.id, _suspensions.c.report_id).where(
                which, _suspensions.c.lifted_at.is_(None), _suspensions.c.ends_at > now)).all()
            for row in rows:
                result = connection.execute(update(_suspensions).where(
                    _suspensions.c.id == row.id, _suspensions.c.lifted_at.is_(None))
                    .values(lifted_at=now, counted_until=now))
                if result.rowcount == 1:
                    _record_in(connection, row.report_id, actor, LIFTED_ACTION, now)
        return bool(rows)

    # -- retention ---------------------------------------------------------

    def purge_ended(self, cutoff: datetime) -> int:
        """Forget suspensions that ended (or were lifted) before ``cutoff``: by then their
        ``counted_until`` is far outside :data:`WINDOW` and they protect nothing."""
        with self.engine.begin() as connection:
            result = connection.execute(_suspensions.delete().where(
                func.coalesce(_suspensions.c.lifted_at, _suspensions.c.ends_at) < cutoff))
        return int(result.rowcount or 0)
