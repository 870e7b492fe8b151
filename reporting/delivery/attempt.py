"""Deliver what the outbox holds: claim, render, hand to the desk, record.

Used by the worker job and, on the embedded default, by the web process
right after a submit. Exactly-once at the desk comes from two halves: the
outbox lease (only one worker holds a row at a time) and the connectors'
idempotency on the report reference (a crash after "ticket created" and
before "marked delivered" re-delivers to the same ticket).

Once the desk has answered, its answer is recorded even through a database
blip (:func:`record_outcome` retries for a while): a lost "delivered" would
send the report again when the lease runs out.

A row is a report (a new ticket) or a follow-up or withdrawal (a note on the
report's ticket, idempotent on the note's marker); a note waits until its
report's row is delivered, because only then is there a ticket to add it to.
"""
from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from reporting.delivery.base import Connector, Delivered, PermanentFailure, TemporaryFailure, Ticket
from reporting.delivery.destinations import without_query
from reporting.delivery.render import ALERT_TAGS, NOTE_TAGS, render_alert, render_note, render_ticket
from reporting.storage.database import utcnow
from reporting.storage.outbox import OutboxKind, OutboxStore
from reporting.storage.records import OutboxItem, Report

log = logging.getLogger(__name__)

#: How long an outcome is retried before the row is left to its lease.
RECORD_OUTCOME_SECONDS = 60.0


class OutcomeNotRecorded(Exception):
    """The desk answered but the database kept refusing to record it; the
    row comes due again when its lease ends (idempotent desks keep one ticket)."""

BASE_BACKOFF_SECONDS = 30.0
# Emergencies retry sooner: someone may be in danger while the desk is down.
EMERGENCY_BASE_BACKOFF_SECONDS = 5.0
MAX_BACKOFF_SECONDS = 6 * 3600.0
EMERGENCY_MAX_BACKOFF_SECONDS = 300.0
# How long a follow-up row waits before it looks again whether its report's ticket exists.
NOTE_WAIT = timedelta(seconds=60)
#: The window of the emergency ceiling (``rate_limit.emergency_per_hour``).
EMERGENCY_WINDOW = timedelta(hours=1)


def backoff_delay(attempts: int, retry_after: float | None = None, rng: random.Random | None = None,
                  emergency: bool = False) -> float:
    """Exponential backoff with jitter (between half and all of the ceiling),
    never sooner than the desk asked."""
    uniform = rng.uniform if rng is not None else random.uniform
    base, cap = ((EMERGENCY_BASE_BACKOFF_SECONDS, EMERGENCY_MAX_BACKOFF_SECONDS) if emergency
                 else (BASE_BACKOFF_SECONDS, MAX_BACKOFF_SECONDS))
    ceiling = min(cap, base * 2 ** min(max(0, attempts - 1), 30))
    delay = uniform(ceiling / 2, ceiling)
    return max(delay, retry_after or 0.0)


def retry_at(item: OutboxItem, now: datetime, retry_after: float | None = None) -> datetime:
    """When a failed attempt at ``item`` is tried again."""
    return now + timedelta(seconds=backoff_delay(item.attempts, retry_after, emergency=item.priority == 0))


def record_outcome(write: Callable[[], None], ref: str, what: str, deadline_seconds: float = RECORD_OUTCOME_SECONDS,
                   sleep: Callable[[float], None] = time.sleep) -> None:
    """Run ``write`` until it succeeds, backing off, for up to ``deadline_seconds``.

    Raises :class:`OutcomeNotRecorded` when the database stayed unavailable.
    """
    deadline = time.monotonic() + deadline_seconds
    wait = 0.25
    while True:
        try:
            write()
            return
        except Exception as error:
            if time.monotonic() + wait > deadline:
                raise OutcomeNotRecorded(f"{what} of {ref} not recorded") from error
            log.warning("recording %s of %s failed; trying again in %.2f s", what, ref, wait, exc_info=True)
            sleep(wait)
            wait = min(wait * 2, 5.0)


def deliver_item(outbox: OutboxStore, item: OutboxItem, connector: Connector, now: datetime | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> bool:
    """Deliver one claimed row; True when the desk has it.

    Log lines name the reference and the desk's error, never report content.
    """
    report = item.open_report()
    try:
        if item.kind == OutboxKind.REPORT:
            delivered = connector.create_ticket(ticket_for_desk(outbox, report))
        else:
            ticket_id = outbox.ticket_for_followup(item)
            if ticket_id is None:
                outbox.defer(item, (now or utcnow()) + NOTE_WAIT)
                log.info("the %s of %s waits for the report's ticket", item.kind, item.ref)
                return False
            if item.kind == OutboxKind.ALERT:
                add_alert(outbox, item, report, connector, ticket_id)
            else:
                add_note(outbox, item, report, connector, ticket_id)
            delivered = Delivered(ticket_id=ticket_id)
    except TemporaryFailure as error:
        now = now or utcnow()
        next_attempt = retry_at(item, now, error.retry_after)
        log.warning("delivery of %s failed (attempt %d), retrying in %.0f s: %s",
                    item.ref, item.attempts, (next_attempt - now).total_seconds(), error)
        message = str(error)
        record_outcome(lambda: outbox.mark_retry(item, message, next_attempt), item.ref, "a retry", sleep=sleep)
        return False
    except PermanentFailure as error:
        log.error("ALERT delivery of %s refused permanently by %s: %s", item.ref,
                  without_query(item.destination), error)
        refusal = str(error)
        record_outcome(lambda: outbox.mark_failed(item, refusal), item.ref, "a refusal", sleep=sleep)
        return False
    if item.kind != OutboxKind.REPORT:
        record_outcome(lambda: outbox.mark_followup_delivered(item, delivered.ticket_id), item.ref,
                       f"the {item.kind}", sleep=sleep)
        log.info("delivered the %s of %s", item.kind, item.ref)
        return True
    record_outcome(lambda: outbox.mark_delivered(item, delivered.ticket_id, delivered.ticket_number),
                   item.ref, "the delivery", sleep=sleep)
    log.info("delivered %s as ticket %s", item.ref, delivered.ticket_number or delivered.ticket_id)
    return True


def ticket_for_desk(outbox: OutboxStore, report: Report) -> Ticket:
    """The report as the desk gets it; its ``report.json`` carries what
    happened to the case before delivery (follow-ups, a withdrawal), read
    only when something did."""
    if report.status == "received" and report.updated_at == report.created_at:
        return render_ticket(report)
    return render_ticket(report, *outbox.case_record(report.id, report.ref, report.created_at))


def add_alert(outbox: OutboxStore, item: OutboxItem, report: Report, connector: Connector, ticket_id: str) -> None:
    """Tell Trust & Safety, on the ticket of the report that went over its reporter's
    emergency ceiling, that this reporter's further emergencies come through the worker."""
    count, refs = outbox.alert_facts(item, EMERGENCY_WINDOW)
    ticket = render_ticket(report, *outbox.case_record(report.id, report.ref, report.created_at))
    marker = f"alert-{report.ref}"
    connector.add_followup(ticket, ticket_id, render_alert(report.ref, count, refs, marker), marker=marker,
                           tags=ALERT_TAGS)


def add_note(outbox: OutboxStore, item: OutboxItem, report: Report, connector: Connector, ticket_id: str) -> None:
    """Add a follow-up or withdrawal to the report's ticket, at most once (its marker)."""
    followup = outbox.open_followup(item)
    # The ticket's report.json goes along where the desk takes attachments (mail): the case as it is now.
    ticket = render_ticket(report, *outbox.case_record(report.id, report.ref, report.created_at))
    connector.add_followup(ticket, ticket_id, render_note(report, followup), marker=followup.marker,
                           tags=NOTE_TAGS.get(followup.kind, ()))
