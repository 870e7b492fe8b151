"""Migration 12 brings a database of the previous shape to the workspace's columns (SQLite and MariaDB).

A database from before migration 12 has none of the later ones either: the test takes their
records away too (they are idempotent and run again), as migrations apply only above the
newest recorded version.
"""
from __future__ import annotations

from sqlalchemy import delete, inspect

from reporting.storage import schema
from reporting.storage.database import make_engine
from reporting.storage.migrations import MIGRATIONS, migrate

LATEST = MIGRATIONS[-1][0]


def test_migration_12_adds_the_assignee_and_the_entry_authors(database_url):
    engine = make_engine(database_url)
    try:
        migrate(engine)
        with engine.begin() as connection:
            connection.exec_driver_sql("ALTER TABLE reports DROP COLUMN assignee")
            connection.exec_driver_sql("ALTER TABLE case_events DROP COLUMN actor")
            connection.execute(delete(schema.schema_version).where(schema.schema_version.c.version >= 12))
        assert migrate(engine) == LATEST
        with engine.connect() as connection:
            columns = {table: {c["name"] for c in inspect(connection).get_columns(table)}
                       for table in ("reports", "case_events")}
        assert "assignee" in columns["reports"] and "actor" in columns["case_events"]
        assert migrate(engine) == LATEST  # and once more: nothing to do
    finally:
        engine.dispose()
