"""Which encryption keys may have written what is stored: a short list, read at every start.

Rows carry no key id a start-up check could read cheaply: a sealed value
names its key only inside its bytes, and a keyed hash not at all. Instead,
every process records its current key here before it writes anything (only
the current key writes, :class:`reporting.storage.crypto.Sealer`), and
``reporting rekey`` removes a key once it has proved that no row depends on
it any more. So "a row exists under a key that is not configured" becomes "a
key listed here is not configured": one read of a table with a row or two,
whatever the size of the database.

A database that has no list yet (created before migration 14) gets every
configured key: any of them may have written something.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import IntegrityError

from reporting.storage import schema
from reporting.storage.database import utcnow

_keys = schema.encryption_keys


class KeyInventory:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def recorded(self) -> list[str]:
        with self.engine.connect() as connection:
            return list(connection.execute(select(_keys.c.key_id).order_by(_keys.c.key_id)).scalars())

    def record(self, current: str, configured: Iterable[str], now: datetime | None = None) -> None:
        """Record ``current`` (the key this process writes with); on a database without a
        list yet, every ``configured`` key too."""
        now = now or utcnow()
        with self.engine.begin() as connection:
            known = set(connection.execute(select(_keys.c.key_id)).scalars())
            wanted = [current] if known else list(dict.fromkeys([current, *configured]))
            missing = [key_id for key_id in wanted if key_id not in known]
        for key_id in missing:
            try:
                with self.engine.begin() as connection:
                    connection.execute(_keys.insert().values(key_id=key_id, recorded_at=now))
            except IntegrityError:  # another process recorded it meanwhile
                pass

    def retire(self, keep: str) -> list[str]:
        """Forget every key but ``keep`` (rekey proved them unused); return the ids removed."""
        with self.engine.begin() as connection:
            gone = list(connection.execute(select(_keys.c.key_id).where(_keys.c.key_id != keep)).scalars())
            connection.execute(delete(_keys).where(_keys.c.key_id != keep))
        return gone
