"""Operator commands: ``flask --app app reporting <command>``."""
from __future__ import annotations

import os
from pathlib import Path

import click
from flask import Flask, current_app

from .crypto import generate_key


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
    group = click.Group("reporting", help="Incident reporting tool commands.")

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

    app.cli.add_command(group)
