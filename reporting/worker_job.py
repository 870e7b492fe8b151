"""The delivery job: delivery threads plus the housekeeping turn, until stopped.

Production runs it as its own process, a Toolforge continuous job
(``flask --app app reporting worker``, see ``jobs.yaml``). On the embedded
default (``make run``, no worker job) the web process runs the same job in
background threads, so a report whose in-request delivery failed, or that a
dying request left claimed, still reaches the desk without any other process
(setting ``delivery.worker_in_web``).
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from flask import Flask

from reporting.components import Components
from reporting.delivery.leases import LeaseKeeper
from reporting.delivery.worker import DEFAULT_POLL_SECONDS, run_workers
from reporting.housekeeping import INTERVAL_SECONDS

log = logging.getLogger(__name__)

JOB_KEY = "reporting.delivery_job"


def touch(path: Path) -> Callable[[], None]:
    """A heartbeat that touches ``path``; the job's health check deletes it
    and fails when it was not there (the worker stopped turning)."""
    def beat() -> None:
        try:
            path.touch()
        except OSError:
            log.warning("could not touch the heartbeat file %s", path, exc_info=True)
    return beat


def run_job(components: Components, stop: threading.Event, *, once: bool = False, threads: int = 4,
            poll_seconds: float = DEFAULT_POLL_SECONDS, lease: timedelta | None = None,
            heartbeat: Callable[[], None] | None = None) -> int:
    """Deliver (and, unless ``once``, keep house) until ``stop`` is set; return deliveries.

    With ``once``: deliver what is due now, run one housekeeping turn, return.
    ``lease`` replaces the default lease of this job's claims.
    """
    keeper = components.leases if lease is None else LeaseKeeper(components.stores.outbox, lease)
    housekeeping = None
    if not once:
        # Evidence retries, the daily sitematrix refresh and retention, beside delivery.
        def maintain() -> None:
            while not stop.is_set():
                components.maintain(stop)
                stop.wait(INTERVAL_SECONDS)
        housekeeping = threading.Thread(target=maintain, name="maintenance", daemon=True)
        housekeeping.start()
    try:
        delivered = run_workers(components.stores.outbox, components.delivery.connectors.connector_for, threads,
                                stop, once=once, lease=keeper.lease, poll_seconds=poll_seconds,
                                keeper=keeper, heartbeat=heartbeat)
        if once:
            components.maintain()
    finally:
        stop.set()
        if housekeeping is not None:
            housekeeping.join(30)
    return delivered


def start_in_background(components: Components, threads: int = 1) -> threading.Event:
    """Run the job in daemon threads of this (web) process; set the returned event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(target=run_job, args=(components, stop), kwargs={"threads": threads},
                              name="delivery-job", daemon=True)
    thread.start()
    log.info("delivery job running inside the web process (no separate worker job configured)")
    return stop


def start_with_first_request(app: Flask, components: Components) -> None:
    """Start :func:`start_in_background` when ``app`` serves its first request,
    so that CLI commands built on the same app never deliver on the side.
    Setting ``app.extensions["reporting.delivery_job"]`` (an event) stops it."""
    lock = threading.Lock()

    @app.before_request
    def _start_delivery_job() -> None:
        if JOB_KEY in app.extensions:
            return
        with lock:
            if JOB_KEY not in app.extensions:
                app.extensions[JOB_KEY] = start_in_background(components)
