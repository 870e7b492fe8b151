"""All database I/O: reports, their outbox rows, the audit log, the bar list.

One class, :class:`Store`, so that views, the worker and CLI commands never
write SQL of their own. It seals what the reporter typed before it reaches
SQLAlchemy and opens it only for callers that asked for one report.

SQLite (the embedded default) and MariaDB (ToolsDB) are both first-class:
the test suite runs the same store tests on each.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from functools import partial
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator

from sqlalchemy import Engine, Select, bindparam, create_engine, delete, event, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.engine import make_url

from reporting.storage import schema
from reporting.storage.crypto import Sealer
from reporting.storage.migrations import migrate
from reporting.intake.submission import Submission

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    """Naive UTC, the form both databases store without surprises."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dataclass(frozen=True)
class Reporter:
    """The reporter as OAuth (or the dev login) described them; kept sealed."""

    username: str
    central_id: int | None = None
    blocked: bool = False
    editcount: int | None = None
    registered: str | None = None
    confirmed_email: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(Reporter)}


@dataclass(frozen=True)
class ReportSummary:
    """What "My reports" lists: no content, so listing needs no decryption."""

    ref: str
    created_at: datetime
    updated_at: datetime
    wiki: str
    category: str
    severity: str
    status: str


@dataclass(frozen=True)
class Report:
    """One report with its opened (decrypted) content."""

    id: int
    summary: ReportSummary
    share_with_functionaries: bool
    reporter_lang: str
    reporter: Reporter
    reported_users: tuple[str, ...]
    evidence: tuple[str, ...]
    description: str
    evidence_facts: tuple[dict, ...] = ()
    evidence_state: str = "none"
    purged: bool = False

    def __getattr__(self, name: str) -> Any:
        # ref, wiki, category, ... read through to the summary.
        return getattr(self.summary, name)


@dataclass(frozen=True)
class OutboxItem:
    """A claimed delivery: the worker owns it until ``claimed_until``."""

    id: int
    report_id: int
    ref: str
    destination: str
    priority: int
    attempts: int


def make_engine(url: str) -> Engine:
    """An engine with the settings each backend needs for the outbox to be safe."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()
            # Let SQLAlchemy's BEGIN be a write-intent BEGIN IMMEDIATE, so two
            # workers never both read a row as unclaimed.
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection):  # pragma: no cover - trivial
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if parsed.get_backend_name() in ("mysql", "mariadb"):
        query = dict(parsed.query)
        query.setdefault("charset", "utf8mb4")
        return create_engine(
            parsed.set(query=query),
            pool_pre_ping=True,
            pool_recycle=280,  # ToolsDB closes idle connections
            isolation_level="READ COMMITTED",
        )
    raise ValueError(f"unsupported database backend {parsed.get_backend_name()!r}")


def _due_query(skip_locked: bool) -> Select:
    """Due outbox rows, emergencies first (parameters ``p_now``, ``p_limit``)."""
    outbox = schema.outbox
    now = bindparam("p_now")
    query = (select(outbox.c.id, outbox.c.report_id, outbox.c.destination, outbox.c.priority, outbox.c.attempts)
             .where(outbox.c.state == "pending", outbox.c.next_attempt_at <= now,
                    or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < now))
             .order_by(outbox.c.priority, outbox.c.next_attempt_at, outbox.c.id).limit(bindparam("p_limit")))
    return query.with_for_update(skip_locked=True) if skip_locked else query


# The worker runs these once or twice per delivery: built once, so SQLAlchemy
# neither rebuilds them nor recomputes their cache keys every time (about a
# tenth of a millisecond per statement). Parameter names start with ``p_``
# because UPDATE and INSERT reserve the column names.
_DUE = {skip_locked: _due_query(skip_locked) for skip_locked in (False, True)}
_LEASE = (update(schema.outbox).where(schema.outbox.c.id.in_(bindparam("p_ids", expanding=True)))
          .values(claimed_until=bindparam("p_until"), attempts=schema.outbox.c.attempts + 1))
_REFS = select(schema.reports.c.id, schema.reports.c.ref).where(
    schema.reports.c.id.in_(bindparam("p_ids", expanding=True)))
_REPORTS = select(schema.reports).where(schema.reports.c.id.in_(bindparam("p_ids", expanding=True)))
_DELIVERED = (update(schema.outbox).where(schema.outbox.c.id == bindparam("p_id"))
              .values(state="delivered", delivered_at=bindparam("p_now"), claimed_until=None,
                      ticket_id=bindparam("p_ticket_id"), ticket_number=bindparam("p_ticket_number")))
_FORWARDED = (update(schema.reports).where(schema.reports.c.id == bindparam("p_id"))
              .values(status="forwarded", updated_at=bindparam("p_now")))
_AUDIT_FORWARDED = schema.audit_log.insert().values(
    report_id=bindparam("p_id"), at=bindparam("p_now"), actor="system", action="forwarded",
    detail=bindparam("p_detail"))


class Store:
    """Reports, outbox, audit log and bar list on one database."""

    def __init__(self, engine: Engine, sealer: Sealer) -> None:
        self.engine = engine
        self.sealer = sealer
        self._skip_locked = engine.dialect.name in ("mysql", "mariadb")

    @classmethod
    def from_url(cls, url: str, sealer: Sealer) -> "Store":
        return cls(make_engine(url), sealer)

    def migrate(self) -> int:
        return migrate(self.engine)

    # -- reports ---------------------------------------------------------

    def create_report(
        self,
        ref: str,
        submission: Submission,
        reporter: Reporter,
        reporter_lang: str,
        destination: str,
        now: datetime | None = None,
    ) -> int:
        """Write the report and its outbox row in ONE transaction.

        Either both exist or neither does: a report is never stored without
        the row that makes the worker deliver it.
        """
        now = now or utcnow()
        sealed = self.sealer.seal({**submission.sealed_fields(), "reporter": reporter.as_dict(),
                                   "evidence_facts": []}, ref)
        with self.engine.begin() as connection:
            report_id = connection.execute(schema.reports.insert().values(
                ref=ref,
                created_at=now,
                updated_at=now,
                wiki=submission.wiki,
                category=submission.category,
                severity=submission.severity,
                status="received",
                share_with_functionaries=submission.share_with_functionaries,
                reporter_hash=self.sealer.index_hash(reporter.username),
                reporter_lang=reporter_lang,
                sealed=sealed,
                # Links are resolved after the report is safe; until then the
                # worker may pick them up (e.g. if this process dies).
                evidence_state="pending" if submission.evidence else "none",
                evidence_attempts=0,
                evidence_next_at=now if submission.evidence else None,
            )).inserted_primary_key[0]
            connection.execute(schema.outbox.insert().values(
                report_id=report_id,
                destination=destination,
                priority=0 if submission.severity == "emergency" else 1,
                state="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            ))
            connection.execute(schema.audit_log.insert().values(
                report_id=report_id, at=now, actor="reporter", action="submitted", detail=None))
        return int(report_id)

    def _summary(self, row: Any) -> ReportSummary:
        return ReportSummary(
            ref=row.ref, created_at=row.created_at, updated_at=row.updated_at, wiki=row.wiki,
            category=row.category, severity=row.severity, status=row.status)

    def _open(self, row: Any) -> Report:
        content = self.sealer.open(row.sealed, row.ref)
        return Report(
            id=int(row.id),
            summary=self._summary(row),
            share_with_functionaries=bool(row.share_with_functionaries),
            reporter_lang=row.reporter_lang,
            reporter=Reporter(**content["reporter"]),
            reported_users=tuple(content["reported_users"]),
            evidence=tuple(content["evidence"]),
            description=content["description"],
            evidence_facts=tuple(content.get("evidence_facts", ())),
            evidence_state=row.evidence_state,
            purged=row.purged_at is not None,
        )

    def list_reports_of(self, username: str) -> list[ReportSummary]:
        """The reporter's own reports, newest first."""
        table = schema.reports
        query = (select(table.c.ref, table.c.created_at, table.c.updated_at, table.c.wiki,
                        table.c.category, table.c.severity, table.c.status)
                 .where(table.c.reporter_hash.in_(self.sealer.index_hashes(username)))
                 .order_by(table.c.created_at.desc(), table.c.id.desc()))
        with self.engine.connect() as connection:
            return [self._summary(row) for row in connection.execute(query)]

    def report_of(self, ref: str, username: str) -> Report | None:
        """The report ``ref`` if ``username`` filed it, else None.

        Callers MUST answer "not found" for None whatever the reason, so
        that nobody can learn whether someone else's reference exists.
        """
        table = schema.reports
        query = select(table).where(
            table.c.ref == ref, table.c.reporter_hash.in_(self.sealer.index_hashes(username)))
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return self._open(row) if row is not None else None

    def recent_report_times(self, username: str, since: datetime) -> list[datetime]:
        """Creation times of ``username``'s non-emergency reports since ``since``,
        oldest first: what the daily rate limit counts (emergencies never count)."""
        table = schema.reports
        query = (select(table.c.created_at)
                 .where(table.c.reporter_hash.in_(self.sealer.index_hashes(username)),
                        table.c.created_at >= since, table.c.severity != "emergency")
                 .order_by(table.c.created_at))
        with self.engine.connect() as connection:
            return list(connection.execute(query).scalars())

    def report_by_id(self, report_id: int) -> Report:
        """For the delivery worker, which acts for the tool, not for a user."""
        with self.engine.connect() as connection:
            row = connection.execute(select(schema.reports).where(schema.reports.c.id == report_id)).one()
        return self._open(row)

    def audit(self, report_id: int, actor: str, action: str, detail: str | None = None) -> None:
        """Record an event; ``detail`` MUST NOT hold report content."""
        with self.engine.begin() as connection:
            connection.execute(schema.audit_log.insert().values(
                report_id=report_id, at=utcnow(), actor=actor, action=action[:40],
                detail=detail[:500] if detail else None))

    def audit_trail(self, report_id: int) -> list[tuple[datetime, str, str]]:
        table = schema.audit_log
        with self.engine.connect() as connection:
            rows = connection.execute(select(table.c.at, table.c.actor, table.c.action)
                                      .where(table.c.report_id == report_id).order_by(table.c.id))
            return [(row.at, row.actor, row.action) for row in rows]

    # -- users barred from reporting ----------------------------------------

    def bar_user(self, username: str, reason: str, now: datetime | None = None) -> bool:
        """Add ``username`` (exact MediaWiki spelling) to the bar list; False if
        it was already there (under any configured key)."""
        if self.is_barred(username):
            return False
        try:
            with self.engine.begin() as connection:
                connection.execute(schema.barred_users.insert().values(
                    username_hash=self.sealer.index_hash(username), created_at=now or utcnow(),
                    reason=reason))
        except IntegrityError:  # barred concurrently
            return False
        return True

    def unbar_user(self, username: str) -> bool:
        """Remove ``username`` from the bar list; False if it was not there."""
        table = schema.barred_users
        with self.engine.begin() as connection:
            result = connection.execute(
                delete(table).where(table.c.username_hash.in_(self.sealer.index_hashes(username))))
        return result.rowcount > 0

    def is_barred(self, username: str) -> bool:
        table = schema.barred_users
        with self.engine.connect() as connection:
            return connection.execute(select(func.count()).where(
                table.c.username_hash.in_(self.sealer.index_hashes(username)))).scalar() > 0

    def count_barred(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(schema.barred_users)).scalar())

    # -- outbox ----------------------------------------------------------

    def claim_due(self, now: datetime | None = None, limit: int = 10,
                  lease: timedelta = timedelta(minutes=5)) -> list[OutboxItem]:
        """Claim up to ``limit`` due deliveries, emergencies first.

        A claim is a lease: a worker that dies leaves rows that become due
        again when ``claimed_until`` passes. On MariaDB rows are picked with
        ``FOR UPDATE SKIP LOCKED`` so concurrent workers never wait on or take
        each other's rows; on SQLite the transaction is ``BEGIN IMMEDIATE``,
        which serialises claimers.
        """
        return [item for item, _ in self._claim_due(now, limit, lease, whole_reports=False)]

    def claim_due_with_reports(self, now: datetime | None = None, limit: int = 10,
                               lease: timedelta = timedelta(minutes=5)
                               ) -> list[tuple[OutboxItem, Callable[[], Report]]]:
        """:meth:`claim_due`, each claimed row with its report read in the same
        transaction, so a delivery needs no transaction of its own to read it
        (the worker's turn: one database round trip per statement counts).

        The report is opened (decrypted) only when its callable is called:
        a report that cannot be opened then fails inside the delivery, which
        retries it like any other failure, instead of failing the claim.
        """
        return [(item, partial(self._open, row))
                for item, row in self._claim_due(now, limit, lease, whole_reports=True)]

    def _claim_due(self, now: datetime | None, limit: int, lease: timedelta,
                   whole_reports: bool) -> list[tuple[OutboxItem, Any]]:
        """Claimed items with their reports' rows (all columns, or only id and ref)."""
        now = now or utcnow()
        with self.engine.begin() as connection:
            rows = connection.execute(_DUE[self._skip_locked], {"p_now": now, "p_limit": limit}).all()
            if not rows:
                return []
            connection.execute(_LEASE, {"p_ids": [row.id for row in rows], "p_until": now + lease})
            # A separate plain read, not a join in the locking SELECT: that
            # would lock (and skip) rows of ``reports`` too.
            report_rows = {report.id: report for report in connection.execute(
                _REPORTS if whole_reports else _REFS, {"p_ids": [row.report_id for row in rows]})}
        return [(OutboxItem(id=row.id, report_id=row.report_id, ref=report_rows[row.report_id].ref,
                            destination=row.destination, priority=row.priority, attempts=row.attempts + 1),
                 report_rows[row.report_id])
                for row in rows]

    def claim_report(self, report_id: int, now: datetime | None = None,
                     lease: timedelta = timedelta(minutes=5)) -> OutboxItem | None:
        """Claim the pending outbox row of ONE report, or None if it is not claimable.

        The web process uses this to deliver the report it has just stored,
        and only that one: a request must not spend its time on other
        reporters' backlog. The row is leased exactly like :meth:`claim_due`,
        so a worker never delivers it at the same time; a row leased by
        someone else is skipped, not waited for (``SKIP LOCKED`` on MariaDB).
        """
        now = now or utcnow()
        outbox, reports = schema.outbox, schema.reports
        query = (select(outbox.c.id, outbox.c.report_id, outbox.c.destination, outbox.c.priority,
                        outbox.c.attempts)
                 .where(outbox.c.report_id == report_id, outbox.c.state == "pending",
                        or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < now))
                 .order_by(outbox.c.id).limit(1))
        if self._skip_locked:
            query = query.with_for_update(skip_locked=True)
        with self.engine.begin() as connection:
            row = connection.execute(query).first()
            if row is None:
                return None
            connection.execute(update(outbox).where(outbox.c.id == row.id).values(
                claimed_until=now + lease, attempts=outbox.c.attempts + 1))
            ref = connection.execute(select(reports.c.ref).where(reports.c.id == row.report_id)).scalar_one()
        return OutboxItem(id=row.id, report_id=row.report_id, ref=ref, destination=row.destination,
                          priority=row.priority, attempts=row.attempts + 1)

    def outbox_row_of(self, report_id: int) -> Any | None:
        """The outbox row of a report (state, ticket id, attempts), or None."""
        with self.engine.connect() as connection:
            return connection.execute(select(schema.outbox).where(schema.outbox.c.report_id == report_id)
                                      .order_by(schema.outbox.c.id.desc()).limit(1)).first()

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
            connection.execute(update(schema.outbox).where(schema.outbox.c.id == item.id).values(
                claimed_until=None, next_attempt_at=next_attempt_at, last_error=error[:500]))

    def mark_failed(self, item: OutboxItem, error: str, now: datetime | None = None) -> None:
        """Stop retrying: the desk refused permanently; an operator must act."""
        now = now or utcnow()
        with self.engine.begin() as connection:
            connection.execute(update(schema.outbox).where(schema.outbox.c.id == item.id).values(
                state="failed", claimed_until=None, last_error=error[:500]))
            connection.execute(schema.audit_log.insert().values(
                report_id=item.report_id, at=now, actor="system", action="delivery-failed", detail=error[:500]))

    def backlog(self, now: datetime | None = None) -> dict[str, Any]:
        """Counts for ``/healthz``: undelivered rows and the oldest one's age."""
        now = now or utcnow()
        outbox = schema.outbox
        with self.engine.connect() as connection:
            pending, oldest = connection.execute(
                select(func.count(), func.min(outbox.c.created_at)).where(outbox.c.state == "pending")).one()
            failed = connection.execute(select(func.count()).where(outbox.c.state == "failed")).scalar()
            emergencies, oldest_emergency = connection.execute(
                select(func.count(), func.min(outbox.c.created_at))
                .where(outbox.c.state == "pending", outbox.c.priority == 0)).one()
        age = (now - oldest).total_seconds() if oldest is not None else 0.0
        emergency_age = (now - oldest_emergency).total_seconds() if oldest_emergency is not None else 0.0
        return {"pending": int(pending), "failed": int(failed or 0), "oldest_pending_seconds": round(age, 1),
                "pending_emergencies": int(emergencies),
                "oldest_pending_emergency_seconds": round(emergency_age, 1)}

    # -- evidence facts and retention -------------------------------------

    def _reseal(self, connection: Any, report_id: int, change: Callable[[dict], dict]) -> None:
        """Open a report's content, change it, seal it again (inside ``connection``'s transaction)."""
        row = connection.execute(select(schema.reports.c.ref, schema.reports.c.sealed)
                                 .where(schema.reports.c.id == report_id)).one()
        content = change(self.sealer.open(row.sealed, row.ref))
        connection.execute(update(schema.reports).where(schema.reports.c.id == report_id)
                           .values(sealed=self.sealer.seal(content, row.ref)))

    def save_evidence_facts(self, report_id: int, facts: list[dict], state: str,
                            next_attempt_at: datetime | None, now: datetime | None = None) -> None:
        """Store what the wikis said about the evidence (sealed like the rest)."""
        now = now or utcnow()
        with self.engine.begin() as connection:
            self._reseal(connection, report_id, lambda content: {**content, "evidence_facts": facts})
            connection.execute(update(schema.reports).where(schema.reports.c.id == report_id).values(
                evidence_state=state, evidence_next_at=next_attempt_at,
                evidence_attempts=schema.reports.c.evidence_attempts + 1))
            connection.execute(schema.audit_log.insert().values(
                report_id=report_id, at=now, actor="system", action=f"evidence:{state}", detail=None))

    def claim_pending_evidence(self, now: datetime | None = None, limit: int = 10,
                               lease: timedelta = timedelta(minutes=10)) -> list[tuple[int, int]]:
        """Claim reports whose links are due for another try: (report id, attempts so far).

        Like outbox claims, a claim is a lease (``evidence_next_at`` moves
        past it), so several worker processes never resolve the same report
        at once, and a dead worker's claim simply comes due again.
        """
        now = now or utcnow()
        table = schema.reports
        query = (select(table.c.id, table.c.evidence_attempts)
                 .where(table.c.evidence_state == "pending", table.c.evidence_next_at <= now,
                        table.c.purged_at.is_(None))
                 .order_by(table.c.evidence_next_at).limit(limit))
        if self._skip_locked:
            query = query.with_for_update(skip_locked=True)
        with self.engine.begin() as connection:
            rows = connection.execute(query).all()
            if rows:
                connection.execute(update(table).where(table.c.id.in_([row.id for row in rows]))
                                   .values(evidence_next_at=now + lease))
        return [(int(row.id), int(row.evidence_attempts)) for row in rows]

    def purge_expired(self, cutoff: datetime, now: datetime | None = None) -> int:
        """Wipe the sealed content of forwarded reports untouched since ``cutoff``.

        Only reports the desk has (status ``forwarded``, no pending outbox
        row) are purged: retention never destroys a report nobody has seen.
        The case itself stays (reference, category, status) so its reporter
        still finds it, marked as purged.
        """
        now = now or utcnow()
        reports, outbox = schema.reports, schema.outbox
        undelivered = select(outbox.c.report_id).where(outbox.c.state != "delivered")
        query = select(reports.c.id).where(
            reports.c.status == "forwarded", reports.c.updated_at < cutoff, reports.c.purged_at.is_(None),
            reports.c.id.not_in(undelivered))
        emptied = {"reported_users": [], "evidence": [], "description": "", "evidence_facts": [],
                   "reporter": {"username": ""}}
        purged = 0
        with self.engine.connect() as connection:
            ids = [int(row.id) for row in connection.execute(query)]
        for report_id in ids:
            with self.engine.begin() as connection:
                self._reseal(connection, report_id, lambda content: dict(emptied))
                connection.execute(update(reports).where(reports.c.id == report_id).values(
                    purged_at=now, evidence_state="none", evidence_next_at=None))
                connection.execute(schema.audit_log.insert().values(
                    report_id=report_id, at=now, actor="system", action="purged", detail=None))
            purged += 1
        return purged

    # -- wiki registry ---------------------------------------------------

    def save_wiki_registry(self, data: str, now: datetime | None = None) -> None:
        """Replace the stored sitematrix (one row) in one transaction."""
        table = schema.wiki_registry
        with self.engine.begin() as connection:
            connection.execute(table.delete())
            connection.execute(table.insert().values(id=1, fetched_at=now or utcnow(), data=data))

    def load_wiki_registry(self) -> str | None:
        with self.engine.connect() as connection:
            return connection.execute(select(schema.wiki_registry.c.data)).scalar()

    def wiki_registry_age(self, now: datetime | None = None) -> float | None:
        """Seconds since the last sitematrix refresh, None if never."""
        with self.engine.connect() as connection:
            fetched = connection.execute(select(schema.wiki_registry.c.fetched_at)).scalar()
        return None if fetched is None else ((now or utcnow()) - fetched).total_seconds()

    def ping(self) -> bool:
        with self.engine.connect() as connection:
            return connection.execute(select(1)).scalar() == 1

    def iter_outbox(self) -> Iterator[Any]:
        """Every outbox row (tests and the operator CLI)."""
        with self.engine.connect() as connection:
            yield from connection.execute(select(schema.outbox).order_by(schema.outbox.c.id))
