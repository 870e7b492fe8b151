"""All database I/O, one small store per aggregate on one shared engine.

Views, the worker and CLI commands never write SQL of their own.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select

from reporting.storage.audit import AuditLog
from reporting.storage.bar_list import BarList
from reporting.storage.case_status import CaseStatusStore
from reporting.storage.crypto import Sealer
from reporting.storage.database import make_engine
from reporting.storage.desk_sync import DeskSyncStore
from reporting.storage.followups import FollowupStore
from reporting.storage.migrations import migrate
from reporting.storage.outbox import OutboxStore
from reporting.storage.periodic import PeriodicRuns
from reporting.storage.reports import ReportStore
from reporting.storage.timeline import TimelineStore
from reporting.storage.wiki_registry import WikiRegistryStore


@dataclass(frozen=True)
class Stores:
    """The stores of one database; each collaborator takes only the ones it uses."""

    engine: Engine
    reports: ReportStore
    outbox: OutboxStore
    audit: AuditLog
    bar_list: BarList
    wiki_registry: WikiRegistryStore
    timeline: TimelineStore
    followups: FollowupStore
    case_status: CaseStatusStore
    desk_sync: DeskSyncStore
    periodic: PeriodicRuns

    @classmethod
    def open(cls, url: str, sealer: Sealer) -> Stores:
        engine = make_engine(url)
        return cls(engine=engine, reports=ReportStore(engine, sealer), outbox=OutboxStore(engine, sealer),
                   audit=AuditLog(engine), bar_list=BarList(engine, sealer),
                   wiki_registry=WikiRegistryStore(engine), timeline=TimelineStore(engine, sealer),
                   followups=FollowupStore(engine, sealer), case_status=CaseStatusStore(engine, sealer),
                   desk_sync=DeskSyncStore(engine, sealer), periodic=PeriodicRuns(engine))

    def migrate(self) -> int:
        return migrate(self.engine)

    def ping(self) -> bool:
        with self.engine.connect() as connection:
            return connection.execute(select(1)).scalar() == 1
