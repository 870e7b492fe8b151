"""The engine every store shares, with the settings each backend needs.

SQLite (the embedded default) and MariaDB (ToolsDB) are both first-class:
the test suite runs the same store tests on each.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url


def utcnow() -> datetime:
    """Naive UTC, the form both databases store without surprises."""
    return datetime.now(UTC).replace(tzinfo=None)


def make_engine(url: str) -> Engine:
    """An engine with the settings each backend needs for the outbox to be safe.

    ``hide_parameters``: SQLAlchemy puts a failed statement's parameters into
    its exception messages, and those parameters are sealed reports and
    keyed hashes; logs must never hold them.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            # Deleted and overwritten content is zeroed on disk, not left in free pages.
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()
            # Let SQLAlchemy's BEGIN be a write-intent BEGIN IMMEDIATE, so two
            # workers never both read a row as unclaimed.
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if parsed.get_backend_name() in ("mysql", "mariadb"):
        query = dict(parsed.query)
        query.setdefault("charset", "utf8mb4")
        return create_engine(
            parsed.set(query=query),
            pool_pre_ping=True,
            pool_recycle=280,  # ToolsDB closes idle connections
            isolation_level="READ COMMITTED",
            hide_parameters=True,
        )
    raise ValueError(f"unsupported database backend {parsed.get_backend_name()!r}")


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
