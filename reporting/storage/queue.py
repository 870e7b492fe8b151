"""The functionaries' queue: the cases a user may see, and what the workspace writes.

Listing reads only the clear-text routing columns of ``reports`` (and the
destination of its outbox row): nothing is decrypted for a list. Which rows
a user may see is decided by the grants of :mod:`reporting.cases.access`,
turned into SQL here (:func:`visible`), so the list and the case view ask
the very same question. Every action writes its audit entry in the same
transaction (:mod:`reporting.storage.audit`): who (the functionary's
canonical user name), what kind of action, which case; never content.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, Engine, and_, case, false, func, or_, select, true, update

from reporting.cases.access import Grant
from reporting.cases.statuses import Source, Status
from reporting.storage import schema
from reporting.storage.audit import record_in
from reporting.storage.case_status import StatusConflict, change_status_in
from reporting.storage.crypto import Sealer
from reporting.storage.database import utcnow
from reporting.storage.followup_rows import Followup, of_report_in
from reporting.storage.misuse import record_unfounded_in
from reporting.storage.records import Report, report_from_row
from reporting.storage.timeline import Kind, TimelineEntry, add_in, timeline_in

_reports = schema.reports
_outbox = schema.outbox

PAGE_SIZE = 50
#: Age filters: created within the last day/week/month, or earlier than a month ago.
AGES: dict[str, tuple[timedelta, bool]] = {
    "day": (timedelta(days=1), True), "week": (timedelta(days=7), True),
    "month": (timedelta(days=30), True), "older": (timedelta(days=30), False),
}


class Audit:
    """The audited actions of the workspace (``audit_log.action``)."""

    VIEWED = "case-viewed"
    STATUS_CHANGED = "status-changed"
    MESSAGE_SENT = "message-sent"
    NOTE_ADDED = "note-added"
    ASSIGNED = "assigned"
    UNASSIGNED = "unassigned"
    DECLINED_UNFOUNDED = "declined-unfounded"


def visible(grants: Sequence[Grant]) -> ColumnElement[bool]:
    """The rows ``grants`` open, as a WHERE clause (false for no grant)."""
    clauses: list[ColumnElement[bool]] = []
    for grant in grants:
        parts: list[ColumnElement[bool]] = []
        if grant.wiki is not None:
            parts.append(_reports.c.wiki == grant.wiki)
        if grant.consent:
            parts.append(_reports.c.share_with_functionaries.is_(True))
        if grant.excluded:
            parts.append(_reports.c.category.not_in(sorted(grant.excluded)))
        clauses.append(and_(true(), *parts))
    return or_(false(), *clauses)


def _report_row_of(column: str) -> ColumnElement:
    """A column of the case's own outbox row (the one that created its ticket)."""
    return (select(_outbox.c[column]).where(_outbox.c.report_id == _reports.c.id, _outbox.c.kind == "report")
            .order_by(_outbox.c.id).limit(1).scalar_subquery())


@dataclass(frozen=True)
class QueueFilters:
    """``assignee``: ``mine`` or ``nobody``; ``age``: a key of :data:`AGES`. None: any."""

    status: str | None = None
    category: str | None = None
    severity: str | None = None
    wiki: str | None = None
    assignee: str | None = None
    age: str | None = None
    page: int = 1


@dataclass(frozen=True)
class QueueRow:
    """One listed case: clear-text metadata only."""

    ref: str
    wiki: str
    category: str
    severity: str
    status: str
    created_at: datetime
    assignee: str | None
    destination: str | None


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    next_page: int | None
    counts: dict[str, int]  # cases per status under the other filters


@dataclass(frozen=True)
class CaseMeta:
    """What an action needs to know of a case, read without decryption."""

    id: int
    ref: str
    status: str
    assignee: str | None
    destination: str | None


@dataclass(frozen=True)
class OpenedCase:
    """A case as the workspace shows it: the opened report and everything around it."""

    report: Report
    meta: CaseMeta
    ticket_id: str | None
    timeline: list[TimelineEntry]
    followups: list[Followup]


class QueueStore:
    def __init__(self, engine: Engine, sealer: Sealer) -> None:
        self.engine = engine
        self.sealer = sealer

    def _where(self, grants: Sequence[Grant], filters: QueueFilters, username: str, now: datetime,
               with_status: bool = True) -> list[ColumnElement[bool]]:
        where = [visible(grants)]
        if with_status and filters.status:
            where.append(_reports.c.status == filters.status)
        if filters.category:
            where.append(_reports.c.category == filters.category)
        if filters.severity:
            where.append(_reports.c.severity == filters.severity)
        if filters.wiki:
            where.append(_reports.c.wiki == filters.wiki)
        if filters.assignee == "mine":
            where.append(_reports.c.assignee == username)
        elif filters.assignee == "nobody":
            where.append(_reports.c.assignee.is_(None))
        if filters.age in AGES:
            span, within = AGES[filters.age]
            where.append(_reports.c.created_at >= now - span if within else _reports.c.created_at < now - span)
        return where

    def list(self, grants: Sequence[Grant], filters: QueueFilters, username: str,
             now: datetime | None = None, page_size: int = PAGE_SIZE) -> QueuePage:
        """One page of the cases ``grants`` open: the newest emergency first, then the oldest case first."""
        now = now or utcnow()
        emergency = _reports.c.severity == "emergency"
        page = max(1, filters.page)
        query = (select(_reports.c.ref, _reports.c.wiki, _reports.c.category, _reports.c.severity,
                        _reports.c.status, _reports.c.created_at, _reports.c.assignee,
                        _report_row_of("destination").label("destination"))
                 .where(*self._where(grants, filters, username, now))
                 .order_by(case((emergency, 0), else_=1), case((emergency, _reports.c.created_at), else_=None).desc(),
                           _reports.c.created_at, _reports.c.id)
                 .limit(page_size + 1).offset((page - 1) * page_size))
        counts_query = (select(_reports.c.status, func.count()).where(
            *self._where(grants, filters, username, now, with_status=False)).group_by(_reports.c.status))
        with self.engine.connect() as connection:
            rows = [QueueRow(ref=row.ref, wiki=row.wiki, category=row.category, severity=row.severity,
                             status=row.status, created_at=row.created_at, assignee=row.assignee,
                             destination=row.destination) for row in connection.execute(query)]
            counts = {str(status): int(count) for status, count in connection.execute(counts_query)}
        return QueuePage(rows=rows[:page_size], next_page=page + 1 if len(rows) > page_size else None,
                         counts=counts)

    def _meta_in(self, connection: Connection, grants: Sequence[Grant], ref: str) -> CaseMeta | None:
        row = connection.execute(select(_reports.c.id, _reports.c.ref, _reports.c.status, _reports.c.assignee,
                                        _report_row_of("destination").label("destination"))
                                 .where(_reports.c.ref == ref, visible(grants))).first()
        return CaseMeta(id=int(row.id), ref=row.ref, status=row.status, assignee=row.assignee,
                        destination=row.destination) if row is not None else None

    def meta(self, grants: Sequence[Grant], ref: str) -> CaseMeta | None:
        """The case ``ref`` if ``grants`` open it, else None; nothing decrypted, nothing audited.

        Callers MUST answer None exactly as an unknown reference.
        """
        with self.engine.connect() as connection:
            return self._meta_in(connection, grants, ref)

    def open(self, grants: Sequence[Grant], ref: str, actor: str) -> OpenedCase | None:
        """The whole case, opened, if ``grants`` open it; the view is audited in the same transaction."""
        with self.engine.begin() as connection:
            meta = self._meta_in(connection, grants, ref)
            if meta is None:
                return None
            row = connection.execute(select(_reports, _report_row_of("ticket_id").label("ticket_id"))
                                     .where(_reports.c.id == meta.id)).one()
            report = report_from_row(self.sealer, row)
            timeline = timeline_in(connection, self.sealer, ref, meta.id, row.created_at, include_internal=True)
            followups = of_report_in(connection, self.sealer, ref, meta.id)
            record_in(connection, meta.id, actor, Audit.VIEWED)
        return OpenedCase(report=report, meta=meta, ticket_id=row.ticket_id, timeline=timeline, followups=followups)

    def assign(self, meta: CaseMeta, assignee: str | None, actor: str) -> None:
        """Set (or clear) the case's assignee; audited as ``assigned`` / ``unassigned``."""
        with self.engine.begin() as connection:
            connection.execute(update(_reports).where(_reports.c.id == meta.id).values(assignee=assignee))
            record_in(connection, meta.id, actor, Audit.ASSIGNED if assignee else Audit.UNASSIGNED)

    def change_status(self, meta: CaseMeta, steps: Sequence[Status], actor: str, message: str | None,
                      reason: str | None, unfounded: bool) -> None:
        """A status change from the workspace, in ONE transaction with its timeline and audit entries.

        ``message`` goes to the reporter's timeline (sealed); ``reason`` (a
        decline's) is an internal entry; ``unfounded`` adds the
        ``declined-unfounded`` audit entry the misuse rule counts. With no
        ``steps``, ``message`` is a message in the current status. Raises
        :class:`StatusConflict` when the case changed since ``meta`` was read.
        """
        now = utcnow()
        with self.engine.begin() as connection:
            change_status_in(connection, self.sealer, meta.ref, meta.id, meta.status, steps, Source.FUNCTIONARY,
                             actor, message, now=now, author=actor)
            status = str(steps[-1]) if steps else meta.status
            if steps:
                record_in(connection, meta.id, actor, Audit.STATUS_CHANGED, f"{meta.status}>{status}", now=now)
            if message:
                record_in(connection, meta.id, actor, Audit.MESSAGE_SENT, now=now)
            if reason:
                add_in(connection, self.sealer, meta.ref, meta.id, status, Source.FUNCTIONARY, Kind.DECLINE_REASON,
                       reason, now=now, internal=True, author=actor)
            if unfounded:
                record_unfounded_in(connection, self.sealer, meta.id, actor, now)

    def add_note(self, meta: CaseMeta, text: str, actor: str) -> None:
        """An internal note (sealed, never shown to the reporter), audited as ``note-added``."""
        with self.engine.begin() as connection:
            status = connection.execute(select(_reports.c.status).where(_reports.c.id == meta.id)).scalar_one()
            add_in(connection, self.sealer, meta.ref, meta.id, status, Source.FUNCTIONARY, Kind.NOTE, text,
                   now=utcnow(), internal=True, author=actor)
            record_in(connection, meta.id, actor, Audit.NOTE_ADDED)


__all__ = ["AGES", "PAGE_SIZE", "Audit", "CaseMeta", "OpenedCase", "QueueFilters", "QueuePage", "QueueRow",
           "QueueStore", "StatusConflict", "visible"]
