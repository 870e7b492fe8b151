"""The audit log: what happened to a case, when, and by whom.

``actor`` is ``reporter`` or ``system``, or the functionary who acted in the
workspace (their canonical user name: whoever reads a case is accountable
for it); never the reporter's name. ``detail`` MUST NOT hold report content:
the log is not encrypted.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Engine, select

from reporting.storage import schema
from reporting.storage.database import utcnow


def record_in(connection: Connection, report_id: int, actor: str, action: str,
              detail: str | None = None, now: datetime | None = None) -> None:
    """Add an entry inside the caller's transaction (a state change and its
    entry are written together or not at all)."""
    connection.execute(schema.audit_log.insert().values(
        report_id=report_id, at=now or utcnow(), actor=actor, action=action[:40],
        detail=detail[:500] if detail else None))


class AuditLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, report_id: int, actor: str, action: str, detail: str | None = None) -> None:
        with self.engine.begin() as connection:
            record_in(connection, report_id, actor, action, detail)

    def trail(self, report_id: int) -> list[tuple[datetime, str, str]]:
        """(time, actor, action) of a case's entries, oldest first."""
        table = schema.audit_log
        with self.engine.connect() as connection:
            rows = connection.execute(select(table.c.at, table.c.actor, table.c.action)
                                      .where(table.c.report_id == report_id).order_by(table.c.id))
            return [(row.at, row.actor, row.action) for row in rows]
