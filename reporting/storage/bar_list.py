"""Users Trust & Safety barred from reporting, looked up by keyed hashes.

Callers pass names already in MediaWiki's canonical spelling; the list
cannot do it for them. Each name is also kept sealed (:data:`NAME_AAD`), read
only by ``reporting rekey`` to hash it again under a new key: a keyed hash
cannot be recomputed from itself, and a bar lost with an old key would
silently let the user report again.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from reporting.storage import schema
from reporting.storage.crypto import Sealer
from reporting.storage.database import utcnow

#: The associated data barred names are sealed for (their row's hash changes on a rekey).
NAME_AAD = "barred-user"


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
                    reason=reason, name_sealed=self.sealer.seal(username, NAME_AAD)))
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
        """Whether ``username`` is barred (under any configured key). A bar from before names
        were sealed gets its name now, so that a later rekey can hash it again."""
        table = schema.barred_users
        with self.engine.connect() as connection:
            rows = connection.execute(select(table.c.username_hash, table.c.name_sealed).where(
                table.c.username_hash.in_(self.sealer.index_hashes(username)))).all()
        unnamed = [row.username_hash for row in rows if row.name_sealed is None]
        if unnamed:
            with self.engine.begin() as connection:
                connection.execute(update(table).where(table.c.username_hash.in_(unnamed))
                                   .values(name_sealed=self.sealer.seal(username, NAME_AAD)))
        return bool(rows)

    def count(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(schema.barred_users)).scalar() or 0)
