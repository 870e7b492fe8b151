"""The delivery worker: ``flask --app app reporting worker [--once]``.

On Toolforge it runs as a continuous job (one or several replicas sharing
ToolsDB). Each turn claims exactly ONE due outbox row, the most urgent one
(:meth:`reporting.storage.outbox.OutboxStore.claim_due` orders by priority), delivers it and
records the outcome. Claiming one row at a time is what keeps the emergency
lane honest: an emergency that becomes due while a worker is busy waits for
at most the delivery in flight, never for the rest of a claimed batch.

A worker process may run several delivery threads (``--threads``): desks
answer slowly compared to the database, so overlapping deliveries is what
lets one process keep a desk busy. Each thread still claims one row at a
time, so an emergency waits for at most one delivery per thread.

Stopping: :meth:`Worker.run` returns after the delivery in flight once
``stop`` is set (the CLI sets it on SIGTERM, which Toolforge sends before
SIGKILL), so a normal shutdown never leaves a claimed row behind. A worker
that dies anyway (SIGKILL, OOM) leaves its row leased until its short lease
runs out (a live worker renews it, :mod:`reporting.delivery.leases`);
another worker then delivers it again, and the connector's idempotency on
the report reference keeps it one ticket.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from reporting.config import ConfigError
from reporting.delivery.attempt import OutcomeNotRecorded, deliver_item, retry_at
from reporting.delivery.base import Connector
from reporting.delivery.destinations import without_query
from reporting.delivery.leases import LeaseKeeper
from reporting.storage.database import utcnow
from reporting.storage.outbox import DEFAULT_LEASE, OutboxStore
from reporting.storage.records import OutboxItem

log = logging.getLogger(__name__)

DEFAULT_POLL_SECONDS = 2.0


@dataclass
class Worker:
    """Delivers due outbox rows, most urgent first, one at a time.

    ``connector_for(destination)`` returns the connector of a destination URL
    (:meth:`reporting.delivery.configure.ConnectorPool.connector_for`).
    ``keeper`` renews the lease of the row in flight, so a slow delivery keeps
    its row while a dead worker's row comes due again within a lease; without
    one (tests) a delivery must finish within ``lease``. ``clock`` is the time
    the outbox is read and written with (tests move it forward instead of
    sleeping through backoffs). ``heartbeat``, if given, is called on every
    turn of :meth:`run` (the job's health check watches it).
    """

    outbox: OutboxStore
    connector_for: Callable[[str], Connector]
    lease: timedelta = DEFAULT_LEASE
    poll_seconds: float = DEFAULT_POLL_SECONDS
    clock: Callable[[], datetime] = utcnow
    keeper: LeaseKeeper | None = None
    heartbeat: Callable[[], None] | None = None
    delivered: int = field(default=0, init=False)
    attempted: int = field(default=0, init=False)

    def deliver_next(self) -> bool | None:
        """Claim and deliver the most urgent due row.

        Returns None when nothing is due, else whether the desk has the report.
        """
        claimed = self.outbox.claim_due(now=self.clock(), limit=1, lease=self.lease)
        if not claimed:
            return None
        return self.deliver(claimed[0])

    def deliver(self, item: OutboxItem) -> bool:
        """Deliver one claimed row and record the outcome; True when delivered."""
        self.attempted += 1
        try:
            connector = self.connector_for(item.destination)
        except (ValueError, ConfigError) as error:
            # A row routed under an older configuration whose desk is gone or
            # lacks credentials now: keep it, and make the operator look.
            log.error("ALERT delivery of %s has no usable connector for %s: %s", item.ref,
                      without_query(item.destination), error)
            self.outbox.mark_retry(item, f"no connector: {error}", retry_at(item, self.clock()))
            return False
        try:
            with self.keeper.hold(item) if self.keeper is not None else nullcontext():
                ok = deliver_item(self.outbox, item, connector, now=self.clock())
        except OutcomeNotRecorded:
            log.exception("ALERT the desk's answer for %s could not be recorded; the row comes due again "
                          "when its lease ends", item.ref)
            return False
        except Exception as error:  # a bug or the database: retry later
            log.exception("delivery of %s crashed; it is retried", item.ref)
            try:
                self.outbox.mark_retry(item, f"internal error ({type(error).__name__})", retry_at(item, self.clock()))
            except Exception:  # the database is down: the lease expires and the row is due again
                log.exception("could not schedule the retry of %s; it is due again when its lease ends", item.ref)
            return False
        if ok:
            self.delivered += 1
        return ok

    def run_once(self, stop: threading.Event | None = None) -> int:
        """Deliver everything due now, then return how many reached a desk.

        Rows that fail are rescheduled into the future, so this ends.
        """
        before = self.delivered
        while stop is None or not stop.is_set():
            if self.deliver_next() is None:
                break
        return self.delivered - before

    def run(self, stop: threading.Event) -> int:
        """Deliver until ``stop`` is set; return how many reached a desk.

        Waits ``poll_seconds`` when nothing is due or the database is
        unreachable; ``stop`` interrupts the wait at once.
        """
        before = self.delivered
        log.info("delivery worker started")
        while not stop.is_set():
            if self.heartbeat is not None:
                self.heartbeat()
            try:
                outcome = self.deliver_next()
            except Exception:  # database unreachable: wait and try again
                log.exception("delivery worker cannot claim work; retrying in %.0f s", self.poll_seconds)
                stop.wait(self.poll_seconds)
                continue
            if outcome is None:
                stop.wait(self.poll_seconds)
        log.info("delivery worker stopped after %d deliveries", self.delivered - before)
        return self.delivered - before


def run_workers(outbox: OutboxStore, connector_for: Callable[[str], Connector], threads: int, stop: threading.Event,
                once: bool = False, lease: timedelta = DEFAULT_LEASE,
                poll_seconds: float = DEFAULT_POLL_SECONDS, keeper: LeaseKeeper | None = None,
                heartbeat: Callable[[], None] | None = None) -> int:
    """Run ``threads`` workers side by side until done (``once``) or ``stop``; return deliveries.

    The calling thread only waits, so it stays free to receive signals and
    set ``stop``; every worker then finishes its delivery in flight. The
    workers share one lease keeper (``keeper``, or one of their own).
    """
    keeper = keeper or LeaseKeeper(outbox, lease)
    workers = [Worker(outbox, connector_for, lease=lease, poll_seconds=poll_seconds, keeper=keeper,
                      heartbeat=heartbeat) for _ in range(threads)]
    runners = [threading.Thread(target=worker.run_once if once else worker.run, args=(stop,),
                                name=f"delivery-{number}", daemon=True)
               for number, worker in enumerate(workers)]
    for runner in runners:
        runner.start()
    for runner in runners:
        while runner.is_alive():
            runner.join(0.2)
    return sum(worker.delivered for worker in workers)
