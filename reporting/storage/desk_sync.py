"""The status sync's storage: which cases to ask their desk about, and what it answered.

Only cases a desk can be asked about are listed: delivered to an API desk
(Zendesk, Znuny), still open, or finished recently enough that the desk may
reopen them. Applying an answer is one transaction per case (the desk's
state, new status, the team's messages, audit entries), conditional on what
the sync read before: two worker replicas syncing at once, or a reporter's
follow-up in between, make one of them step back instead of writing twice.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from reporting.cases.statuses import OPEN, Source, Status
from reporting.storage import schema
from reporting.storage.audit import record_in
from reporting.storage.case_status import StatusConflict, change_status_in
from reporting.storage.crypto import Sealer
from reporting.storage.timeline import known_desk_refs_in

_reports, _outbox, _desk = schema.reports, schema.outbox, schema.desk_tickets

#: Destinations whose desks can be asked about their tickets.
SYNCED_SCHEMES = ("zendesk+", "znuny+")
#: How long after a case was resolved or declined its desk is still asked (a reopened ticket reopens the case).
REOPEN_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class SeenTicket:
    """What the sync last read from a case's ticket."""

    desk_state: str  # the desk's state as the status mapping reads it
    desk_marker: str | None = None  # the desk's last-change mark
    marker_seen_at: datetime | None = None  # when the sync first saw that mark
    settled: bool = False  # the messages were read again after the mark's second had passed


@dataclass(frozen=True)
class SyncCase:
    report_id: int
    ref: str
    status: str
    destination: str
    ticket_id: str  # the ticket the report's delivery created
    followed_ticket_id: str | None = None  # the ticket it was merged into
    seen: SeenTicket | None = None

    @property
    def status_ticket_id(self) -> str:
        """The ticket whose state is the case's state."""
        return self.followed_ticket_id or self.ticket_id


@dataclass(frozen=True)
class DeskMessageEntry:
    desk_ref: str  # unique per desk message: the timeline holds each once
    text: str


@dataclass(frozen=True)
class DeskUpdate:
    """What one sync pass decided for one case."""

    seen: SeenTicket
    steps: Sequence[Status] = ()
    messages: Sequence[DeskMessageEntry] = ()
    # Applied instead of ``steps`` (when those are empty) if a message is new to the timeline: a new
    # reply on a ticket that says "pending" asks the reporter again, even though its state did not move.
    steps_on_new_message: Sequence[Status] = ()
    followed_ticket_id: str | None = None
    notes: list[str] = field(default_factory=list)


class DeskSyncStore:
    def __init__(self, engine: Engine, sealer: Sealer) -> None:
        self.engine = engine
        self.sealer = sealer

    def open_cases(self, now: datetime) -> list[SyncCase]:
        """Cases whose desk the sync asks, grouped by nothing: the caller batches by destination."""
        recently_finished = and_(_reports.c.status.in_([Status.RESOLVED, Status.DECLINED]),
                                 _reports.c.updated_at >= now - REOPEN_WINDOW)
        query = (select(_reports.c.id, _reports.c.ref, _reports.c.status, _outbox.c.destination, _outbox.c.ticket_id,
                        _desk.c.desk_state, _desk.c.desk_marker, _desk.c.marker_seen_at, _desk.c.settled,
                        _desk.c.followed_ticket_id)
                 .select_from(_reports.join(_outbox, _outbox.c.report_id == _reports.c.id)
                              .outerjoin(_desk, _desk.c.report_id == _reports.c.id))
                 .where(_outbox.c.kind == "report", _outbox.c.state == "delivered", _outbox.c.ticket_id.is_not(None),
                        or_(*[_outbox.c.destination.like(scheme + "%") for scheme in SYNCED_SCHEMES]),
                        or_(_reports.c.status.in_([str(status) for status in OPEN]), recently_finished),
                        _reports.c.purged_at.is_(None))
                 .order_by(_reports.c.id))
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return [SyncCase(report_id=int(row.id), ref=row.ref, status=row.status, destination=row.destination,
                         ticket_id=row.ticket_id, followed_ticket_id=row.followed_ticket_id,
                         seen=None if row.desk_state is None else SeenTicket(
                             row.desk_state, row.desk_marker, row.marker_seen_at, bool(row.settled)))
                for row in rows]

    def apply(self, case: SyncCase, change: DeskUpdate, now: datetime) -> int | None:
        """Write one case's sync outcome; return how many messages were new to
        the timeline, or None (nothing written) if the case or its sync record
        changed since :meth:`open_cases` read them."""
        try:
            with self.engine.begin() as connection:
                values = {"desk_state": change.seen.desk_state[:200], "desk_marker": change.seen.desk_marker,
                              "marker_seen_at": change.seen.marker_seen_at, "settled": change.seen.settled,
                              "followed_ticket_id": change.followed_ticket_id or case.followed_ticket_id,
                              "synced_at": now}
                if case.seen is None:
                    connection.execute(_desk.insert().values(report_id=case.report_id, **values))
                else:
                    old = case.seen
                    marker_was = (_desk.c.desk_marker.is_(None) if old.desk_marker is None
                                  else _desk.c.desk_marker == old.desk_marker)
                    result = connection.execute(update(_desk).where(
                        _desk.c.report_id == case.report_id, _desk.c.desk_state == old.desk_state, marker_was)
                        .values(**values))
                    if result.rowcount != 1:
                        raise StatusConflict(f"the sync record of report {case.report_id} changed")
                known = known_desk_refs_in(connection, case.report_id, [m.desk_ref for m in change.messages])
                messages = [m for m in change.messages if m.desk_ref not in known]
                steps = change.steps or (change.steps_on_new_message if messages else ())
                alone = messages[:-1] if steps else messages
                for message in alone:
                    change_status_in(connection, self.sealer, case.ref, case.report_id, case.status, (),
                                     Source.DESK, "desk", message.text, now=now, desk_ref=message.desk_ref)
                    record_in(connection, case.report_id, "desk", "desk-message", now=now)
                if steps:
                    last = messages[-1] if messages else None
                    change_status_in(connection, self.sealer, case.ref, case.report_id, case.status, steps,
                                     Source.DESK, "desk", last.text if last else None, now=now,
                                     desk_ref=last.desk_ref if last else None)
                    if last is not None:
                        record_in(connection, case.report_id, "desk", "desk-message", now=now)
                for note in change.notes:
                    record_in(connection, case.report_id, "desk", note, now=now)
        except (StatusConflict, IntegrityError):
            return None
        return len(messages)
