"""Changing a case's status: the report's row, its timeline and its audit entry, together.

Every change is conditional on the status the caller saw (``expected``): two
writers that race (the status sync and a reporter's follow-up, two worker
replicas) cannot both apply a change built on the same old status; the
loser learns it (``False`` / :class:`StatusConflict`) and decides again from
the new state. Which changes are allowed at all is
:mod:`reporting.cases.statuses`' decision, not this module's.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, Engine, update

from reporting.cases.statuses import Status
from reporting.storage import schema
from reporting.storage.audit import record_in
from reporting.storage.crypto import Sealer
from reporting.storage.database import utcnow
from reporting.storage.timeline import Kind, add_in

_reports = schema.reports


class StatusConflict(Exception):
    """The case changed since the caller read it; nothing was written."""


def touch_in(connection: Connection, report_id: int, expected: str, now: datetime) -> None:
    """Mark a change of the case (its retention clock restarts), if it is still
    in status ``expected``; raises :class:`StatusConflict` otherwise."""
    result = connection.execute(update(_reports).where(_reports.c.id == report_id, _reports.c.status == str(expected))
                                .values(updated_at=now))
    if result.rowcount != 1:
        raise StatusConflict(f"report {report_id} is no longer {expected}")


def change_status_in(connection: Connection, sealer: Sealer, ref: str, report_id: int, expected: str,
                     steps: Sequence[Status], source: str, actor: str, message: str | None = None, *,
                     now: datetime, kind: str = Kind.STATUS, followup_id: int | None = None,
                     desk_ref: str | None = None, author: str | None = None) -> None:
    """Move the case from ``expected`` through ``steps`` inside the caller's transaction.

    Each step becomes a timeline entry by ``source``; ``message`` (sealed)
    goes with the last one, and with no steps at all it becomes an entry in
    the current status. The audit log gets ``status:<new>`` per step under
    ``actor`` (a role, or a functionary's user name; never a reporter's);
    ``author`` names the functionary on the timeline entries. Raises :class:`StatusConflict` when the
    case is no longer in ``expected``.
    """
    current = str(expected)
    if not steps:
        touch_in(connection, report_id, current, now)
        add_in(connection, sealer, ref, report_id, current, source, kind if kind != Kind.STATUS else Kind.MESSAGE,
               message, now=now, followup_id=followup_id, desk_ref=desk_ref, author=author)
        return
    for number, step in enumerate(steps, 1):
        last = number == len(steps)
        result = connection.execute(update(_reports).where(_reports.c.id == report_id, _reports.c.status == current)
                                    .values(status=str(step), updated_at=now))
        if result.rowcount != 1:
            raise StatusConflict(f"report {report_id} is no longer {current}")
        add_in(connection, sealer, ref, report_id, step, source, kind if last else Kind.STATUS,
               message if last else None, now=now, followup_id=followup_id if last else None,
               desk_ref=desk_ref if last else None, author=author)
        record_in(connection, report_id, actor, f"status:{step}", now=now)
        current = str(step)


class CaseStatusStore:
    """Status changes in their own transaction: what the functionaries' workspace uses."""

    def __init__(self, engine: Engine, sealer: Sealer) -> None:
        self.engine = engine
        self.sealer = sealer

    def change(self, report_id: int, ref: str, expected: str, steps: Sequence[Status], source: str, actor: str,
               message: str | None = None, now: datetime | None = None) -> bool:
        """Apply ``steps`` if the case is still ``expected``; False if it changed meanwhile."""
        try:
            with self.engine.begin() as connection:
                change_status_in(connection, self.sealer, ref, report_id, expected, steps, source, actor, message,
                                 now=now or utcnow())
        except StatusConflict:
            return False
        return True
