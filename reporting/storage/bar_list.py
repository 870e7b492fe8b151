"""Users Trust & Safety barred from reporting, kept as keyed hashes only.

Callers pass names already in MediaWiki's canonical spelling; the list
cannot do it for them, because it never sees a name again once hashed.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.exc import IntegrityError

from reporting.storage import schema
from reporting.storage.crypto import Sealer
from reporting.storage.database import utcnow


class BarList:
    def __init__(self, engine: Engine, sealer: Sealer) -> None:
        self.engine = engine
        self.sealer = sealer

    def bar(self, username: str, reason: str, now: datetime | None = None) -> bool:
        """Add ``username``; False if it was already there (under any configured key)."""
        if self.is_barred(username):
            return False
        try:
            with self.engine.begin() as connection:
                connection.execute(schema.barred_users.insert().values(
                    username_hash=self.sealer.index_hash(username), created_at=now or utcnow(),
                    reason=reason))
        except IntegrityError:  # barred concurrently
            return False
        return True

    def unbar(self, username: str) -> bool:
        """Remove ``username``; False if it was not there."""
        table = schema.barred_users
        with self.engine.begin() as connection:
            result = connection.execute(
                delete(table).where(table.c.username_hash.in_(self.sealer.index_hashes(username))))
        return result.rowcount > 0

    def is_barred(self, username: str) -> bool:
        table = schema.barred_users
        with self.engine.connect() as connection:
            return bool(connection.execute(select(func.count()).where(
                table.c.username_hash.in_(self.sealer.index_hashes(username)))).scalar())

    def count(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(schema.barred_users)).scalar() or 0)
