"""Deliver what the outbox holds: claim, render, hand to the desk, record.

Used by the worker job and, on the embedded default, by the web process
right after a submit. Exactly-once at the desk comes from two halves: the
outbox lease (only one worker holds a row at a time) and the connectors'
idempotency on the report reference (a crash after "ticket created" and
before "marked delivered" re-delivers to the same ticket).
"""
from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta
from typing import Callable

from reporting.storage.store import OutboxItem, Report, Store, utcnow
from reporting.delivery.base import Connector, PermanentFailure, TemporaryFailure
from reporting.delivery.render import render_ticket

log = logging.getLogger(__name__)

BASE_BACKOFF_SECONDS = 30.0
# Emergencies retry sooner: someone may be in danger while the desk is down.
EMERGENCY_BASE_BACKOFF_SECONDS = 5.0
MAX_BACKOFF_SECONDS = 6 * 3600.0
EMERGENCY_MAX_BACKOFF_SECONDS = 300.0


def backoff_delay(attempts: int, retry_after: float | None = None, rng: random.Random | None = None,
                  emergency: bool = False) -> float:
    """Exponential backoff with jitter (between half and all of the ceiling),
    never sooner than the desk asked."""
    rng = rng or random
    base, cap = ((EMERGENCY_BASE_BACKOFF_SECONDS, EMERGENCY_MAX_BACKOFF_SECONDS) if emergency
                 else (BASE_BACKOFF_SECONDS, MAX_BACKOFF_SECONDS))
    ceiling = min(cap, base * 2 ** min(max(0, attempts - 1), 30))
    delay = rng.uniform(ceiling / 2, ceiling)
    return max(delay, retry_after or 0.0)


def deliver_item(store: Store, item: OutboxItem, connector: Connector, now: datetime | None = None,
                 open_report: Callable[[], Report] | None = None) -> bool:
    """Deliver one claimed row; True when the desk has it.

    ``open_report`` returns the row's report when the claim already read it
    (:meth:`Store.claim_due_with_reports`); without it the report is read here.
    Log lines name the reference and the desk's error, never report content.
    """
    report = open_report() if open_report is not None else store.report_by_id(item.report_id)
    try:
        delivered = connector.create_ticket(render_ticket(report))
    except TemporaryFailure as error:
        delay = backoff_delay(item.attempts, error.retry_after, emergency=item.priority == 0)
        log.warning("delivery of %s failed (attempt %d), retrying in %.0f s: %s",
                    item.ref, item.attempts, delay, error)
        store.mark_retry(item, str(error), (now or utcnow()) + timedelta(seconds=delay))
        return False
    except PermanentFailure as error:
        log.error("ALERT delivery of %s refused permanently by %s: %s", item.ref,
                  item.destination.split("?")[0], error)
        store.mark_failed(item, str(error))
        return False
    store.mark_delivered(item, delivered.ticket_id, delivered.ticket_number)
    log.info("delivered %s as ticket %s", item.ref, delivered.ticket_number or delivered.ticket_id)
    return True
