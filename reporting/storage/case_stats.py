"""The figures behind ``/queue/stats``: counts of cases and times to their first status change.

Routing metadata only (category, wiki, status, creation time) and the
timeline's times and sources: nothing is decrypted, no user is named.
Suppression of small counts is :mod:`reporting.cases.stats`' job.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Engine, func, select

from reporting.cases.statuses import Source, Status
from reporting.storage import schema

_reports = schema.reports
_events = schema.case_events
_outbox = schema.outbox


@dataclass(frozen=True)
class CaseFigures:
    by_category: dict[str, int]
    by_wiki: dict[str, int]
    by_status: dict[str, int]
    by_week: dict[str, int]  # ISO week, "2026-W05"
    first_change_seconds: list[float]


def _as_date(value: date | str) -> date:
    """SQLite's DATE() gives text, MariaDB's a date."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def iso_week(moment: date) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


class CaseStats:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def figures(self, since: datetime) -> CaseFigures:
        """Figures of the cases created since ``since``.

        The time to the first status change runs from the moment the case
        reached its desk or queue (the delivery of its report row: the
        ``forwarded`` entry of its timeline) to the first timeline entry by a
        desk (the status sync) or a functionary (the workspace) that left it in
        another status. Cases nobody has changed yet are not in the median.
        """
        recent = _reports.c.created_at >= since
        with self.engine.connect() as connection:
            def grouped(column: Column[Any]) -> dict[str, int]:
                query = select(column, func.count()).where(recent).group_by(column)
                return {str(row[0]): int(row[1]) for row in connection.execute(query)}

            by_category, by_wiki, by_status = (grouped(_reports.c.category), grouped(_reports.c.wiki),
                                               grouped(_reports.c.status))
            # Per day in SQL (DATE() exists in SQLite and MariaDB), per ISO week here: a few hundred rows at most.
            day = func.date(_reports.c.created_at)
            weeks: Counter[str] = Counter()
            for created, count in connection.execute(select(day, func.count()).where(recent).group_by(day)):
                weeks[iso_week(_as_date(created))] += int(count)
            delivered = (select(_outbox.c.report_id, func.min(_outbox.c.delivered_at).label("delivered_at"))
                         .select_from(_outbox.join(_reports, _reports.c.id == _outbox.c.report_id))
                         .where(recent, _outbox.c.kind == "report", _outbox.c.delivered_at.is_not(None))
                         .group_by(_outbox.c.report_id).subquery())
            changes = connection.execute(
                select(delivered.c.delivered_at, func.min(_events.c.at))
                .select_from(_events.join(_reports, _reports.c.id == _events.c.report_id)
                             .join(delivered, delivered.c.report_id == _events.c.report_id))
                .where(recent, _events.c.source.in_([str(Source.DESK), str(Source.FUNCTIONARY)]),
                       _events.c.status != str(Status.FORWARDED), _events.c.at >= delivered.c.delivered_at)
                .group_by(_events.c.report_id, delivered.c.delivered_at)).all()
        first = sorted((changed - start).total_seconds() for start, changed in changes)
        return CaseFigures(by_category, by_wiki, by_status, dict(weeks), first)
