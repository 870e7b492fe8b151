"""When periodic jobs last ran, shared by every worker replica.

Each continuous worker runs the housekeeping turn, and several run side by
side; a job that talks to a desk (the status sync) must still run once per
interval, not once per replica. :meth:`PeriodicRuns.claim` is a
compare-and-set on the job's row: of several replicas asking at once,
exactly one gets the turn.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError

from reporting.storage import schema
from reporting.storage.database import utcnow

_runs = schema.periodic_runs


class PeriodicRuns:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def claim(self, name: str, interval: timedelta, now: datetime | None = None) -> bool:
        """True when job ``name`` is due (last run at least ``interval`` ago, or
        never) and this caller got the turn; the turn is recorded as ``now``."""
        now = now or utcnow()
        try:
            with self.engine.begin() as connection:
                last = connection.execute(select(_runs.c.last_run_at).where(_runs.c.name == name)).scalar()
                if last is None:
                    connection.execute(_runs.insert().values(name=name, last_run_at=now))
                    return True
                if last > now - interval:
                    return False
                result = connection.execute(update(_runs).where(_runs.c.name == name, _runs.c.last_run_at == last)
                                            .values(last_run_at=now))
                return result.rowcount == 1
        except IntegrityError:  # another replica inserted the first row at the same moment
            return False

    def last_run(self, name: str) -> datetime | None:
        with self.engine.connect() as connection:
            return connection.execute(select(_runs.c.last_run_at).where(_runs.c.name == name)).scalar()
