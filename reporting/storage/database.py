"""The engines every store shares, with the settings and time limits each backend needs.

SQLite (the embedded default) and MariaDB (ToolsDB) are both first-class:
the test suite runs the same store tests on each.

Every wait on the database is bounded. Without a limit, a network split to
ToolsDB (connections held open, nothing answered) blocks each web thread
for as long as the split lasts, and the reporter's browser gives up while
the request may still commit later. PyMySQL has three limits and they cover
different things (see ``pymysql.connections.Connection.connect``):
``connect_timeout`` bounds only the TCP connect; the server's greeting and
the login are *reads*, bounded by ``read_timeout``, like every answer to a
query; ``write_timeout`` bounds sending. The pool's ``pool_timeout`` bounds
the wait for a free pooled connection, and SQLite's busy timeout the wait
for its write lock. An error raised by any of them is "unavailable"
(:func:`is_unavailable`): a 503 and a retry, never a lost report, because a
report is written in one transaction or not at all.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.functions import FunctionElement

from reporting.config import Config, Setting, parse_positive_float, register_settings

register_settings(
    Setting("database.connect_timeout_seconds", parse_positive_float, 5.0,
            "Seconds to open a TCP connection to MariaDB."),
    Setting("database.timeout_seconds", parse_positive_float, 10.0,
            "Seconds any single wait on the database may take: each answer from MariaDB (logging in "
            "included), each write to it, the wait for a free pooled connection, and on SQLite the wait "
            "for the write lock. A statement that meets an unreachable database gives up after about twice "
            "this (the check of a pooled connection, then one new connection) and the request answers 503. "
            "Schema migrations may wait longer."),
)

#: Schema migrations may rebuild an index of a large table or wait for
#: another replica's migration lock: far longer than any request should.
MIGRATION_WAIT_SECONDS = 600.0
#: ``/healthz`` must answer within 2 s whatever the database does.
HEALTH_WAIT_SECONDS = 1.0


@dataclass(frozen=True)
class DatabaseTimeouts:
    """``connect``: the TCP connect to MariaDB. ``wait``: every other single
    wait (an answer, a write, a pooled connection, SQLite's write lock)."""

    connect: float = 5.0
    wait: float = 10.0

    @classmethod
    def from_config(cls, config: Config) -> DatabaseTimeouts:
        return cls(connect=float(config["database.connect_timeout_seconds"]),
                   wait=float(config["database.timeout_seconds"]))

    def for_migrations(self) -> DatabaseTimeouts:
        return replace(self, wait=max(self.wait, MIGRATION_WAIT_SECONDS))

    def for_health(self) -> DatabaseTimeouts:
        return DatabaseTimeouts(connect=min(self.connect, HEALTH_WAIT_SECONDS),
                                wait=min(self.wait, HEALTH_WAIT_SECONDS))


def utcnow() -> datetime:
    """Naive UTC, the form both databases store without surprises."""
    return datetime.now(UTC).replace(tzinfo=None)


class database_utcnow(FunctionElement[datetime]):  # noqa: N801 - named as SQL functions are
    """The current UTC time, read by the database itself, comparable with the naive UTC datetimes
    the tool stores: for a statement run on every request, where converting the time in Python and
    binding it cost more than the comparison (:mod:`reporting.storage.login_sessions`). Both clocks
    are the host's (SQLite) or NTP-synchronised (MariaDB)."""

    type = DateTime()
    inherit_cache = True


@compiles(database_utcnow)
def _named_utcnow(element: database_utcnow, compiler: Any, **kw: Any) -> str:
    # Statements shown in messages (``str(statement)``); a database other than these two fails on it.
    return "UTC_NOW()"


@compiles(database_utcnow, "sqlite")
def _sqlite_utcnow(element: database_utcnow, compiler: Any, **kw: Any) -> str:
    # Milliseconds, in the text form SQLAlchemy stores (``2026-12-02 08:00:00.123456`` compares
    # after ``2026-12-02 08:00:00.123``: at most a millisecond late).
    return "strftime('%Y-%m-%d %H:%M:%f', 'now')"


@compiles(database_utcnow, "mysql", "mariadb")
def _mysql_utcnow(element: database_utcnow, compiler: Any, **kw: Any) -> str:
    return "UTC_TIMESTAMP(6)"


def make_engine(url: str, timeouts: DatabaseTimeouts | None = None, *, checks_only: bool = False) -> Engine:
    """An engine with the settings each backend needs for the outbox to be safe.

    ``hide_parameters``: SQLAlchemy puts a failed statement's parameters into
    its exception messages, and those parameters are sealed reports and
    keyed hashes; logs must never hold them.

    ``checks_only``: an engine for short read-only checks (``/healthz``) that
    must never queue behind the tool's own work: a new connection per use
    (no pool to wait for, no stale pooled connection to test first), and on
    SQLite plain deferred transactions, which read a WAL database without
    waiting for the write lock. Callers MUST NOT write through it.
    """
    timeouts = timeouts or DatabaseTimeouts()
    parsed = make_url(url)
    pooling: dict[str, Any] = {"poolclass": NullPool} if checks_only else {"pool_timeout": timeouts.wait}
    if parsed.get_backend_name() == "sqlite":
        busy_ms = max(1, int(timeouts.wait * 1000))
        engine = create_engine(url, connect_args={"timeout": timeouts.wait}, hide_parameters=True, **pooling)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            if not checks_only:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            # Deleted and overwritten content is zeroed on disk, not left in free pages.
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
            cursor.close()
            # Let SQLAlchemy's BEGIN be a write-intent BEGIN IMMEDIATE, so two
            # workers never both read a row as unclaimed.
            dbapi_connection.isolation_level = None

        if not checks_only:
            @event.listens_for(engine, "begin")
            def _sqlite_begin(connection: Any) -> None:
                connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if parsed.get_backend_name() in ("mysql", "mariadb"):
        query = dict(parsed.query)
        query.setdefault("charset", "utf8mb4")
        return create_engine(
            parsed.set(query=query),
            connect_args={"connect_timeout": timeouts.connect, "read_timeout": timeouts.wait,
                          "write_timeout": timeouts.wait},
            pool_pre_ping=not checks_only,
            pool_recycle=280,  # ToolsDB closes idle connections
            isolation_level="READ COMMITTED",
            hide_parameters=True,
            **pooling,
        )
    raise ValueError(f"unsupported database backend {parsed.get_backend_name()!r}")


class LockWaitTimeout(Exception):
    """A named lock stayed taken for as long as we may wait: "not now", like a lock wait timeout."""


def skips_locked_rows(engine: Engine) -> bool:
    """Whether claims use ``FOR UPDATE SKIP LOCKED`` (MariaDB); SQLite
    serialises claimers with ``BEGIN IMMEDIATE`` instead."""
    return engine.dialect.name in ("mysql", "mariadb")


def flush_overwritten_pages(engine: Engine) -> None:
    """After content was wiped: on SQLite, copy the write-ahead log into the
    database and truncate it, so the old pages (with the old ciphertext) leave
    the WAL file too. MariaDB keeps its own logs (see the README's "Retention")."""
    if engine.dialect.name == "sqlite":
        # On the driver's own connection: SQLAlchemy would wrap it in a transaction,
        # and a checkpoint cannot run inside one.
        raw = engine.raw_connection()
        try:
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
        finally:
            raw.close()


# MariaDB server errors that mean "not now" rather than "wrong": too many
# connections, out of memory, shutting down, lock wait timeout, deadlock,
# connection killed, statement time limits, idle disconnect. Codes from 2000
# up are the client's own (cannot connect, lost connection, server gone,
# read timeout) and all mean the same.
_MARIADB_NOT_NOW = frozenset({1040, 1041, 1053, 1205, 1213, 1927, 1969, 3024, 4031})
_SQLITE_NOT_NOW = ("database is locked", "database table is locked", "busy", "unable to open database",
                   "disk i/o error")


def is_unavailable(error: BaseException) -> bool:
    """Whether ``error`` means the database cannot serve us right now (down,
    unreachable, too slow, locked, overloaded): answer 503 and let the
    client retry, rather than treat it as a bug."""
    if isinstance(error, PoolTimeoutError | LockWaitTimeout):
        return True  # no pooled connection or named lock became free in time
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    original = error.orig
    if original is None:
        return False
    if isinstance(original, sqlite3.OperationalError):
        text = str(original).lower()
        return any(fragment in text for fragment in _SQLITE_NOT_NOW)
    if type(original).__module__.startswith("pymysql."):
        if type(original).__name__ == "InterfaceError":
            return True  # the connection is closed
        code = original.args[0] if original.args else None
        return isinstance(code, int) and (code >= 2000 or code in _MARIADB_NOT_NOW)
    return False
