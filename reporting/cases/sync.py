"""The status sync: ask each API desk, in batches, what became of its open cases.

One pass (``flask --app app reporting sync-status``, and the worker every
``status_sync.interval_minutes``):

1. list the open cases delivered to Zendesk or Znuny (and those finished
   recently, which a desk may reopen);
2. per desk, read their tickets in as few requests as the desk allows
   (Zendesk ``show_many``: 100 a request; Znuny ``TicketGet``: a list);
3. read the team's public replies only of tickets that changed since the
   last pass (Zendesk ``updated_at``, Znuny ``Changed``), once more on the
   pass after a change (a change in the same second as the one read would
   not move the mark), and never of a Zendesk ticket still ``new``;
4. map each ticket's state to a status (:mod:`reporting.cases.desk_states`),
   and apply it along the allowed path (:func:`reporting.cases.statuses.path`)
   only when the matching rule changed or the team wrote something new: a
   desk that still says "pending" after the reporter answered does not undo
   the answer, but a new question on it asks again.

Desks are asked politely: requests in series, a ``Retry-After`` of up to
:data:`MAX_POLITE_WAIT` seconds is waited out (longer ones end this desk's
turn and are kept for the next pass), other temporary failures are retried
with growing pauses, and a desk that keeps failing is left alone for a
while. One desk's failure never stops the others. Log lines name desks,
references and counts, never a message.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from reporting.cases.desk_states import RULES
from reporting.cases.statuses import Status, path
from reporting.config import Setting, parse_positive_int, register_settings
from reporting.delivery.base import PermanentFailure, TemporaryFailure
from reporting.delivery.desk_reading import DeskReader, DeskTicket
from reporting.delivery.destinations import ZendeskDestination, ZnunyDestination, parse_destination, without_query
from reporting.storage.database import utcnow
from reporting.storage.desk_sync import DeskMessageEntry, DeskSyncStore, DeskUpdate, SeenTicket, SyncCase

log = logging.getLogger(__name__)

register_settings(
    Setting("status_sync.interval_minutes", parse_positive_int, 10,
            "Minutes between the worker's passes asking Zendesk and Znuny desks what became of open cases "
            "(`flask --app app reporting sync-status` runs one pass by hand)."),
)

T = TypeVar("T")
#: The name of the sync in the shared record of periodic runs.
JOB_NAME = "status-sync"

#: A desk's ``Retry-After`` up to this many seconds is waited out within the pass.
MAX_POLITE_WAIT = 30.0
TRIES = 3
#: After a change, its comments are read once more when this much time has passed since the first read.
SETTLE = timedelta(seconds=5)
#: A team message longer than this is cut (the desk keeps the whole text).
MAX_MESSAGE_CHARS = 20000
MAX_DESK_PAUSE = timedelta(hours=6)


class Stopped(Exception):
    """The worker is shutting down."""


@dataclass
class SyncOutcome:
    cases: int = 0
    desks: int = 0
    changed: int = 0
    messages: int = 0
    failed_desks: int = 0
    conflicts: int = 0


class StatusSync:
    """``connector_for(destination)`` gives the connector of a desk; only
    those that are :class:`DeskReader`\\ s are asked. ``wait(seconds)`` pauses
    (returns True when the worker is stopping); ``clock`` is the time written."""

    def __init__(self, store: DeskSyncStore, connector_for: Callable[[str], object],
                 clock: Callable[[], datetime] = utcnow, wait: Callable[[float], bool] | None = None) -> None:
        self.store = store
        self.connector_for = connector_for
        self.clock = clock
        self._wait = wait
        self._paused: dict[str, tuple[int, datetime]] = {}  # destination -> (failures in a row, not before)

    def run_if_due(self, claim: Callable[[str, timedelta], bool], interval: timedelta,
                   stop: threading.Event | None = None) -> SyncOutcome | None:
        """One pass if ``interval`` has passed since the last one of any worker
        replica (``claim`` is :meth:`reporting.storage.periodic.PeriodicRuns.claim`)."""
        if not claim(JOB_NAME, interval):
            return None
        return self.run_once(stop)

    def run_once(self, stop: threading.Event | None = None) -> SyncOutcome:
        """One pass over every desk; never raises for a desk's failure."""
        stop = stop or threading.Event()
        now = self.clock()
        cases = self.store.open_cases(now)
        by_destination: dict[str, list[SyncCase]] = {}
        for case in cases:
            by_destination.setdefault(case.destination, []).append(case)
        outcome = SyncOutcome(cases=len(cases))
        for destination, group in by_destination.items():
            if stop.is_set():
                break
            failures, not_before = self._paused.get(destination, (0, now))
            if not_before > now:
                continue
            outcome.desks += 1
            try:
                self._sync_desk(destination, group, stop, outcome)
            except Stopped:
                break
            except TemporaryFailure as error:
                pause = max(timedelta(seconds=error.retry_after or 0),
                            min(MAX_DESK_PAUSE, timedelta(minutes=2 ** min(failures, 10))))
                self._paused[destination] = (failures + 1, self.clock() + pause)
                outcome.failed_desks += 1
                log.warning("status sync: %s did not answer (%s); asking again in %.0f s",
                            without_query(destination), error, pause.total_seconds())
            except PermanentFailure as error:
                self._paused[destination] = (failures + 1, self.clock() + MAX_DESK_PAUSE)
                outcome.failed_desks += 1
                log.error("ALERT status sync: %s refused: %s", without_query(destination), error)
            except Exception:  # a bug or the database: the other desks still get their turn
                outcome.failed_desks += 1
                log.exception("status sync of %s crashed", without_query(destination))
            else:
                self._paused.pop(destination, None)
        log.info("status sync: %d cases at %d desks, %d changed, %d new messages, %d desks failed",
                 outcome.cases, outcome.desks, outcome.changed, outcome.messages, outcome.failed_desks)
        return outcome

    # -- one desk ------------------------------------------------------------------------------

    def _sync_desk(self, destination: str, cases: list[SyncCase], stop: threading.Event,
                   outcome: SyncOutcome) -> None:
        parsed = parse_destination(destination)
        if not isinstance(parsed, (ZendeskDestination, ZnunyDestination)):
            return
        reader = self.connector_for(destination)
        if not isinstance(reader, DeskReader):
            return
        ids = list(dict.fromkeys(case.status_ticket_id for case in cases))
        tickets: dict[str, DeskTicket] = {}
        for start in range(0, len(ids), reader.batch_size):
            chunk = ids[start:start + reader.batch_size]
            tickets.update(self._polite(lambda chunk=chunk: reader.read_tickets(chunk), stop))  # type: ignore[misc]
        for case in cases:
            if stop.is_set():
                raise Stopped
            ticket = tickets.get(case.status_ticket_id)
            if ticket is None:
                log.warning("status sync: %s does not show the ticket of %s", without_query(destination), case.ref)
                continue
            change = self._decide(case, ticket, reader, parsed.kind, parsed.status_map, stop)
            if change is None:
                continue
            added = self.store.apply(case, change, self.clock())
            if added is None:
                outcome.conflicts += 1  # changed meanwhile: the next pass decides again
                continue
            outcome.changed += bool(change.steps)
            outcome.messages += added

    def _decide(self, case: SyncCase, ticket: DeskTicket, reader: DeskReader, kind: str,
                overrides: Sequence[tuple[str, str]], stop: threading.Event) -> DeskUpdate | None:
        """What to write for one case, or None when nothing changed."""
        now = self.clock()
        rule = RULES[kind]
        followed, notes = case.followed_ticket_id, []
        status_ticket: DeskTicket | None = ticket
        if ticket.merged and followed is None:
            followed = self._polite(lambda: reader.merged_into(ticket), stop)
            status_ticket = None
            if followed is not None:
                notes.append("desk-merged")
                status_ticket = self._polite(lambda: reader.read_tickets([followed]), stop).get(followed)
        key, status = rule(status_ticket, overrides) if status_ticket and not status_ticket.merged else ("merged", None)
        if followed is not None:
            key = f"merged>{key}"
        seen = case.seen
        messages = []
        own_ticket = case.followed_ticket_id is None and not ticket.merged
        marker_changed = seen is None or seen.desk_marker != ticket.marker
        marker_seen_at = now if marker_changed or seen is None else seen.marker_seen_at or now
        settled = False if marker_changed or seen is None else seen.settled
        if own_ticket and reader.may_have_replies(ticket) and (marker_changed or not settled):
            messages = [DeskMessageEntry(desk_ref=f"{kind}:{ticket.ticket_id}:{message.desk_id}",
                                         text=message.body[:MAX_MESSAGE_CHARS])
                        for message in self._polite(lambda: reader.replies(ticket.ticket_id), stop)
                        if message.body.strip()]
            settled = not marker_changed and now - marker_seen_at >= SETTLE
        steps: list[Status] = []
        on_message: list[Status] = []
        if status is not None:
            if seen is None or seen.desk_state != key:
                steps = path(case.status, status) or []
            elif messages:
                on_message = path(case.status, status) or []
        new_seen = SeenTicket(desk_state=key, desk_marker=ticket.marker, marker_seen_at=marker_seen_at,
                              settled=settled)
        if new_seen == seen and not messages and not steps and followed == case.followed_ticket_id:
            return None
        return DeskUpdate(seen=new_seen, steps=steps, messages=messages, steps_on_new_message=on_message,
                          followed_ticket_id=followed if followed != case.followed_ticket_id else None, notes=notes)

    def _polite(self, call: Callable[[], T], stop: threading.Event) -> T:
        """One request to a desk, with a short wait-and-retry on temporary failures."""
        for attempt in range(TRIES):
            try:
                return call()
            except TemporaryFailure as error:
                pause = error.retry_after if error.retry_after is not None else float(2 ** attempt)
                if attempt == TRIES - 1 or pause > MAX_POLITE_WAIT:
                    raise
                if self._pause(pause, stop):
                    raise Stopped from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _pause(self, seconds: float, stop: threading.Event) -> bool:
        if self._wait is not None:
            return self._wait(seconds) or stop.is_set()
        return stop.wait(seconds)
