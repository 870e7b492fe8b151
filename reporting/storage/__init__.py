"""All database I/O, one small store per aggregate on one shared engine.

Views, the worker and CLI commands never write SQL of their own.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from sqlalchemy import Engine

from reporting.cases.misuse import MisusePolicy
from reporting.storage.audit import AuditLog
from reporting.storage.audit_review import AuditReview
from reporting.storage.bar_list import BarList
from reporting.storage.case_stats import CaseStats
from reporting.storage.case_status import CaseStatusStore
from reporting.storage.crypto import Sealer
from reporting.storage.database import DatabaseTimeouts, make_engine
from reporting.storage.desk_sync import DeskSyncStore
from reporting.storage.followups import FollowupStore
from reporting.storage.form_drafts import FormDrafts
from reporting.storage.key_inventory import KeyInventory
from reporting.storage.login_sessions import LoginSessions
from reporting.storage.migrations import migrate
from reporting.storage.misuse import MisuseStore
from reporting.storage.outbox import OutboxStore
from reporting.storage.periodic import PeriodicRuns
from reporting.storage.queue import QueueStore
from reporting.storage.rekey import Rekey
from reporting.storage.reports import ReportStore
from reporting.storage.submission_keys import SubmissionKeys
from reporting.storage.timeline import TimelineStore
from reporting.storage.wiki_registry import WikiRegistryStore


@dataclass(frozen=True)
class Stores:
    """The stores of one database; each collaborator takes only the ones it uses.

    ``health_outbox`` reads the outbox through an engine of its own with
    short time limits and no pool (:func:`make_engine` ``checks_only``), so
    ``/healthz`` never waits behind the tool's own work for a connection or
    a lock. Migrations run on an engine that may wait longer than requests.
    """

    engine: Engine
    reports: ReportStore
    outbox: OutboxStore
    audit: AuditLog
    bar_list: BarList
    wiki_registry: WikiRegistryStore
    login_sessions: LoginSessions
    submission_keys: SubmissionKeys
    form_drafts: FormDrafts
    timeline: TimelineStore
    followups: FollowupStore
    case_status: CaseStatusStore
    desk_sync: DeskSyncStore
    periodic: PeriodicRuns
    queue: QueueStore
    misuse: MisuseStore
    audit_review: AuditReview
    case_stats: CaseStats
    key_inventory: KeyInventory
    health_outbox: OutboxStore
    migration_engine: Callable[[], Engine] = field(repr=False)

    @classmethod
    def open(cls, url: str, sealer: Sealer, timeouts: DatabaseTimeouts | None = None,
             misuse_policy: MisusePolicy | None = None) -> Stores:
        timeouts = timeouts or DatabaseTimeouts()
        engine = make_engine(url, timeouts)
        checks = make_engine(url, timeouts.for_health(), checks_only=True)
        # A reporter's lock is waited for less long than an answer may take (the read timeout).
        reports = ReportStore(engine, sealer, lock_seconds=timeouts.wait * 0.8)
        return cls(engine=engine, reports=reports, outbox=OutboxStore(engine, sealer),
                   audit=AuditLog(engine), bar_list=BarList(engine, sealer),
                   wiki_registry=WikiRegistryStore(engine), submission_keys=SubmissionKeys(engine, sealer),
                   form_drafts=FormDrafts(engine, sealer),
                   login_sessions=LoginSessions(engine, sealer), timeline=TimelineStore(engine, sealer),
                   followups=FollowupStore(engine, sealer), case_status=CaseStatusStore(engine, sealer),
                   desk_sync=DeskSyncStore(engine, sealer), periodic=PeriodicRuns(engine),
                   queue=QueueStore(engine, sealer),
                   misuse=MisuseStore(engine, sealer, misuse_policy or MisusePolicy()),
                   audit_review=AuditReview(engine), case_stats=CaseStats(engine),
                   key_inventory=KeyInventory(engine),
                   health_outbox=OutboxStore(checks, sealer),
                   migration_engine=partial(make_engine, url, timeouts.for_migrations()))

    def rekey(self) -> Rekey:
        """``reporting rekey``: everything stored moved to the current encryption key."""
        return Rekey(self.engine, self.reports.sealer, self.key_inventory)

    def migrate(self) -> int:
        engine = self.migration_engine()
        try:
            return migrate(engine)
        finally:
            engine.dispose()
