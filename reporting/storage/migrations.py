"""Versioned schema migrations, run by the tool itself.

``flask --app app reporting migrate`` (and every start of the web app or
worker) applies the migrations whose number is above the version recorded
in ``schema_version``, each in its own transaction where the database
allows it. To change the schema: edit :mod:`reporting.storage.schema`, append a
function here that brings an existing database to the new shape, and
append it to :data:`MIGRATIONS`. Each migration MUST be safe on a database
that already has its change (a fresh database is created from the current
tables by migration 1), which is why they check before they alter.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import Connection, DefaultClause, Engine, Table, inspect, select

from reporting.storage import schema

log = logging.getLogger(__name__)


def _create_tables(connection: Connection) -> None:
    """1: every table of the current schema that does not exist yet."""
    schema.metadata.create_all(connection, checkfirst=True)


def _create_barred_users(connection: Connection) -> None:
    """2: the Trust & Safety bar list (already there on databases created at 2)."""
    schema.barred_users.create(connection, checkfirst=True)


def _create_wiki_registry(connection: Connection) -> None:
    """4: the stored sitematrix (already there on databases created at 4)."""
    schema.wiki_registry.create(connection, checkfirst=True)


def _add_missing_columns(connection: Connection, table: Table, names: tuple[str, ...]) -> None:
    """Add the columns of ``table`` named ``names`` that the database lacks, as the schema declares them."""
    existing = {column["name"] for column in inspect(connection).get_columns(table.name)}
    for name in names:
        if name in existing:
            continue
        column = table.c[name]
        ddl = column.type.compile(dialect=connection.dialect)
        server_default = column.server_default
        default = f" DEFAULT '{server_default.arg}'" if isinstance(server_default, DefaultClause) else ""
        null = "" if column.nullable else " NOT NULL"
        connection.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {name} {ddl}{default}{null}")


def _evidence_and_retention_columns(connection: Connection) -> None:
    """5: evidence resolution state and the retention purge mark on reports."""
    table = schema.reports
    _add_missing_columns(connection, table, ("evidence_state", "evidence_attempts", "evidence_next_at", "purged_at"))
    indexes = {index["name"] for index in inspect(connection).get_indexes("reports")}
    if "ix_reports_evidence" not in indexes:
        next(index for index in table.indexes if index.name == "ix_reports_evidence").create(connection)


def _create_login_sessions(connection: Connection) -> None:
    """6: server-side records of login sessions (logout and Trust & Safety can end them)."""
    schema.login_sessions.create(connection, checkfirst=True)


def _create_submission_keys(connection: Connection) -> None:
    """7: idempotency keys of submissions (already there on databases created at 7)."""
    schema.submission_keys.create(connection, checkfirst=True)


def _case_tables(connection: Connection) -> None:
    """10: the case lifecycle: follow-ups, the timeline, desk sync state, periodic job runs."""
    for table in (schema.followups, schema.case_events, schema.desk_tickets, schema.periodic_runs):
        table.create(connection, checkfirst=True)


def _outbox_kinds(connection: Connection) -> None:
    """11: outbox rows that deliver a follow-up or withdrawal instead of a report."""
    _add_missing_columns(connection, schema.outbox, ("kind", "followup_id"))


def _workspace_columns(connection: Connection) -> None:
    """12: the functionaries' workspace: a case's assignee, the author of a functionary's entry."""
    _add_missing_columns(connection, schema.reports, ("assignee",))
    _add_missing_columns(connection, schema.case_events, ("actor",))


def _oversight(connection: Connection) -> None:
    """13: misuse suspensions, the audit log's monthly summary, and its indexes for cross-case reading."""
    for table in (schema.audit_summary, schema.misuse_suspensions):
        table.create(connection, checkfirst=True)
    indexes = {index["name"] for index in inspect(connection).get_indexes("audit_log")}
    for index in schema.audit_log.indexes:
        if index.name in ("ix_audit_at", "ix_audit_actor_at") and index.name not in indexes:
            index.create(connection)


def _key_inventory(connection: Connection) -> None:
    """14: which keys may have written rows, rekey's progress, and barred names sealed for re-hashing."""
    schema.encryption_keys.create(connection, checkfirst=True)
    schema.rekey_progress.create(connection, checkfirst=True)
    _add_missing_columns(connection, schema.barred_users, ("name_sealed",))


def _create_form_drafts(connection: Connection) -> None:
    """15: report forms kept while their reporter logs in again (already there on databases created at 15)."""
    schema.form_drafts.create(connection, checkfirst=True)


def _session_standing_columns(connection: Connection) -> None:
    """16: login sessions remember when their user's misuse standing was last found clear."""
    _add_missing_columns(connection, schema.login_sessions, ("misuse_epoch", "clear_epoch"))


MIGRATIONS: tuple[tuple[int, str, Callable[[Connection], None]], ...] = (
    (1, "create tables", _create_tables),
    (2, "barred_users", _create_barred_users),
    (4, "wiki registry table", _create_wiki_registry),
    (5, "evidence state and retention columns", _evidence_and_retention_columns),
    (6, "login sessions", _create_login_sessions),
    (7, "submission keys", _create_submission_keys),
    (10, "case lifecycle tables", _case_tables),
    (11, "outbox kinds", _outbox_kinds),
    (12, "workspace: assignee and entry authors", _workspace_columns),
    (13, "misuse suspensions, audit summary and indexes", _oversight),
    (14, "key inventory, rekey progress, sealed barred names", _key_inventory),
    (15, "form drafts", _create_form_drafts),
    (16, "login sessions: misuse standing epochs", _session_standing_columns),
)


def current_version(connection: Connection) -> int:
    if not inspect(connection).has_table("schema_version"):
        return 0
    return connection.execute(select(schema.schema_version.c.version).order_by(
        schema.schema_version.c.version.desc()).limit(1)).scalar() or 0


MIGRATION_LOCK_SECONDS = 300


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """Serialise migrations across processes.

    Several web replicas and workers may start at once on an empty database.
    MariaDB commits DDL implicitly, so transactions cannot keep two of them
    from creating the same table; a named lock (per database: lock names are
    server-wide, and ToolsDB is shared) makes the others wait, then find the
    work done. On SQLite every migration already runs in its own ``BEGIN
    IMMEDIATE`` transaction and checks the version first.
    """
    if engine.dialect.name not in ("mysql", "mariadb"):
        yield
        return
    with engine.connect() as connection:
        name = "CONCAT(DATABASE(), '.reporting-migrations')"
        got = connection.exec_driver_sql(f"SELECT GET_LOCK({name}, {MIGRATION_LOCK_SECONDS})").scalar()
        if got != 1:
            raise RuntimeError(f"another process held the migration lock for {MIGRATION_LOCK_SECONDS} s")
        try:
            yield
        finally:
            connection.exec_driver_sql(f"SELECT RELEASE_LOCK({name})")


def migrate(engine: Engine) -> int:
    """Apply pending migrations; return the resulting version.

    Any number of processes may call this at once (:func:`_migration_lock`);
    the migrations themselves are idempotent besides.
    """
    with _migration_lock(engine):
        return _apply_pending(engine)


def _apply_pending(engine: Engine) -> int:
    with engine.begin() as connection:
        version = current_version(connection)
    for number, description, apply in MIGRATIONS:
        if number <= version:
            continue
        with engine.begin() as connection:
            if current_version(connection) >= number:
                continue
            log.info("applying migration %d: %s", number, description)
            apply(connection)
            connection.execute(schema.schema_version.insert().values(
                version=number, applied_at=datetime.now(UTC).replace(tzinfo=None)))
        version = number
    return version
