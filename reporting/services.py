"""The objects views, the worker and the CLI share, built once from the config.

Views reach them through :func:`services` (``current_app.extensions``); the
worker and CLI build them with :meth:`Services.build` without a web app.
Submitting a report lives here because the HTML form and the JSON API must
do exactly the same thing.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from flask import current_app

from .config import Config, ConfigError
from .crypto import InvalidKeyError, Sealer
from .delivery.base import Connector
from .delivery.maildir import MaildirConnector
from .delivery.outbox import deliver_due
from .evidence.service import Evidence
from .reports import Submission, new_reference
from .store import Reporter, Store
from .user_agent import policy_user_agent
from .wikiclient import WikiClient

log = logging.getLogger(__name__)

@dataclass
class Services:
    config: Config
    instance_path: Path
    store: Store
    evidence: Evidence
    default_destination: str

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
        default = config["delivery.default"] or f"maildir:{instance_path / 'maildir'}"
        client = WikiClient(policy_user_agent(config), timeout=config["wikis.timeout_seconds"])
        evidence = Evidence(client, config["wikis.extra"], store.load_wiki_registry)
        return cls(config=config, instance_path=instance_path, store=store, evidence=evidence,
                   default_destination=default)

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

    def connector_for(self, destination: str) -> Connector:
        """The connector that delivers to ``destination`` (a destination URL)."""
        if destination.startswith("maildir:"):
            return MaildirConnector(destination[len("maildir:"):], self.config["delivery.sender"],
                                    self.config["delivery.recipient"])
        raise ConfigError(f"unsupported delivery destination {destination.split(':')[0]!r}")

    def route(self, submission: Submission) -> str:
        return self.default_destination

    def submit(self, submission: Submission, reporter: Reporter, lang: str) -> str:
        """Store the report with its outbox row; deliver now on the embedded default.

        The report is safe once stored: a failed immediate delivery only
        leaves the row for the worker.
        """
        ref = new_reference()
        self.store.create_report(ref, submission, reporter, lang, self.route(submission))
        log.info("report %s stored (category %s)", ref, submission.category)
        if self.config["delivery.synchronous"]:
            try:
                deliver_due(self.store, self.connector_for)
            except Exception:  # the report is stored; the worker retries
                log.exception("immediate delivery after %s failed", ref)
        return ref


def _toolsdb_url(config: Config) -> str | None:
    user = config["toolsdb_user"]
    if not user:
        return None
    from urllib.parse import quote

    return (f"mysql+pymysql://{quote(user)}:{quote(config['toolsdb_password'] or '')}@"
            f"{config['toolsdb_host']}/{quote(user)}__{config['toolsdb_database']}?charset=utf8mb4")


def services() -> Services:
    return current_app.extensions["reporting"]
