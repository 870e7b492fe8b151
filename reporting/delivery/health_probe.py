"""The database half of ``/healthz``: one check at a time, waited for a bounded time.

Toolforge's health check and operators' monitors must get an answer within
2 s whatever the database does: a check that waited for an unreachable
database would hang the probe, and a probe per request would pile checks
onto a database that is already struggling. So a check runs in a thread
of its own; a request that arrives while one is in flight waits for that
same check (single flight), and waits at most ``wait_seconds``: a check
that has not answered by then counts as "database unreachable". The check
itself is bounded too (it reads through the short-limit engine of
:class:`reporting.storage.Stores`), so a stuck check ends and the next
request starts a fresh one.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from reporting.storage.outbox import HealthFigures

log = logging.getLogger(__name__)

DEFAULT_WAIT_SECONDS = 1.5


class _Flight:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.figures: HealthFigures | None = None


class HealthProbe:
    def __init__(self, check: Callable[[], HealthFigures], wait_seconds: float = DEFAULT_WAIT_SECONDS) -> None:
        self._check = check
        self.wait_seconds = wait_seconds
        self._lock = threading.Lock()
        self._flight: _Flight | None = None
        self.checks_started = 0  # for tests and curiosity: how many checks ran

    def figures(self) -> HealthFigures | None:
        """The figures of the current check, or None when the database failed
        or did not answer within ``wait_seconds``."""
        with self._lock:
            flight = self._flight
            if flight is None or flight.done.is_set():
                flight = self._flight = _Flight()
                self.checks_started += 1
                threading.Thread(target=self._run, args=(flight,), name="health-check", daemon=True).start()
        if not flight.done.wait(self.wait_seconds):
            log.warning("health check: the database did not answer within %.1f s", self.wait_seconds)
            return None
        return flight.figures

    def _run(self, flight: _Flight) -> None:
        try:
            flight.figures = self._check()
        except Exception:
            log.warning("health check: the database is unreachable", exc_info=True)
        finally:
            flight.done.set()
