"""The last good sitematrix, stored once for every web replica and worker."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, select

from reporting.storage import schema
from reporting.storage.database import utcnow


class WikiRegistryStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def save(self, data: str, now: datetime | None = None) -> None:
        """Replace the stored sitematrix (one row) in one transaction."""
        table = schema.wiki_registry
        with self.engine.begin() as connection:
            connection.execute(table.delete())
            connection.execute(table.insert().values(id=1, fetched_at=now or utcnow(), data=data))

    def load(self) -> str | None:
        with self.engine.connect() as connection:
            return connection.execute(select(schema.wiki_registry.c.data)).scalar()

    def age_seconds(self, now: datetime | None = None) -> float | None:
        """Seconds since the last sitematrix refresh, None if never."""
        with self.engine.connect() as connection:
            fetched = connection.execute(select(schema.wiki_registry.c.fetched_at)).scalar()
        return None if fetched is None else ((now or utcnow()) - fetched).total_seconds()
