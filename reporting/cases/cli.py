"""``flask --app app reporting sync-status``: one pass of the status sync by hand.

The continuous worker runs the same pass every ``status_sync.interval_minutes``;
this command runs it now, whenever it last ran (e.g. after a desk outage).
"""
from __future__ import annotations

import click
from flask.cli import AppGroup

from reporting.components import Components


def register(group: AppGroup, components: Components) -> None:
    @group.command("sync-status")
    def sync_status_command() -> None:
        """Ask Zendesk and Znuny desks once what became of open cases."""
        outcome = components.status_sync.run_once()
        click.echo(f"synced {outcome.cases} cases at {outcome.desks} desks: {outcome.changed} changed, "
                   f"{outcome.messages} new messages, {outcome.failed_desks} desks failed")
        if outcome.failed_desks:
            raise SystemExit(1)
