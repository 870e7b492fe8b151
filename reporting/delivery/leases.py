"""Keeping the outbox rows a process is delivering leased, and only those.

A claim is a short lease (:data:`reporting.storage.outbox.DEFAULT_LEASE`), so
the rows of a worker that died (SIGKILL, OOM, a lost node) come due again
within seconds. A delivery can take longer than a lease (a slow desk, several
round trips), so while it runs, this process renews its lease every
``interval`` seconds from one background thread. When the process dies, the
renewals stop with it and the lease runs out on its own.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from reporting.storage.outbox import DEFAULT_LEASE, OutboxStore
from reporting.storage.records import OutboxItem

log = logging.getLogger(__name__)


class LeaseKeeper:
    def __init__(self, outbox: OutboxStore, lease: timedelta = DEFAULT_LEASE, interval: float | None = None) -> None:
        self.outbox = outbox
        self.lease = lease
        # Three renewals per lease: one failed renewal (a database blip) does not lose the row.
        self.interval = interval if interval is not None else lease.total_seconds() / 4
        self._held: dict[int, OutboxItem] = {}
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None

    @contextmanager
    def hold(self, item: OutboxItem) -> Iterator[None]:
        """Keep ``item``'s lease renewed while the body runs."""
        with self._lock:
            self._held[item.id] = item
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._renew_forever, name="outbox-leases", daemon=True)
                self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                self._held.pop(item.id, None)

    def held(self) -> list[OutboxItem]:
        with self._lock:
            return list(self._held.values())

    def _renew_forever(self) -> None:
        while True:
            with self._wake:
                self._wake.wait(self.interval)
                items = list(self._held.values())
            if items:
                self.renew(items)

    def renew(self, items: list[OutboxItem]) -> int:
        """Extend the leases of ``items`` now; never raises (the next turn tries again)."""
        try:
            return self.outbox.renew(items, self.lease)
        except Exception:
            log.warning("could not renew the leases of %d deliveries in flight", len(items), exc_info=True)
            return 0
