"""A case's timeline: every status change and message, with its time and source.

Messages are what people typed (the team's replies, the reporter's
follow-ups, a functionary's note), so they are sealed with the report's
reference like the report itself, and wiped with it by retention. The first
two entries are not stored: ``received`` is the report's creation and
``forwarded`` the delivery of its outbox row, both already recorded there.

The ``*_in`` functions work inside the caller's transaction, so a status
change, its timeline entry and its audit entry are written together or not
at all.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, select, update

from reporting.cases.statuses import Source, Status
from reporting.storage import schema
from reporting.storage.crypto import Sealer
from reporting.storage.database import utcnow

_events = schema.case_events


class Kind:
    """What a timeline entry records."""

    STATUS = "status"  # a status change, with or without a message
    MESSAGE = "message"  # a message that changed no status
    FOLLOWUP = "followup"  # the reporter added information
    WITHDRAWAL = "withdrawal"  # the reporter withdrew the case
    NOTE = "note"  # an internal note (never shown to the reporter)
    DECLINE_REASON = "decline-reason"  # why a functionary declined the case (internal)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    status: str  # the case's status after this entry
    source: str  # desk | reporter | tool | functionary
    kind: str
    message: str | None = None
    internal: bool = False
    followup_id: int | None = None
    author: str | None = None  # the functionary who wrote it (workspace only; never shown to the reporter)


def add_in(connection: Connection, sealer: Sealer, ref: str, report_id: int, status: str, source: str, kind: str,
           message: str | None = None, *, now: datetime, internal: bool = False, desk_ref: str | None = None,
           followup_id: int | None = None, author: str | None = None) -> None:
    """Add one entry inside the caller's transaction; ``message`` is sealed. ``author`` names the
    functionary who wrote a workspace entry (for the workspace's eyes only)."""
    connection.execute(_events.insert().values(
        report_id=report_id, at=now, status=str(status), source=str(source), kind=kind, internal=internal,
        sealed=sealer.seal({"text": message}, ref) if message is not None else None,
        desk_ref=desk_ref[:120] if desk_ref else None, followup_id=followup_id,
        actor=author[:100] if author else None))


def known_desk_refs_in(connection: Connection, report_id: int, refs: Iterable[str]) -> set[str]:
    """Which of ``refs`` (messages read from a desk) the timeline already holds."""
    wanted = [ref[:120] for ref in refs]
    if not wanted:
        return set()
    query = select(_events.c.desk_ref).where(_events.c.report_id == report_id, _events.c.desk_ref.in_(wanted))
    return set(connection.execute(query).scalars())


def purge_in(connection: Connection, report_id: int) -> None:
    """Wipe the messages of a case (retention); the entries themselves stay."""
    connection.execute(update(_events).where(_events.c.report_id == report_id).values(sealed=None))


def entries_in(connection: Connection, sealer: Sealer, ref: str, report_id: int,
               include_internal: bool = False) -> list[TimelineEntry]:
    """The stored entries of a case, oldest first."""
    query = select(_events).where(_events.c.report_id == report_id).order_by(_events.c.at, _events.c.id)
    if not include_internal:
        query = query.where(_events.c.internal.is_(False))
    entries = []
    for row in connection.execute(query):
        message = sealer.open(row.sealed, ref)["text"] if row.sealed is not None else None
        entries.append(TimelineEntry(at=row.at, status=row.status, source=row.source, kind=row.kind,
                                     message=message, internal=bool(row.internal), followup_id=row.followup_id,
                                     author=row.actor if include_internal else None))
    return entries


def _delivered_at(connection: Connection, report_id: int) -> datetime | None:
    outbox = schema.outbox
    return connection.execute(
        select(outbox.c.delivered_at).where(outbox.c.report_id == report_id, outbox.c.kind == "report",
                                            outbox.c.state == "delivered").order_by(outbox.c.id).limit(1)).scalar()


def timeline_in(connection: Connection, sealer: Sealer, ref: str, report_id: int, created_at: datetime,
                include_internal: bool = False) -> list[TimelineEntry]:
    """The whole timeline of a case, oldest first, with its first two entries."""
    stored = entries_in(connection, sealer, ref, report_id, include_internal)
    entries = [TimelineEntry(at=created_at, status=Status.RECEIVED, source=Source.TOOL, kind=Kind.STATUS)]
    delivered_at = _delivered_at(connection, report_id)
    # A case withdrawn before any desk had it stays withdrawn when the desk gets it.
    withdrawn_first = any(entry.status == Status.WITHDRAWN and delivered_at is not None and entry.at <= delivered_at
                          for entry in stored)
    if delivered_at is not None and not withdrawn_first:
        entries.append(TimelineEntry(at=delivered_at, status=Status.FORWARDED, source=Source.TOOL, kind=Kind.STATUS))
    # Python's sort is stable: equal times keep "received, forwarded, then what was stored".
    return sorted(entries + stored, key=lambda entry: entry.at)


class TimelineStore:
    def __init__(self, engine: Engine, sealer: Sealer) -> None:
        self.engine = engine
        self.sealer = sealer

    def of(self, report_id: int, ref: str, created_at: datetime, include_internal: bool = False) -> list[TimelineEntry]:
        """A case's timeline. The reporter's views MUST leave ``include_internal`` off."""
        with self.engine.connect() as connection:
            return timeline_in(connection, self.sealer, ref, report_id, created_at, include_internal)

    def add(self, report_id: int, ref: str, status: str, source: str, kind: str, message: str | None = None,
            internal: bool = False, now: datetime | None = None) -> None:
        """One entry in its own transaction (e.g. an internal note)."""
        with self.engine.begin() as connection:
            add_in(connection, self.sealer, ref, report_id, status, source, kind, message,
                   now=now or utcnow(), internal=internal)
