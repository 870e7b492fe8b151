"""The composition root: every long-lived object of the tool, built once from the config.

``create_app`` hands each blueprint the few of these it uses, and the CLI
(worker, operator commands) does the same; nothing looks them up at run
time. ``repr`` shows no secret (the config and the connectors' secrets stay
out of it).
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path
from urllib.parse import quote

from reporting.cases.followup_evidence import FollowupEvidence
from reporting.cases.lifecycle import Cases
from reporting.cases.misuse import MisusePolicy
from reporting.cases.retention import forget_old_oversight_records, purge_expired_reports
from reporting.cases.sync import StatusSync
from reporting.cases.workspace import Workspace
from reporting.config import Config, ConfigError
from reporting.delivery.configure import Delivery, delivery_from_config
from reporting.delivery.health_probe import HealthProbe
from reporting.delivery.immediate import ImmediateDelivery
from reporting.delivery.leases import LeaseKeeper
from reporting.evidence.report_facts import ReportEvidence
from reporting.evidence.service import Evidence
from reporting.housekeeping import run_maintenance
from reporting.identity.role_lookup import role_settings
from reporting.intake.eligibility import RateLimits
from reporting.intake.submit import Intake
from reporting.private_paths import private_file
from reporting.startup_checks import check_keys_in_use, local_queue_warnings
from reporting.storage import Stores
from reporting.storage.crypto import InvalidKeyError, Sealer
from reporting.storage.database import DatabaseTimeouts
from reporting.wiki.client import OutboundLimit, WikiClient
from reporting.wiki.registry_refresh import RegistryRefresh
from reporting.wiki.user_agent import policy_user_agent

log = logging.getLogger(__name__)


def database_url(config: Config, instance_path: Path) -> str:
    """``database_url``, else ToolsDB from its credentials, else SQLite under the instance folder."""
    if config["database_url"]:
        return str(config["database_url"])
    user = config["toolsdb_user"]
    if user:
        return (f"mysql+pymysql://{quote(user)}:{quote(config['toolsdb_password'] or '')}@"
                f"{config['toolsdb_host']}/{quote(user)}__{config['toolsdb_database']}?charset=utf8mb4")
    return f"sqlite:///{instance_path / 'reports.sqlite3'}"


def open_stores(config: Config, instance_path: Path) -> Stores:
    try:
        sealer = Sealer(config["encryption_key"], config["encryption_old_keys"])
    except InvalidKeyError as error:
        raise ConfigError(f"invalid value for encryption_key (TOOL_ENCRYPTION_KEY): {error}") from None
    url = database_url(config, instance_path)
    if url.startswith("sqlite:///"):
        # SQLite gives its -wal and -shm files the database file's mode.
        private_file(Path(url[len("sqlite:///"):].split("?")[0]))
    try:
        return Stores.open(url, sealer, DatabaseTimeouts.from_config(config), MisusePolicy.from_config(config))
    except Exception as error:  # SQLAlchemy's ArgumentError, unknown dialect...
        raise ConfigError(f"invalid value for database_url (TOOL_DATABASE_URL): {error}") from None


def _warn_about_local_queues(config: Config, delivery: Delivery, evidence: Evidence) -> None:
    """Say at start-up when routing can file reports in a local queue no local functionary may open."""
    def site_of(host: str) -> tuple[str, str] | None:
        wiki = evidence.registry.lookup(host)
        return (wiki.host, wiki.dbname or wiki.host) if wiki is not None else None

    try:
        warnings = local_queue_warnings(delivery.router.rules, delivery.router.default, role_settings(config),
                                        site_of)
    except Exception:  # the warning must never stop a start
        log.exception("the local queues' functionaries could not be checked")
        return
    for warning in warnings:
        log.warning("%s", warning)


@dataclass(frozen=True)
class Components:
    config: Config = field(repr=False)
    instance_path: Path
    stores: Stores
    evidence: Evidence
    delivery: Delivery
    leases: LeaseKeeper
    immediate: ImmediateDelivery
    report_evidence: ReportEvidence
    registry_refresh: RegistryRefresh
    intake: Intake
    health: HealthProbe
    cases: Cases
    status_sync: StatusSync
    workspace: Workspace

    @classmethod
    def build(cls, config: Config, instance_path: Path, migrate: bool = True, toolforge: bool = False) -> Components:
        """``toolforge``: refuse what only works on a developer's machine (a container-local Maildir)."""
        stores = open_stores(config, instance_path)
        if migrate:
            stores.migrate()
            # Before anything is written: rows under a key we lack must not be left behind
            # unnoticed, and the key we write with must be on record for the next start.
            sealer = stores.reports.sealer
            check_keys_in_use(stores.key_inventory.recorded(), sealer.key_ids)
            stores.key_inventory.record(sealer.primary_key_id, sealer.key_ids)
        delivery = delivery_from_config(config, instance_path, toolforge=toolforge)
        user_agent = policy_user_agent(config)
        # The process's one cap on requests to wikis in flight, for every client that asks them.
        outbound = OutboundLimit(config["wikis.max_concurrent_requests"])
        evidence = Evidence(WikiClient(user_agent, timeout=config["wikis.timeout_seconds"], limit=outbound),
                            config["wikis.extra"], stores.wiki_registry.load)
        connectors = delivery.connectors
        leases = LeaseKeeper(stores.outbox)
        immediate = ImmediateDelivery(stores.outbox, connectors.connector_for,
                                      float(config["delivery.emergency_timeout_seconds"]), leases)
        report_evidence = ReportEvidence(stores.reports, stores.outbox, stores.audit, evidence,
                                         connectors.connector_for)
        registry_refresh = RegistryRefresh(
            stores.wiki_registry, partial(evidence.fetch_sitematrix, config["wikis.sitematrix_api_url"]),
            evidence.forget_registry)
        intake = Intake(
            reports=stores.reports, submission_keys=stores.submission_keys, bar_list=stores.bar_list,
            misuse=stores.misuse,
            limits=RateLimits.from_config(config),
            normalize_wiki=evidence.normalize_wiki, router=delivery.router, delivery=immediate,
            report_evidence=report_evidence,
            submit_client=WikiClient(user_agent, timeout=config["wikis.submit_timeout_seconds"], max_retries=0,
                                     limit=outbound),
            synchronous=bool(config["delivery.synchronous"]), wiki_problem=evidence.wiki_problem)
        followup_evidence = FollowupEvidence(stores.followups, stores.reports, stores.audit, evidence,
                                             connectors.connector_for)
        cases = Cases(
            followups=stores.followups, timeline=stores.timeline, followup_evidence=followup_evidence,
            delivery=immediate,
            resolve_client=intake.submit_client, synchronous=bool(config["delivery.synchronous"]),
            followups_per_day=int(config["rate_limit.followups_per_day"]))
        status_sync = StatusSync(stores.desk_sync, connectors.connector_for)
        _warn_about_local_queues(config, delivery, evidence)
        return cls(config=config, instance_path=instance_path, stores=stores, evidence=evidence,
                   delivery=delivery, leases=leases, immediate=immediate, report_evidence=report_evidence,
                   registry_refresh=registry_refresh, intake=intake,
                   health=HealthProbe(stores.health_outbox.health_figures), cases=cases, status_sync=status_sync,
                   workspace=Workspace(stores.queue, stores.audit))

    def purge_expired(self) -> int:
        return purge_expired_reports(self.stores.reports, self.config["retention_days"])

    def forget_old_oversight_records(self) -> None:
        """Audit retention, once a day across worker replicas: entries older than ``retention_days``
        become monthly counts (no actor, no case), and long-ended suspensions go."""
        if self.stores.periodic.claim("audit-retention", timedelta(days=1)):
            forget_old_oversight_records(self.stores.audit_review, self.stores.misuse, self.config["retention_days"])

    def sync_status_if_due(self, stop: threading.Event | None = None) -> None:
        """The status sync, once per ``status_sync.interval_minutes`` across all worker replicas."""
        interval = timedelta(minutes=int(self.config["status_sync.interval_minutes"]))
        self.status_sync.run_if_due(self.stores.periodic.claim, interval, stop)

    def maintain(self, stop: threading.Event | None = None) -> None:
        """One turn of the worker's housekeeping."""
        run_maintenance([self.registry_refresh.refresh_if_stale,
                         partial(self.report_evidence.resolve_pending, stop=stop),
                         partial(self.cases.followup_evidence.resolve_pending, stop=stop),
                         partial(self.sync_status_if_due, stop),
                         self.purge_expired, self.forget_old_oversight_records,
                         self.stores.login_sessions.purge_expired, self.stores.form_drafts.purge_expired,
                         self.stores.submission_keys.purge], stop)
