"""The objects views, the worker and the CLI share, built once from the config.

Views reach them through :func:`services` (``current_app.extensions``); the
worker and CLI build them with :meth:`Services.build` without a web app.
Submitting a report lives here because the HTML form and the JSON API must
do exactly the same thing.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path


from flask import current_app

from reporting.config import Config, ConfigError
from reporting.storage.crypto import InvalidKeyError, Sealer
from reporting.delivery import connectors
from reporting.delivery.base import Connector
from reporting.delivery.destinations import Rule, parse_destination, route, rules_from_config
from reporting.delivery.local import LocalQueueConnector
from reporting.delivery.maildir import MaildirConnector
from reporting.intake.submission import Submission, new_reference
from reporting.evidence.service import Evidence
from reporting.storage.store import OutboxItem, Reporter, Store
from reporting.wiki.user_agent import policy_user_agent
from reporting.wiki.client import WikiClient

log = logging.getLogger(__name__)

# Config keys of the connectors' secrets (reporting.delivery.connectors names them).
SECRET_KEYS = {
    "smtp_sender": "delivery.smtp_sender",
    "smtp_user": "delivery.smtp_user",
    "smtp_password": "delivery.smtp_password",
    "zendesk_email": "delivery.zendesk_email",
    "zendesk_api_token": "delivery.zendesk_api_token",
    "znuny_user": "delivery.znuny_user",
    "znuny_password": "delivery.znuny_password",
}


def delivery_secrets(config: Config) -> dict[str, str]:
    """The secrets connectors need, from the config (``delivery.smtp_sender``
    falls back to ``delivery.sender``)."""
    secrets = {name: config[key] for name, key in SECRET_KEYS.items() if config.get(key)}
    if not secrets.get("smtp_sender") and config.get("delivery.sender"):
        secrets["smtp_sender"] = config["delivery.sender"]
    return secrets


def _envvar(key: str) -> str:
    return "TOOL_" + key.upper().replace(".", "__")


def build_connector(config: Config, destination: str, secrets: Mapping[str, str], timeout: float) -> Connector:
    """A connector for ``destination``; ``ValueError`` if it cannot be built."""
    return connectors.connector_for(
        destination,
        secrets,
        maildir_factory=lambda path: MaildirConnector(path, config["delivery.sender"], config["delivery.recipient"]),
        local_factory=LocalQueueConnector,
        timeout=timeout,
    )


def routing_from_config(config: Config, instance_path: Path) -> tuple[list[Rule], str]:
    """Parse and check ``delivery.rules`` and ``delivery.default`` at start-up.

    Raises :class:`ConfigError` naming the key when a rule or destination is
    malformed, a destination lacks a required secret, or its connector cannot
    be built, so a misconfigured tool refuses to start instead of queueing
    reports nobody can deliver.
    """
    try:
        rules = rules_from_config(config.get("delivery.rules") or [])
    except ValueError as error:
        raise ConfigError(f"invalid value for delivery.rules ({_envvar('delivery.rules')}): {error}") from None
    default = config["delivery.default"] or f"maildir:{instance_path / 'maildir'}"
    try:
        parse_destination(default)
    except ValueError as error:
        raise ConfigError(f"invalid value for delivery.default ({_envvar('delivery.default')}): {error}") from None
    secrets = delivery_secrets(config)
    if secrets.get("smtp_user") and not secrets.get("smtp_password"):
        raise ConfigError(f"delivery.smtp_password ({_envvar('delivery.smtp_password')}) is required "
                          f"when delivery.smtp_user is set")
    places = [(f"delivery rule {index}", rule.destination) for index, rule in enumerate(rules)]
    places.append(("delivery.default", default))
    for where, destination in places:
        key_of_where = "delivery.rules" if where.startswith("delivery rule") else "delivery.default"
        for secret in connectors.required_secrets(destination):
            if not secrets.get(secret):
                key = SECRET_KEYS[secret]
                raise ConfigError(f"{key} ({_envvar(key)}) is required by the destination of {where} "
                                  f"({destination.split('?')[0]})")
        try:
            build_connector(config, destination, secrets, config["delivery.timeout_seconds"])
        except ValueError as error:
            raise ConfigError(f"invalid value for {key_of_where} ({_envvar(key_of_where)}): {where}: {error}") from None
    return rules, default


@dataclass
class Services:
    config: Config
    instance_path: Path
    store: Store
    evidence: Evidence
    # One quick try per wiki while a reporter waits (no retries); built once
    # so its connections to wikis are reused from one submit to the next.
    submit_client: WikiClient
    default_destination: str
    rules: list[Rule] = field(default_factory=list)
    secrets: dict[str, str] = field(default_factory=dict)
    # Connectors hold HTTP sessions (and Znuny's login), reused per thread.
    _connectors: threading.local = field(default_factory=threading.local, repr=False, compare=False)

    @classmethod
    def build(cls, config: Config, instance_path: Path, migrate: bool = True) -> "Services":
        try:
            sealer = Sealer(config["encryption_key"], config["encryption_old_keys"])
        except InvalidKeyError as error:
            raise ConfigError(f"invalid value for encryption_key (TOOL_ENCRYPTION_KEY): {error}") from None
        url = config["database_url"] or _toolsdb_url(config) or f"sqlite:///{instance_path / 'reports.sqlite3'}"
        if url.startswith("sqlite:///"):
            Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
        try:
            store = Store.from_url(url, sealer)
        except Exception as error:  # SQLAlchemy's ArgumentError, unknown dialect...
            raise ConfigError(f"invalid value for database_url (TOOL_DATABASE_URL): {error}") from None
        if migrate:
            store.migrate()
        rules, default = routing_from_config(config, instance_path)
        client = WikiClient(policy_user_agent(config), timeout=config["wikis.timeout_seconds"])
        submit_client = WikiClient(policy_user_agent(config), timeout=config["wikis.submit_timeout_seconds"],
                                   max_retries=0)
        evidence = Evidence(client, config["wikis.extra"], store.load_wiki_registry)
        return cls(config=config, instance_path=instance_path, store=store, evidence=evidence,
                   submit_client=submit_client,
                   default_destination=default, rules=rules, secrets=delivery_secrets(config))

    def normalize_wiki(self, raw: str) -> str | None:
        return self.evidence.normalize_wiki(raw)

    def refresh_wiki_registry(self) -> int:
        """Fetch the sitematrix and store it for every replica; return the number of wikis.

        Raises when the download fails or is unusable: the stored list stays.
        """
        registry = self.evidence.fetch_sitematrix(self.config["wikis.sitematrix_api_url"])
        self.store.save_wiki_registry(registry.to_json())
        self.evidence.forget_registry()
        return len(registry.wikis())

    def refresh_wiki_registry_if_stale(self, max_age_seconds: float = 86400) -> None:
        """The worker's daily refresh; failures are logged, never raised."""
        age = self.store.wiki_registry_age()
        if age is not None and age < max_age_seconds:
            return
        try:
            log.info("refreshed the wiki registry: %d wikis", self.refresh_wiki_registry())
        except Exception as error:
            log.warning("wiki registry refresh failed (%s); keeping the stored list", type(error).__name__)

    def connector_for(self, destination: str, timeout: float | None = None) -> Connector:
        """The connector that delivers to ``destination`` (a destination URL).

        ``timeout`` bounds each network wait (default ``delivery.timeout_seconds``).
        Raises ``ValueError`` when the destination cannot be served with the
        current configuration (e.g. a row routed before a desk was removed).
        """
        timeout = timeout if timeout is not None else self.config["delivery.timeout_seconds"]
        cache = self._connectors.__dict__.setdefault("by_destination", {})
        key = (destination, timeout)
        if key not in cache:
            cache[key] = build_connector(self.config, destination, self.secrets, timeout)
        return cache[key]

    def route(self, submission: Submission) -> str:
        """The destination URL of a new report: the first matching rule, else the default."""
        return route(self.rules, self.default_destination, submission.category, submission.severity,
                     submission.wiki, submission.share_with_functionaries)

    def submit(self, submission: Submission, reporter: Reporter, lang: str) -> str:
        """Store the report with its outbox row, then try to deliver it at once.

        Emergencies are always attempted here, bounded by
        ``delivery.emergency_timeout_seconds``; other reports only when
        ``delivery.synchronous`` is on (the embedded default). Only this
        report's row is delivered: the request never works off other
        reporters' backlog. The report is safe once stored: a failed or slow
        attempt leaves the row to the worker, and the caller learns the
        outcome from the report's status (``forwarded`` or still ``received``).
        """
        ref = new_reference()
        report_id = self.store.create_report(ref, submission, reporter, lang, self.route(submission))
        log.info("report %s stored (category %s)", ref, submission.category)
        if submission.severity == "emergency":
            # Nothing waits for wikis before an emergency reaches the desk;
            # its evidence facts follow as a note on the ticket.
            self.deliver_emergency_now(report_id, ref)
        if submission.evidence:
            self.resolve_evidence_now(report_id, ref)
        if submission.severity != "emergency" and self.config["delivery.synchronous"]:
            self.deliver_report_now(report_id, ref)
        return ref

    def resolve_evidence_now(self, report_id: int, ref: str) -> None:
        """Resolve a new report's links while the reporter waits, briefly.

        One quick try per wiki (``wikis.submit_timeout_seconds``, no retries);
        whatever a wiki does not answer is left to the worker. Never raises:
        the report is already stored.
        """
        from reporting.housekeeping import resolve_report_evidence

        try:
            resolve_report_evidence(self, report_id, client=self.submit_client)
        except Exception as error:
            log.error("evidence of %s not resolved at submit (%s); the worker retries", ref, type(error).__name__)

    def deliver_report_now(self, report_id: int, ref: str, timeout: float | None = None,
                           lease: timedelta = timedelta(minutes=5)) -> bool:
        """Deliver one report's outbox row in this thread; True when the desk has it."""
        item = self.store.claim_report(report_id, lease=lease)
        if item is None:  # a worker has it already
            return False
        return self._deliver_claimed(item, timeout)

    def deliver_emergency_now(self, report_id: int, ref: str) -> bool:
        """Attempt an emergency's delivery for at most ``delivery.emergency_timeout_seconds``.

        The attempt runs in a helper thread so that the request answers on
        time even if a desk is slow in ways a socket timeout does not bound
        (several round trips, DNS). A late attempt is not abandoned: it still
        finishes and records its outcome, and its short lease lets the worker
        take over if this process dies.
        """
        timeout = float(self.config["delivery.emergency_timeout_seconds"])
        item = self.store.claim_report(report_id, lease=timedelta(seconds=max(60.0, 6 * timeout)))
        if item is None:
            return False
        outcome: list[bool] = []
        attempt = threading.Thread(target=lambda: outcome.append(self._deliver_claimed(item, timeout)),
                                   name=f"emergency-{ref}", daemon=True)
        attempt.start()
        attempt.join(timeout)
        if not outcome:
            log.warning("emergency %s not delivered within %.1f s; the reporter is told it is queued", ref, timeout)
            return False
        return outcome[0]

    def _deliver_claimed(self, item: OutboxItem, timeout: float | None) -> bool:
        # The worker's own handling: the same retries, alerts and crash safety.
        from reporting.delivery.worker import Worker

        return Worker(self.store, lambda destination: self.connector_for(destination, timeout)).deliver(item)


def _toolsdb_url(config: Config) -> str | None:
    user = config["toolsdb_user"]
    if not user:
        return None
    from urllib.parse import quote

    return (f"mysql+pymysql://{quote(user)}:{quote(config['toolsdb_password'] or '')}@"
            f"{config['toolsdb_host']}/{quote(user)}__{config['toolsdb_database']}?charset=utf8mb4")


def services() -> Services:
    return current_app.extensions["reporting"]
