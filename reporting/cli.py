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
from reporting.delivery.destinations import without_query
from reporting.gadget.cli import register as register_gadget_commands
from reporting.identity.usernames import canonical_username
from reporting.intake.eligibility import BAR_REASONS, bar, unbar
from reporting.private_paths import private_dir
from reporting.storage.crypto import generate_key
from reporting.storage.database import utcnow
from reporting.storage.outbox import DEFAULT_LEASE
from reporting.storage.rekey import StepResult
from reporting.worker_job import run_job, touch


def write_instance_keys(instance: Path) -> list[str]:
    """Generate ``secret.key`` and ``encryption.key`` once (mode 0600); never overwrite.

    Overwriting the encryption key would make every stored report unreadable.
    """
    private_dir(instance)
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
    register_gadget_commands(group, components.config, components.evidence.is_known_api)

    @group.command("migrate")
    def migrate_command() -> None:
        """Create or upgrade the database schema."""
        version = components.stores.migrate()
        click.echo(f"schema at version {version}")

    @group.command("worker")
    @click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
    @click.option("--poll-seconds", type=click.FloatRange(min=0.01), default=2.0, show_default=True,
                  help="Wait between looks at an empty outbox.")
    @click.option("--lease-seconds", type=click.FloatRange(min=1.0), default=DEFAULT_LEASE.total_seconds(),
                  show_default=True, help="How long a claim lasts unless renewed: a dead worker's rows are "
                  "delivered again this soon. Renewed while a delivery runs.")
    @click.option("--threads", type=click.IntRange(1, 32), default=4, show_default=True,
                  help="Deliveries in flight at once (each claims one row at a time).")
    @click.option("--heartbeat-file", type=click.Path(dir_okay=False, path_type=Path),
                  help="Touched on every turn; the job's health check deletes it (see jobs.yaml).")
    def worker_command(once: bool, poll_seconds: float, lease_seconds: float, threads: int,
                       heartbeat_file: Path | None) -> None:
        """Deliver queued reports, emergencies first (a continuous job; SIGTERM stops it cleanly)."""
        run_worker(components, once=once, poll_seconds=poll_seconds, threads=threads,
                   lease=timedelta(seconds=lease_seconds), heartbeat_file=heartbeat_file)

    @group.command("deliver")
    def deliver_command() -> None:
        """Deliver every due outbox row once and exit (same as ``worker --once``)."""
        run_worker(components, once=True)

    @group.command("outbox")
    def outbox_command() -> None:
        """List the reports no desk has yet: pending, claimed or failed (no content)."""
        entries = components.stores.outbox.entries()
        if not entries:
            click.echo("nothing waiting: every report is with a desk")
            return
        now = utcnow()
        click.echo("ref                      state    attempts  age       destination / last error")
        for entry in entries:
            state = entry.state
            if entry.claimed_until is not None and entry.claimed_until > now:
                state = "claimed"
            click.echo(f"{entry.ref}  {state:<8} {entry.attempts:>8}  {_age(now - entry.created_at):<8}  "
                       f"{without_query(entry.destination)}")
            if entry.last_error:
                click.echo(f"{'':<45}{entry.last_error[:100]}")

    @group.command("requeue")
    @click.option("--ref", "refs", multiple=True, help="A report reference (repeatable).")
    @click.option("--failed", is_flag=True, help="Every row a desk refused permanently.")
    @click.option("--reroute", is_flag=True, help="Choose each row's destination again with the current rules.")
    def requeue_command(refs: tuple[str, ...], failed: bool, reroute: bool) -> None:
        """Send undelivered reports again (after a desk or its address was fixed)."""
        if not refs and not failed:
            raise click.UsageError("say which rows: --ref REF (repeatable) and/or --failed")
        router = components.delivery.router
        done = components.stores.outbox.requeue(refs, failed=failed,
                                                reroute=router.destination_for if reroute else None)
        for entry, destination in done:
            moved = f" -> {without_query(destination)}" if destination != entry.destination else ""
            click.echo(f"requeued {entry.ref} ({without_query(entry.destination)}{moved})")
        missing = set(refs) - {entry.ref for entry, _ in done}
        for ref in sorted(missing):
            click.echo(f"not requeued {ref}: unknown, already delivered, or being delivered right now")
        click.echo(f"{len(done)} requeued")

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

    @group.command("lift-suspension")
    @click.argument("username")
    def lift_suspension_command(username: str) -> None:
        """Let USERNAME send non-emergency reports again after a misuse suspension (audited as "cli").

        The declines that led to it never count again. The name is hashed at once, as the
        suspensions are stored (only keyed hashes).
        """
        if components.stores.misuse.lift_for(canonical_username(username), "cli"):
            click.echo("suspension lifted")
        else:
            raise click.ClickException("this user is not suspended")

    @group.command("end-sessions")
    @click.argument("username")
    def end_sessions_command(username: str) -> None:
        """Log USERNAME out everywhere now (a stolen cookie, a compromised account)."""
        ended = components.stores.login_sessions.close_all_of(canonical_username(username))
        click.echo(f"ended {ended} sessions")

    @group.command("barred")
    def barred_command() -> None:
        """How many users are barred (the list holds only hashes, not names)."""
        click.echo(f"{components.stores.bar_list.count()} barred")

    @group.command("purge")
    def purge_command() -> None:
        """Wipe the content of reports past the retention period (`retention_days`)."""
        click.echo(f"purged {components.purge_expired()}")

    @group.command("rekey")
    @click.option("--forget-unmatched", is_flag=True,
                  help="Lift the bars, and detach the purged cases from their reporters, whose names the "
                       "database no longer holds (what removing the old key would do to them), so the old "
                       "key can go.")
    def rekey_command(forget_unmatched: bool) -> None:
        """Re-seal and re-hash everything under the current encryption key, so old keys can be removed.

        In batches, each committed: safe to interrupt and run again (it resumes).
        Run it once every process runs with the new key; then remove the old one
        from encryption_old_keys.
        """
        sealer = components.stores.reports.sealer
        click.echo(f"current key id {sealer.primary_key_id}; configured: {', '.join(sealer.key_ids)}")

        def progress(step: StepResult) -> None:
            click.echo(f"{step.name}: {step.done} of {step.total} looked at, {step.changed} changed")

        result = components.stores.rekey().run(progress, forget_unmatched=forget_unmatched)
        for step in result.steps:
            click.echo(f"{step.name}: done ({step.changed} changed, {step.unmatched} left under an old key)")
        if result.unmatched:
            click.echo(f"{result.unmatched} rows still need an old key (unreadable, or a barred user or purged "
                       "case whose name the database does not hold): keep the old keys configured, or run "
                       "again with --forget-unmatched", err=True)
            raise SystemExit(1)
        retired = ", ".join(result.retired) or "none"
        click.echo(f"everything is under key {sealer.primary_key_id}; keys no longer needed: {retired}. "
                   "Remove them from encryption_old_keys (TOOL_ENCRYPTION_OLD_KEYS).")

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


def run_worker(components: Components, once: bool, poll_seconds: float = 2.0, threads: int = 4,
               lease: timedelta | None = None, heartbeat_file: Path | None = None) -> int:
    """Run the delivery job until done (``once``) or SIGTERM/SIGINT.

    The signal only sets a flag: the delivery in flight finishes and is
    recorded before the worker exits, so a deploy never strands a claim.
    """
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        delivered = run_job(components, stop, once=once, threads=threads, poll_seconds=poll_seconds, lease=lease,
                            heartbeat=touch(heartbeat_file) if heartbeat_file else None)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo(f"delivered {delivered}")
    return delivered


def _age(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"
