"""Delivery as configured: routing rules, desk secrets, one connector per thread.

Checked when the tool starts (:func:`routing_from_config`), so a
misconfigured tool refuses to start instead of queueing reports nobody can
deliver.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from reporting.config import Config, ConfigError, envvar_name
from reporting.delivery import connectors
from reporting.delivery.base import Connector
from reporting.delivery.destinations import Rule, parse_destination, route, rules_from_config, without_query
from reporting.delivery.local import LocalQueueConnector
from reporting.delivery.maildir import MaildirConnector
from reporting.intake.submission import CATEGORIES, EMERGENCY_CATEGORIES, Submission, severity_of


def secret_key(name: str) -> str:
    """The configuration key of a connector's secret."""
    return f"delivery.{name}"


def delivery_secrets(config: Config) -> dict[str, str]:
    """The secrets connectors need, from the config (``delivery.smtp_sender``
    falls back to ``delivery.sender``)."""
    secrets = {name: config[secret_key(name)] for name in connectors.SECRET_NAMES if config.get(secret_key(name))}
    if not secrets.get("smtp_sender") and config.get("delivery.sender"):
        secrets["smtp_sender"] = config["delivery.sender"]
    return secrets


def _invalid(key: str, problem: object) -> ConfigError:
    return ConfigError(f"invalid value for {key} ({envvar_name(key)}): {problem}")


@dataclass(frozen=True)
class Router:
    """Where a new report goes: the first matching rule, else the default."""

    rules: tuple[Rule, ...]
    default: str

    def destination_of(self, submission: Submission) -> str:
        return self.destination_for(submission.category, submission.severity, submission.wiki,
                                    submission.share_with_functionaries)

    def destination_for(self, category: str, severity: str, wiki: str, share_with_functionaries: bool) -> str:
        """The same from a stored report's routing facts (re-routing needs no decryption)."""
        return route(self.rules, self.default, category, severity, wiki, share_with_functionaries)


class ConnectorPool:
    """Connectors by destination, one set per thread.

    Connectors hold HTTP sessions (and Znuny's login) that are not safe to
    share between threads; reusing them within a thread keeps connections
    open from one delivery to the next. The secrets stay out of ``repr``.
    """

    def __init__(self, config: Config, secrets: dict[str, str]) -> None:
        self._sender = config["delivery.sender"]
        self._recipient = config["delivery.recipient"]
        self._default_timeout = float(config["delivery.timeout_seconds"])
        self._secrets = secrets
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"<ConnectorPool secrets={sorted(self._secrets)}>"

    def build(self, destination: str, timeout: float | None = None) -> Connector:
        """A new connector for ``destination``; ``ValueError`` if it cannot be built."""
        return connectors.connector_for(
            destination, self._secrets,
            maildir_factory=lambda path: MaildirConnector(path, self._sender, self._recipient),
            local_factory=LocalQueueConnector,
            timeout=self._default_timeout if timeout is None else timeout,
        )

    def connector_for(self, destination: str, timeout: float | None = None) -> Connector:
        """This thread's connector for ``destination``.

        ``timeout`` bounds each network wait (default ``delivery.timeout_seconds``).
        Raises ``ValueError`` when the destination cannot be served with the
        current configuration (e.g. a row routed before a desk was removed).
        """
        cache: dict[tuple[str, float | None], Connector] = self._local.__dict__.setdefault("by_destination", {})
        key = (destination, timeout)
        if key not in cache:
            cache[key] = self.build(destination, timeout)
        return cache[key]


@dataclass(frozen=True)
class Delivery:
    """The configured routing and connectors."""

    router: Router
    connectors: ConnectorPool = field(repr=False)


def unreachable_reason(destination: str, toolforge: bool) -> str | None:
    """Why reports sent to ``destination`` would reach no human, or None.

    - ``maildir:`` on Toolforge: the web and job containers have no shared
      disk (``mount: none``) and lose their files on restart.

    ``local:`` queues are read in the functionaries' workspace (``/queue``);
    emergencies must never go there (:func:`emergency_to_local_queue`).
    """
    kind = parse_destination(destination).kind
    if kind == "maildir" and toolforge:
        return ("a Maildir on Toolforge is inside the container and lost on restart: "
                "route to a desk (smtp://, zendesk+https://, znuny+https://)")
    return None


def _wikis_of(rules: tuple[Rule, ...] | list[Rule]) -> list[str]:
    """Every wiki a rule names, and one no rule names (which stands for all the others)."""
    named = sorted({wiki for rule in rules for wiki in rule.wikis or ()})
    return [*named, OTHER_WIKI]


#: Stands for "a wiki no rule names" when the routing is tried out at start-up.
OTHER_WIKI = "*"


def emergency_to_local_queue(rules: tuple[Rule, ...] | list[Rule], default: str) -> str | None:
    """The first emergency category that some wiki would route to a ``local:`` queue, or None.

    The routing is tried for every emergency category, with and without
    consent, on every wiki a rule names and on any other: rules match wikis
    by name only, so this covers every report that can exist. A local
    queue's functionaries may not see emergencies (:mod:`reporting.cases.access`),
    and an emergency must reach the emergency desk at once.
    """
    for category in EMERGENCY_CATEGORIES:
        for wiki in _wikis_of(rules):
            for consented in (True, False):
                destination = route(rules, default, category, severity_of(category), wiki, consented)
                if parse_destination(destination).kind == "local":
                    return category
    return None


def local_queue_wikis(rules: tuple[Rule, ...] | list[Rule], default: str) -> list[str]:
    """The wikis (``*`` for every wiki no rule names) whose reports may be routed to a ``local:`` queue."""
    wikis = []
    for wiki in _wikis_of(rules):
        if any(parse_destination(route(rules, default, category, severity_of(category), wiki, consented)).kind
               == "local" for category in CATEGORIES for consented in (True, False)):
            wikis.append(wiki)
    return wikis


def delivery_from_config(config: Config, instance_path: Path, toolforge: bool = False) -> Delivery:
    """Parse and check ``delivery.rules``, ``delivery.default`` and the desk secrets.

    Raises :class:`ConfigError` naming the key when a rule or destination is
    malformed, cannot reach a human (:func:`unreachable_reason`), lacks a
    required secret, or its connector cannot be built.
    """
    try:
        rules = rules_from_config(config.get("delivery.rules") or [])
    except ValueError as error:
        raise _invalid("delivery.rules", error) from None
    default = config["delivery.default"] or f"maildir:{instance_path / 'maildir'}"
    try:
        parse_destination(default)
    except ValueError as error:
        raise _invalid("delivery.default", error) from None
    secrets = delivery_secrets(config)
    if secrets.get("smtp_user") and not secrets.get("smtp_password"):
        key = secret_key("smtp_password")
        raise ConfigError(f"{key} ({envvar_name(key)}) is required when delivery.smtp_user is set")
    pool = ConnectorPool(config, secrets)
    places = [("delivery.rules", f"delivery rule {index}", rule.destination) for index, rule in enumerate(rules)]
    places.append(("delivery.default", "delivery.default", default))
    for config_key, where, destination in places:
        for secret in connectors.required_secrets(destination):
            if not secrets.get(secret):
                key = secret_key(secret)
                raise ConfigError(f"{key} ({envvar_name(key)}) is required by the destination of {where} "
                                  f"({without_query(destination)})")
        try:
            pool.build(destination)
        except ValueError as error:
            raise _invalid(config_key, f"{where}: {error}") from None
        reason = unreachable_reason(destination, toolforge)
        if reason is not None:
            raise _invalid(config_key, f"{where} ({without_query(destination)}): {reason}")
    category = emergency_to_local_queue(rules, default)
    if category is not None:
        raise ConfigError(f"invalid value for delivery.rules ({envvar_name('delivery.rules')}) or delivery.default "
                          f"({envvar_name('delivery.default')}): emergency reports ({category}) would go to a local "
                          f"queue; route the emergency categories to a desk in a rule before it")
    return Delivery(router=Router(tuple(rules), default), connectors=pool)
