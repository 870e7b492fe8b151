"""Operator commands: ``flask --app app reporting <command>``."""
from __future__ import annotations

import os
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from .crypto import generate_key
from .eligibility import BAR_REASONS, bar, unbar


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


def init_app(app: Flask) -> None:
    # AppGroup: every command runs inside the app context (also under test_cli_runner).
    group = AppGroup("reporting", help="Incident reporting tool commands.")

    @group.command("migrate")
    def migrate_command() -> None:
        """Create or upgrade the database schema."""
        version = current_app.extensions["reporting"].store.migrate()
        click.echo(f"schema at version {version}")

    @group.command("deliver")
    def deliver_command() -> None:
        """Deliver every due outbox row once and exit."""
        from .delivery.outbox import deliver_due

        services = current_app.extensions["reporting"]
        total = 0
        while (count := deliver_due(services.store, services.connector_for)):
            total += count
        click.echo(f"delivered {total}")

    @group.command("bar")
    @click.argument("username")
    @click.option("--reason", type=click.Choice(BAR_REASONS), default=BAR_REASONS[0], show_default=True,
                  help="Why (a code; the bar list stores no free text).")
    def bar_command(username: str, reason: str) -> None:
        """Bar USERNAME from sending reports (Trust & Safety decision)."""
        store = current_app.extensions["reporting"].store
        if bar(store, username, reason):
            click.echo("barred")
        else:
            click.echo("already barred")

    @group.command("unbar")
    @click.argument("username")
    def unbar_command(username: str) -> None:
        """Let USERNAME send reports again."""
        store = current_app.extensions["reporting"].store
        if unbar(store, username):
            click.echo("no longer barred")
        else:
            raise click.ClickException("this user was not barred")

    @group.command("barred")
    def barred_command() -> None:
        """How many users are barred (the list holds only hashes, not names)."""
        click.echo(f"{current_app.extensions['reporting'].store.count_barred()} barred")

    @group.command("refresh-wikis")
    def refresh_wikis_command() -> None:
        """Download the sitematrix (the list of Wikimedia wikis) and store it.

        Run daily as a scheduled job; the worker also refreshes it when it is
        older than a day. A failed download keeps the stored list.
        """
        services = current_app.extensions["reporting"]
        count = services.refresh_wiki_registry()
        click.echo(f"stored {count} wikis")

    app.cli.add_command(group)
