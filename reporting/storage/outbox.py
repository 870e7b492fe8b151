"""The outbox: one row per thing a desk must get, claimed with leases.

Most rows deliver a report (a new ticket); follow-up and withdrawal rows
(``kind``) add a note to the ticket their report's row created, so they wait
until that row is delivered.

A claim is a lease: a claimer that dies leaves rows that become due again
when ``claimed_until`` passes. On MariaDB rows are picked with ``FOR UPDATE
SKIP LOCKED`` so concurrent workers never wait on or take each other's rows;
on SQLite the transaction is ``BEGIN IMMEDIATE``, which serialises claimers.
Each claim reads its reports in the same transaction (one round trip per
statement counts in the worker's turn).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Any, TypedDict

from sqlalchemy import BindParameter, Connection, Engine, Select, and_, bindparam, case, func, or_, select, update

from reporting.cases.statuses import Status
from reporting.storage import schema
from reporting.storage.audit import record_in
from reporting.storage.crypto import Sealer
from reporting.storage.database import skips_locked_rows, utcnow
from reporting.storage.followup_rows import Followup, of_report_in, one_in
from reporting.storage.records import OutboxItem, report_from_row
from reporting.storage.timeline import TimelineEntry, timeline_in

#: How long a claim lasts unless renewed (:class:`reporting.delivery.leases.LeaseKeeper`):
#: short, so a dead worker's rows are delivered again within seconds.
DEFAULT_LEASE = timedelta(seconds=20)


class OutboxState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # the desk refused for good; an operator must act


class OutboxKind(StrEnum):
    REPORT = "report"  # creates the ticket
    FOLLOWUP = "followup"  # adds the reporter's follow-up to it
    WITHDRAWAL = "withdrawal"  # tells the desk the reporter withdrew the case
    ALERT = "alert"  # tells the desk its reporter went over the emergency ceiling (refs and counts only)


@dataclass(frozen=True)
class OutboxEntry:
    """One undelivered row as operators see it: routing facts, no content."""

    ref: str
    state: str
    destination: str
    attempts: int
    last_error: str | None
    created_at: datetime
    claimed_until: datetime | None
    next_attempt_at: datetime
    category: str
    severity: str
    wiki: str
    share_with_functionaries: bool


#: Re-routing: (category, severity, wiki, consented) -> destination.
Reroute = Callable[[str, str, str, bool], str]


class Backlog(TypedDict):
    """What ``/healthz`` shows about undelivered rows."""

    pending: int
    failed: int
    oldest_pending_seconds: float
    pending_emergencies: int
    oldest_pending_emergency_seconds: float


class HealthFigures(TypedDict):
    """What ``/healthz`` judges the delivery by (:mod:`reporting.delivery.health`).

    Ages are seconds, 0 when there is no such row. ``retrying``: pending
    rows whose last attempt failed. ``expired_leases``: pending rows whose
    claim ended without an outcome (their claimer died, and nobody has
    claimed them again yet); ``oldest_expired_lease_seconds`` counts from
    the end of the oldest such lease.
    """

    pending: int
    failed: int
    retrying: int
    oldest_pending_seconds: float
    pending_emergencies: int
    oldest_pending_emergency_seconds: float
    expired_leases: int
    oldest_expired_lease_seconds: float


def enqueue_in(connection: Connection, report_id: int, destination: str, emergency: bool,
               now: datetime) -> None:
    """Add a report's row inside the caller's transaction (the report's own)."""
    connection.execute(schema.outbox.insert().values(
        report_id=report_id, destination=destination, priority=0 if emergency else 1,
        state=OutboxState.PENDING, attempts=0, next_attempt_at=now, created_at=now))


def enqueue_followup_in(connection: Connection, report_id: int, followup_id: int, kind: str, destination: str,
                        emergency: bool, now: datetime) -> None:
    """Add the row of a follow-up or withdrawal inside the caller's transaction."""
    connection.execute(schema.outbox.insert().values(
        report_id=report_id, destination=destination, priority=0 if emergency else 1,
        state=OutboxState.PENDING, attempts=0, next_attempt_at=now, created_at=now, kind=kind,
        followup_id=followup_id))


def enqueue_alert_in(connection: Connection, report_id: int, destination: str, now: datetime) -> None:
    """Add the row that alerts Trust & Safety on the ticket of ``report_id``, the report that
    went over its reporter's emergency ceiling, inside the caller's transaction (the report's own).
    In the normal lane, like that report: it waits for its ticket anyway, and a waiting alert
    must not read as a waiting emergency on ``/healthz``."""
    connection.execute(schema.outbox.insert().values(
        report_id=report_id, destination=destination, priority=1, state=OutboxState.PENDING, attempts=0,
        next_attempt_at=now, created_at=now, kind=OutboxKind.ALERT))


_outbox = schema.outbox


def _claimable(query: Select, now: BindParameter[Any], skip_locked: bool) -> Select:
    query = query.where(_outbox.c.state == OutboxState.PENDING,
                        or_(_outbox.c.claimed_until.is_(None), _outbox.c.claimed_until < now))
    return query.with_for_update(skip_locked=True) if skip_locked else query


_COLUMNS = select(_outbox.c.id, _outbox.c.report_id, _outbox.c.destination, _outbox.c.priority,
                  _outbox.c.attempts, _outbox.c.kind, _outbox.c.followup_id)


def _due_query(skip_locked: bool) -> Select:
    """Due rows, emergencies first (parameters ``p_now``, ``p_limit``)."""
    now: BindParameter[Any] = bindparam("p_now")
    query = (_COLUMNS.where(_outbox.c.next_attempt_at <= now)
             .order_by(_outbox.c.priority, _outbox.c.next_attempt_at, _outbox.c.id).limit(bindparam("p_limit")))
    return _claimable(query, now, skip_locked)


# The report's first pending row: its own, or once that is delivered, its next follow-up's.
_REPORT_ROW = (select(_outbox.c.id).where(_outbox.c.report_id == bindparam("p_report_id"),
                                          _outbox.c.state == OutboxState.PENDING)
               .order_by(_outbox.c.id).limit(1))
# Compare and set on the primary key: the claim succeeds only if nobody holds a live lease.
_LEASE_IF_FREE = (update(_outbox).where(_outbox.c.id == bindparam("p_id"), _outbox.c.state == OutboxState.PENDING,
                                        or_(_outbox.c.claimed_until.is_(None),
                                            _outbox.c.claimed_until < bindparam("p_now")))
                  .values(claimed_until=bindparam("p_until"), attempts=_outbox.c.attempts + 1))
_ONE_ROW = _COLUMNS.where(_outbox.c.id == bindparam("p_id"))


# The worker runs these once or twice per delivery: built once, so SQLAlchemy
# neither rebuilds them nor recomputes their cache keys every time (about a
# tenth of a millisecond per statement). Parameter names start with ``p_``
# because UPDATE and INSERT reserve the column names.
_DUE = {skip_locked: _due_query(skip_locked) for skip_locked in (False, True)}
_LEASE = (update(_outbox).where(_outbox.c.id.in_(bindparam("p_ids", expanding=True)))
          .values(claimed_until=bindparam("p_until"), attempts=_outbox.c.attempts + 1))
_REPORTS = select(schema.reports).where(schema.reports.c.id.in_(bindparam("p_ids", expanding=True)))
_DELIVERED = (update(_outbox).where(_outbox.c.id == bindparam("p_id"))
              .values(state=OutboxState.DELIVERED, delivered_at=bindparam("p_now"), claimed_until=None,
                      ticket_id=bindparam("p_ticket_id"), ticket_number=bindparam("p_ticket_number")))
# Only a received case becomes forwarded: one withdrawn before the desk got it stays withdrawn.
_FORWARDED = (update(schema.reports).where(schema.reports.c.id == bindparam("p_id"),
                                           schema.reports.c.status == Status.RECEIVED)
              .values(status=Status.FORWARDED, updated_at=bindparam("p_now")))
_AUDIT_FORWARDED = schema.audit_log.insert().values(
    report_id=bindparam("p_id"), at=bindparam("p_now"), actor="system", action="forwarded",
    detail=bindparam("p_detail"))


class OutboxStore:
    def __init__(self, engine: Engine, sealer: Sealer) -> None:
        self.engine = engine
        self.sealer = sealer
        self._skip_locked = skips_locked_rows(engine)

    def claim_due(self, now: datetime | None = None, limit: int = 10,
                  lease: timedelta = DEFAULT_LEASE) -> list[OutboxItem]:
        """Claim up to ``limit`` due deliveries, emergencies first."""
        now = now or utcnow()
        return self._claim(_DUE[self._skip_locked], {"p_now": now, "p_limit": limit}, now, lease)

    def claim_report(self, report_id: int, now: datetime | None = None,
                     lease: timedelta = DEFAULT_LEASE) -> OutboxItem | None:
        """Claim the first pending row of ONE report (its own, or a follow-up's once the report's is
        delivered), due or not; None if someone holds it.

        The web process uses this to deliver the report it has just stored,
        and only that one: a request must not spend its time on other
        reporters' backlog. A row under someone else's live lease is left
        alone. The claim is a compare-and-set on the row's key, not ``SKIP
        LOCKED``: on MariaDB that also skips a row another claimer's scan
        locks for an instant, which left a parallel emergency within its
        reporter's ceiling to the worker.
        """
        now = now or utcnow()
        with self.engine.begin() as connection:
            row_id = connection.execute(_REPORT_ROW, {"p_report_id": report_id}).scalar()
            if row_id is None:
                return None
            leased = connection.execute(_LEASE_IF_FREE, {"p_id": row_id, "p_now": now, "p_until": now + lease})
            if leased.rowcount != 1:
                return None
            row = connection.execute(_ONE_ROW, {"p_id": row_id}).one()
            report = connection.execute(_REPORTS, {"p_ids": [report_id]}).one()
        return self._item(row, report, attempts=row.attempts)  # read after the lease counted it

    def _claim(self, query: Select, parameters: dict[str, Any], now: datetime,
               lease: timedelta) -> list[OutboxItem]:
        with self.engine.begin() as connection:
            rows = connection.execute(query, parameters).all()
            if not rows:
                return []
            connection.execute(_LEASE, {"p_ids": [row.id for row in rows], "p_until": now + lease})
            # A separate plain read, not a join in the locking SELECT: that
            # would lock (and skip) rows of ``reports`` too.
            reports = {report.id: report for report in connection.execute(
                _REPORTS, {"p_ids": [row.report_id for row in rows]})}
        return [self._item(row, reports[row.report_id], attempts=row.attempts + 1) for row in rows]

    def _item(self, row: Any, report: Any, attempts: int) -> OutboxItem:
        """A claimed row as its deliverer sees it (``attempts``: this claim's number)."""
        return OutboxItem(id=row.id, report_id=row.report_id, ref=report.ref, destination=row.destination,
                          priority=row.priority, attempts=attempts, kind=row.kind, followup_id=row.followup_id,
                          open_report=partial(report_from_row, self.sealer, report))

    def renew(self, items: list[OutboxItem], lease: timedelta, now: datetime | None = None) -> int:
        """Extend the leases of claims this process still holds; return how many.

        A claim is identified by its row and its attempt number (every claim
        counts one), so a row that has meanwhile been claimed again by
        someone else, or delivered, is left alone.
        """
        until = (now or utcnow()) + lease
        renewed = 0
        with self.engine.begin() as connection:
            for item in items:
                renewed += connection.execute(
                    update(_outbox).where(_outbox.c.id == item.id, _outbox.c.attempts == item.attempts,
                                          _outbox.c.state == OutboxState.PENDING,
                                          _outbox.c.claimed_until.is_not(None))
                    .values(claimed_until=until)).rowcount
        return renewed

    def row_of(self, report_id: int) -> Any | None:
        """The outbox row that delivers a report itself (state, ticket id, attempts), or None."""
        with self.engine.connect() as connection:
            return connection.execute(select(_outbox).where(_outbox.c.report_id == report_id,
                                                            _outbox.c.kind == OutboxKind.REPORT)
                                      .order_by(_outbox.c.id.desc()).limit(1)).first()

    # -- follow-ups and withdrawals --------------------------------------------------

    def ticket_for_followup(self, item: OutboxItem) -> str | None:
        """The ticket a follow-up row adds its note to: the one its report's
        row created (or the ticket that one was merged into), None while the
        report's row is not delivered."""
        desk = schema.desk_tickets
        with self.engine.connect() as connection:
            ticket_id = connection.execute(
                select(_outbox.c.ticket_id).where(_outbox.c.report_id == item.report_id,
                                                  _outbox.c.kind == OutboxKind.REPORT,
                                                  _outbox.c.state == OutboxState.DELIVERED)
                .order_by(_outbox.c.id).limit(1)).scalar()
            if ticket_id is None:
                return None
            followed = connection.execute(select(desk.c.followed_ticket_id)
                                          .where(desk.c.report_id == item.report_id)).scalar()
        return followed or ticket_id

    def alert_facts(self, item: OutboxItem, window: timedelta) -> tuple[int, list[str]]:
        """What an ``alert`` row tells the desk: how many emergency reports its report's
        reporter had sent within ``window`` when it was stored, and the references of
        their emergency reports from then on (never content)."""
        reports = schema.reports
        with self.engine.connect() as connection:
            hash_, created_at = connection.execute(select(reports.c.reporter_hash, reports.c.created_at)
                                                   .where(reports.c.id == item.report_id)).one()
            mine = and_(reports.c.reporter_hash == hash_, reports.c.severity == "emergency")
            count = connection.execute(select(func.count()).where(
                # Ids, not times, say what came before: MariaDB's DATETIME keeps whole seconds.
                mine, reports.c.created_at > created_at - window, reports.c.id <= item.report_id)).scalar()
            refs = list(connection.execute(select(reports.c.ref).where(
                mine, reports.c.created_at > created_at - window).order_by(reports.c.created_at, reports.c.id)
                .limit(100)).scalars())
        return int(count or 0), refs

    def open_followup(self, item: OutboxItem) -> Followup:
        """The follow-up or withdrawal a claimed row delivers, opened."""
        assert item.followup_id is not None, "a report row has no follow-up"
        with self.engine.connect() as connection:
            return one_in(connection, self.sealer, item.ref, item.followup_id)

    def case_record(self, report_id: int, ref: str, created_at: datetime) -> tuple[list[TimelineEntry], list[Followup]]:
        """A case's timeline (without internal entries) and follow-ups, for the desk's report.json."""
        with self.engine.connect() as connection:
            return (timeline_in(connection, self.sealer, ref, report_id, created_at),
                    of_report_in(connection, self.sealer, ref, report_id))

    def defer(self, item: OutboxItem, until: datetime) -> None:
        """Release a claim without counting it as an attempt: the row waits
        for something else (its report's delivery), not for a failing desk."""
        with self.engine.begin() as connection:
            connection.execute(update(_outbox).where(_outbox.c.id == item.id).values(
                claimed_until=None, next_attempt_at=until, attempts=_outbox.c.attempts - 1))

    def mark_followup_delivered(self, item: OutboxItem, ticket_id: str, now: datetime | None = None) -> None:
        """Record that the desk has the follow-up or withdrawal (the case's status is not touched)."""
        now = now or utcnow()
        with self.engine.begin() as connection:
            connection.execute(update(_outbox).where(_outbox.c.id == item.id).values(
                state=OutboxState.DELIVERED, delivered_at=now, claimed_until=None, ticket_id=ticket_id[:100]))
            record_in(connection, item.report_id, "system", f"{item.kind}-delivered", now=now)

    def mark_delivered(self, item: OutboxItem, ticket_id: str, ticket_number: str | None,
                       now: datetime | None = None) -> None:
        """Record the desk's ticket and move the report to ``forwarded``, atomically."""
        now = now or utcnow()
        with self.engine.begin() as connection:
            connection.execute(_DELIVERED, {"p_id": item.id, "p_now": now, "p_ticket_id": ticket_id[:100],
                                            "p_ticket_number": (ticket_number or None) and ticket_number[:100]})
            connection.execute(_FORWARDED, {"p_id": item.report_id, "p_now": now})
            connection.execute(_AUDIT_FORWARDED, {"p_id": item.report_id, "p_now": now,
                                                  "p_detail": f"ticket {ticket_number or ticket_id}"[:500]})

    def mark_retry(self, item: OutboxItem, error: str, next_attempt_at: datetime) -> None:
        """Release the claim and schedule the next attempt. ``error`` MUST NOT
        contain report content (connectors' messages name desks and codes)."""
        with self.engine.begin() as connection:
            connection.execute(update(_outbox).where(_outbox.c.id == item.id).values(
                claimed_until=None, next_attempt_at=next_attempt_at, last_error=error[:500]))

    def mark_failed(self, item: OutboxItem, error: str, now: datetime | None = None) -> None:
        """Stop retrying: the desk refused permanently; an operator must act."""
        with self.engine.begin() as connection:
            connection.execute(update(_outbox).where(_outbox.c.id == item.id).values(
                state=OutboxState.FAILED, claimed_until=None, last_error=error[:500]))
            record_in(connection, item.report_id, "system", "delivery-failed", error, now)

    def backlog(self, now: datetime | None = None) -> Backlog:
        """Undelivered rows and the oldest one's age, for ``/healthz``."""
        now = now or utcnow()
        pending_rows = _outbox.c.state == OutboxState.PENDING
        with self.engine.connect() as connection:
            pending, oldest = connection.execute(
                select(func.count(), func.min(_outbox.c.created_at)).where(pending_rows)).one()
            failed = connection.execute(select(func.count()).where(_outbox.c.state == OutboxState.FAILED)).scalar()
            emergencies, oldest_emergency = connection.execute(
                select(func.count(), func.min(_outbox.c.created_at))
                .where(pending_rows, _outbox.c.priority == 0)).one()

        def age(since: datetime | None) -> float:
            return round((now - since).total_seconds(), 1) if since is not None else 0.0

        return {"pending": int(pending), "failed": int(failed or 0), "oldest_pending_seconds": age(oldest),
                "pending_emergencies": int(emergencies),
                "oldest_pending_emergency_seconds": age(oldest_emergency)}

    def entries(self) -> list[OutboxEntry]:
        """Every row not delivered yet (pending, claimed or failed), oldest first."""
        reports = schema.reports
        query = (select(reports.c.ref, _outbox.c.state, _outbox.c.destination, _outbox.c.attempts,
                        _outbox.c.last_error, _outbox.c.created_at, _outbox.c.claimed_until,
                        _outbox.c.next_attempt_at, reports.c.category, reports.c.severity, reports.c.wiki,
                        reports.c.share_with_functionaries)
                 .join(reports, reports.c.id == _outbox.c.report_id)
                 .where(_outbox.c.state != OutboxState.DELIVERED).order_by(_outbox.c.created_at, _outbox.c.id))
        with self.engine.connect() as connection:
            return [OutboxEntry(**row._mapping) for row in connection.execute(query)]

    def requeue(self, refs: Sequence[str] = (), failed: bool = False, reroute: Reroute | None = None,
                now: datetime | None = None) -> list[tuple[OutboxEntry, str]]:
        """Make rows due now again: those of ``refs`` and, with ``failed``, every failed row.

        With ``reroute``, each row's destination is chosen again from the
        report's routing facts (after a desk address was fixed, say). Rows
        leased by a delivery in flight are left alone. Returns each requeued
        entry with its (possibly new) destination; each gets an audit entry.
        """
        now = now or utcnow()
        wanted = set(refs)
        chosen = [entry for entry in self.entries()
                  if (entry.ref in wanted or (failed and entry.state == OutboxState.FAILED))
                  and not (entry.claimed_until is not None and entry.claimed_until > now)]
        done = []
        reports = schema.reports
        for entry in chosen:
            destination = entry.destination
            if reroute is not None:
                destination = reroute(entry.category, entry.severity, entry.wiki, entry.share_with_functionaries)
            with self.engine.begin() as connection:
                report_id = connection.execute(select(reports.c.id).where(reports.c.ref == entry.ref)).scalar_one()
                connection.execute(update(_outbox).where(_outbox.c.report_id == report_id,
                                                         _outbox.c.state != OutboxState.DELIVERED)
                                   .values(state=OutboxState.PENDING, next_attempt_at=now, claimed_until=None,
                                           destination=destination))
                record_in(connection, report_id, "operator", "requeued",
                          "rerouted" if destination != entry.destination else None, now)
            done.append((entry, destination))
        return done

    def health_figures(self, now: datetime | None = None) -> HealthFigures:
        """The figures of :class:`HealthFigures`, in ONE statement (one round trip,
        so a health check is as short as the database allows)."""
        now = now or utcnow()
        pending = _outbox.c.state == OutboxState.PENDING
        emergency = and_(pending, _outbox.c.priority == 0)
        expired = and_(pending, _outbox.c.claimed_until.is_not(None), _outbox.c.claimed_until < now)
        query = select(
            func.count(case((pending, 1))), func.count(case((_outbox.c.state == OutboxState.FAILED, 1))),
            func.count(case((and_(pending, _outbox.c.last_error.is_not(None)), 1))),
            func.min(case((pending, _outbox.c.created_at))),
            func.count(case((emergency, 1))), func.min(case((emergency, _outbox.c.created_at))),
            func.count(case((expired, 1))), func.min(case((expired, _outbox.c.claimed_until))),
        ).where(_outbox.c.state.in_([OutboxState.PENDING, OutboxState.FAILED]))
        with self.engine.connect() as connection:
            (pending_count, failed, retrying, oldest, emergencies, oldest_emergency, expired_count,
             oldest_expired) = connection.execute(query).one()

        def age(since: datetime | None) -> float:
            return max(0.0, round((now - since).total_seconds(), 1)) if since is not None else 0.0

        return {"pending": int(pending_count), "failed": int(failed), "retrying": int(retrying),
                "oldest_pending_seconds": age(oldest), "pending_emergencies": int(emergencies),
                "oldest_pending_emergency_seconds": age(oldest_emergency), "expired_leases": int(expired_count),
                "oldest_expired_lease_seconds": age(oldest_expired)}

    def rows(self) -> Iterator[Any]:
        """Every outbox row (tests and operators)."""
        with self.engine.connect() as connection:
            yield from connection.execute(select(_outbox).order_by(_outbox.c.id))
