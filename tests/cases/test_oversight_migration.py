"""Migration 13 brings a database without it to the oversight tables and audit indexes (SQLite and MariaDB).

A database from before migration 13 has none of the later ones either: the test takes their
records away too (they are idempotent and run again), as migrations apply only above the
newest recorded version.
"""
from __future__ import annotations

from sqlalchemy import delete, inspect, select

from reporting.storage import Stores, schema
from reporting.storage.crypto import Sealer, generate_key
from reporting.storage.migrations import MIGRATIONS

LATEST = MIGRATIONS[-1][0]


def test_migration_13_adds_the_suspensions_the_audit_summary_and_the_audit_indexes(database_url):
    stores = Stores.open(database_url, Sealer(generate_key()))
    try:
        stores.migrate()
        with stores.engine.begin() as connection:  # back to what version 11 had
            for index in schema.audit_log.indexes:
                if index.name in ("ix_audit_at", "ix_audit_actor_at"):
                    index.drop(connection)
            schema.misuse_suspensions.drop(connection)
            schema.audit_summary.drop(connection)
            connection.execute(delete(schema.schema_version).where(schema.schema_version.c.version >= 13))
            assert 13 not in connection.execute(select(schema.schema_version.c.version)).scalars().all()
        assert stores.migrate() == LATEST
        with stores.engine.connect() as connection:
            found = inspect(connection)
            assert found.has_table("misuse_suspensions") and found.has_table("audit_summary")
            assert {"ix_audit_at", "ix_audit_actor_at"} <= {index["name"] for index in found.get_indexes("audit_log")}
        assert stores.migrate() == LATEST  # and again: nothing to do
    finally:
        stores.engine.dispose()
