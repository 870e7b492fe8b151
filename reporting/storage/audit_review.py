"""Reading the audit log across cases (Trust & Safety's ``/queue/audit``), and its retention.

The log says who did what to which case, which is itself personal data
about the functionaries and, through the case, about reporters. So it is
kept per person only for ``retention_days``: older entries become counts per
action and month (``audit_summary``, no actor, no case) and the rows go, in
the worker's housekeeping turn (:meth:`AuditReview.aggregate_before`).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select, update

from reporting.storage import schema
from reporting.storage.database import skips_locked_rows

_audit = schema.audit_log
_summary = schema.audit_summary
_reports = schema.reports

PAGE_SIZE = 50
AGGREGATE_BATCH = 1000


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    ref: str | None


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    page: int
    has_next: bool


@dataclass(frozen=True)
class MonthlyCount:
    month: str  # YYYY-MM
    action: str
    entries: int


class AuditReview:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock_rows = skips_locked_rows(engine)

    def search(self, actors: list[str] | None = None, since: datetime | None = None, until: datetime | None = None,
               page: int = 1, page_size: int = PAGE_SIZE) -> AuditPage:
        """Entries newest first; ``actors``: any of these spellings; ``until`` is exclusive."""
        page = max(1, page)
        query = (select(_audit.c.at, _audit.c.actor, _audit.c.action, _reports.c.ref)
                 .select_from(_audit.outerjoin(_reports, _reports.c.id == _audit.c.report_id)))
        if actors:
            query = query.where(_audit.c.actor.in_(actors))
        if since is not None:
            query = query.where(_audit.c.at >= since)
        if until is not None:
            query = query.where(_audit.c.at < until)
        query = query.order_by(_audit.c.at.desc(), _audit.c.id.desc()).offset((page - 1) * page_size) \
            .limit(page_size + 1)
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        entries = [AuditEntry(row.at, row.actor, row.action, row.ref) for row in rows[:page_size]]
        return AuditPage(entries, page, len(rows) > page_size)

    def summary(self) -> list[MonthlyCount]:
        """What retention kept of older entries, newest month first."""
        query = select(_summary).order_by(_summary.c.month.desc(), _summary.c.action)
        with self.engine.connect() as connection:
            return [MonthlyCount(row.month, row.action, int(row.entries)) for row in connection.execute(query)]

    def aggregate_before(self, cutoff: datetime, batch: int = AGGREGATE_BATCH) -> int:
        """Turn entries older than ``cutoff`` into monthly counts and delete them; return how many.

        Each batch counts and deletes the same rows in one transaction, so an
        entry is counted exactly once even if the worker dies in between. The
        caller runs this once per interval across workers
        (:class:`reporting.storage.periodic.PeriodicRuns`); on MariaDB the rows
        are locked besides.
        """
        done = 0
        while True:
            query = select(_audit.c.id, _audit.c.at, _audit.c.action).where(_audit.c.at < cutoff) \
                .order_by(_audit.c.id).limit(batch)
            if self._lock_rows:
                query = query.with_for_update()
            with self.engine.begin() as connection:
                rows = connection.execute(query).all()
                if not rows:
                    return done
                counts = Counter((row.at.strftime("%Y-%m"), row.action) for row in rows)
                for (month, action), entries in sorted(counts.items()):
                    result = connection.execute(update(_summary).where(
                        _summary.c.month == month, _summary.c.action == action)
                        .values(entries=_summary.c.entries + entries))
                    if result.rowcount == 0:
                        connection.execute(_summary.insert().values(month=month, action=action, entries=entries))
                connection.execute(_audit.delete().where(_audit.c.id.in_([row.id for row in rows])))
            done += len(rows)
            if len(rows) < batch:
                return done
