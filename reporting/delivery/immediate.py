"""Delivering the report just stored, inside the submit request.

Only that report's row is delivered: a request never works off other
reporters' backlog. The report is safe once stored: a failed or slow attempt
leaves the row to the worker, and the caller learns the outcome from the
report's status (``forwarded`` or still ``received``).
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from reporting.delivery.base import Connector
from reporting.delivery.leases import LeaseKeeper
from reporting.delivery.worker import Worker
from reporting.storage.database import utcnow
from reporting.storage.outbox import OutboxStore
from reporting.storage.records import OutboxItem

log = logging.getLogger(__name__)


class ImmediateDelivery:
    """``connector_for(destination, timeout)`` gives the connector of a
    destination with each network wait bounded by ``timeout`` (None: the
    configured default)."""

    def __init__(self, outbox: OutboxStore, connector_for: Callable[[str, float | None], Connector],
                 emergency_timeout: float, keeper: LeaseKeeper) -> None:
        self.outbox = outbox
        self.connector_for = connector_for
        self.emergency_timeout = emergency_timeout
        self.keeper = keeper

    def deliver(self, report_id: int, timeout: float | None = None) -> bool:
        """Deliver one report's outbox row in this thread; True when the desk has it."""
        item = self.outbox.claim_report(report_id, lease=self.keeper.lease)
        if item is None:  # a worker has it already
            return False
        return self._deliver_claimed(item, timeout)

    def deliver_emergency(self, report_id: int) -> bool:
        """Attempt an emergency's delivery for at most ``emergency_timeout`` seconds.

        The attempt runs in a helper thread so that the request answers on
        time even if a desk is slow in ways a socket timeout does not bound
        (several round trips, DNS). A late attempt is not abandoned: it still
        finishes and records its outcome (its lease renewed meanwhile), and
        the worker takes over within a lease if this process dies.
        """
        timeout = self.emergency_timeout
        item = self.outbox.claim_report(report_id, lease=self.keeper.lease)
        if item is None:
            return False
        if item.priority != 0:
            # Stored over its reporter's emergency ceiling (the normal lane): the worker's, also
            # when the reporter sends it again.
            self.outbox.defer(item, utcnow())
            return False
        outcome: list[bool] = []
        attempt = threading.Thread(target=lambda: outcome.append(self._deliver_claimed(item, timeout)),
                                   name=f"emergency-{item.ref}", daemon=True)
        attempt.start()
        attempt.join(timeout)
        if not outcome:
            log.warning("emergency %s not delivered within %.1f s; the reporter is told it is queued",
                        item.ref, timeout)
            return False
        return outcome[0]

    def _deliver_claimed(self, item: OutboxItem, timeout: float | None) -> bool:
        # The worker's own handling: the same retries, alerts and crash safety.
        return Worker(self.outbox, lambda destination: self.connector_for(destination, timeout),
                      lease=self.keeper.lease, keeper=self.keeper).deliver(item)
