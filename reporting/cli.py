"""Operator commands: ``flask --app app reporting <command>``."""
from __future__ import annotations

import os
import signal
import threading
from datetime import timedelta
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from reporting.cases import cli as cases_cli
from reporting.components import Components
from reporting.delivery.worker import run_workers
from reporting.housekeeping import INTERVAL_SECONDS as MAINTENANCE_INTERVAL_SECONDS
from reporting.intake.eligibility import BAR_REASONS, bar, unbar
from reporting.storage.crypto import generate_key


def write_instance_keys(instance: Path) -> list[str]:
    """Generate ``secret.key`` and ``encryption.key`` once (mode 0600); never overwrite.

    Overwriting the encryption key would make every stored report unreadable.
    """
    instance.mkdir(parents=True, exist_ok=True, mode=0o700)
    created = []
    for name in ("secret.key", "encryption.key"):
        path = instance / name
        if path.exists():
            continue
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(generate_key() + "\n")
        created.append(name)
    return created


def init_app(app: Flask, components: Components) -> None:
    # AppGroup: every command runs inside the app context (also under test_cli_runner).
    group = AppGroup("reporting", help="Incident reporting tool commands.")

    @group.command("migrate")
    def migrate_command() -> None:
        """Create or upgrade the database schema."""
        version = components.stores.migrate()
        click.echo(f"schema at version {version}")

    @group.command("worker")
    @click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
    @click.option("--poll-seconds", type=click.FloatRange(min=0.01), default=2.0, show_default=True,
                  help="Wait between looks at an empty outbox.")
    @click.option("--lease-seconds", type=click.FloatRange(min=1.0), default=300.0, show_default=True,
                  help="How long a claimed row stays with this worker if it dies mid-delivery.")
    @click.option("--threads", type=click.IntRange(1, 32), default=4, show_default=True,
                  help="Deliveries in flight at once (each claims one row at a time).")
    def worker_command(once: bool, poll_seconds: float, lease_seconds: float, threads: int) -> None:
        """Deliver queued reports, emergencies first (a continuous job; SIGTERM stops it cleanly)."""
        run_worker(components, once=once, poll_seconds=poll_seconds, lease_seconds=lease_seconds,
                   threads=threads)

    @group.command("deliver")
    def deliver_command() -> None:
        """Deliver every due outbox row once and exit (same as ``worker --once``)."""
        run_worker(components, once=True)

    @group.command("bar")
    @click.argument("username")
    @click.option("--reason", type=click.Choice(BAR_REASONS), default=BAR_REASONS[0], show_default=True,
                  help="Why (a code; the bar list stores no free text).")
    def bar_command(username: str, reason: str) -> None:
        """Bar USERNAME from sending reports (Trust & Safety decision)."""
        if bar(components.stores.bar_list, username, reason):
            click.echo("barred")
        else:
            click.echo("already barred")

    @group.command("unbar")
    @click.argument("username")
    def unbar_command(username: str) -> None:
        """Let USERNAME send reports again."""
        if unbar(components.stores.bar_list, username):
            click.echo("no longer barred")
        else:
            raise click.ClickException("this user was not barred")

    @group.command("barred")
    def barred_command() -> None:
        """How many users are barred (the list holds only hashes, not names)."""
        click.echo(f"{components.stores.bar_list.count()} barred")

    @group.command("purge")
    def purge_command() -> None:
        """Wipe the content of reports past the retention period (`retention_days`)."""
        click.echo(f"purged {components.purge_expired()}")

    @group.command("refresh-wikis")
    def refresh_wikis_command() -> None:
        """Download the sitematrix (the list of Wikimedia wikis) and store it.

        Run daily as a scheduled job; the worker also refreshes it when it is
        older than a day. A failed download keeps the stored list.
        """
        count = components.registry_refresh.refresh()
        click.echo(f"stored {count} wikis")

    cases_cli.register(group, components)
    app.cli.add_command(group)


def run_worker(components: Components, once: bool, poll_seconds: float = 2.0, lease_seconds: float = 300.0,
               threads: int = 4) -> int:
    """Run the delivery worker of the current app until done (``once``) or SIGTERM/SIGINT.

    The signal only sets a flag: the delivery in flight finishes and is
    recorded before the worker exits, so a deploy never strands a claim.
    """
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    housekeeping = None
    if not once:
        # Evidence retries, the daily sitematrix refresh and retention, beside delivery.
        def maintain() -> None:
            while not stop.is_set():
                components.maintain(stop)
                stop.wait(MAINTENANCE_INTERVAL_SECONDS)
        housekeeping = threading.Thread(target=maintain, name="maintenance", daemon=True)
        housekeeping.start()
    try:
        delivered = run_workers(components.stores.outbox, components.delivery.connectors.connector_for, threads,
                                stop, once=once,
                                lease=timedelta(seconds=lease_seconds), poll_seconds=poll_seconds)
        if once:
            components.maintain()
    finally:
        stop.set()
        if housekeeping is not None:
            housekeeping.join(30)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo(f"delivered {delivered}")
    return delivered
