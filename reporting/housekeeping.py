"""The worker's periodic turn: the daily sitematrix refresh, evidence retries, the status sync, retention.

Every part fails on its own (the database may be down: next turn), and a
turn never raises.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 60.0


def run_maintenance(tasks: Sequence[Callable[[], object]], stop: threading.Event | None = None) -> None:
    """One turn: each task in order, until ``stop`` is set."""
    for task in tasks:
        if stop is not None and stop.is_set():
            return
        try:
            task()
        except Exception:
            log.exception("maintenance task failed; it runs again next turn")
