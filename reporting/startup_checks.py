"""Configurations the tool refuses to start with, each refusal naming the setting to fix.

A tool that half-starts with a guessable session key, a placeholder
encryption key or a login anyone can use puts every report at risk, so these
are errors, not warnings. Destinations that reach nobody are refused where
delivery is configured (:mod:`reporting.delivery.configure`).
"""
from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from urllib.parse import urlsplit

from reporting.config import Config, ConfigError, envvar_name, on_toolforge
from reporting.delivery.configure import OTHER_WIKI, local_queue_wikis
from reporting.delivery.destinations import Rule
from reporting.identity.roles import RoleSettings
from reporting.storage.crypto import InvalidKeyError, decode_key

MIN_SECRET_KEY_CHARS = 32
MAX_SESSION_LIFETIME_HOURS = 7 * 24
#: Endpoints of the login and of the role look-ups: plain http only to this machine (tests, a dev wiki).
HTTPS_SETTINGS = ("oauth.index_url", "oauth.meta_api_url")


def _named(key: str) -> str:
    return f"{key} ({envvar_name(key)})"


def is_loopback_host(host: str | None) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def check_startup(config: Config, environ: Mapping[str, str]) -> None:
    """Raise :class:`ConfigError` for the first unsafe setting found."""
    toolforge = on_toolforge(environ)
    if config["dev_login"] and toolforge:
        raise ConfigError("dev_login (TOOL_DEV_LOGIN) must not be enabled on Toolforge")
    if config["dev_login"] and config["oauth.consumer_key"]:
        raise ConfigError("dev_login (TOOL_DEV_LOGIN) cannot be combined with OAuth "
                          "(TOOL_OAUTH__CONSUMER_KEY is set)")
    if config["dev_login"] and not config["local_development"]:
        raise ConfigError("dev_login (TOOL_DEV_LOGIN) needs local_development (TOOL_LOCAL_DEVELOPMENT) too: "
                          "the development login lets anyone sign in as anyone")
    if bool(config["oauth.consumer_key"]) != bool(config["oauth.consumer_secret"]):
        raise ConfigError("OAuth needs both oauth.consumer_key (TOOL_OAUTH__CONSUMER_KEY) and "
                          "oauth.consumer_secret (TOOL_OAUTH__CONSUMER_SECRET)")
    if config["local_development"] and toolforge:
        raise ConfigError("local_development (TOOL_LOCAL_DEVELOPMENT) must not be enabled on Toolforge")
    for key in ("secret_key", "encryption_key"):
        if not config[key]:
            raise ConfigError(f"{key} is required (set TOOL_{key.upper()} with toolforge envvars, "
                              f"or run `make run` locally to generate one under instance/)")
    _check_keys(config)
    if config["session_lifetime_hours"] > MAX_SESSION_LIFETIME_HOURS:
        raise ConfigError(f"{_named('session_lifetime_hours')} must be at most {MAX_SESSION_LIFETIME_HOURS} "
                          f"hours: a stolen session cookie works for as long")
    for key in HTTPS_SETTINGS:
        parts = urlsplit(str(config[key]))
        if parts.scheme != "https" and not (parts.scheme == "http" and is_loopback_host(parts.hostname)):
            raise ConfigError(f"{_named(key)} must be an https:// URL (plain http only to this machine)")


def check_keys_in_use(recorded: list[str], configured: list[str]) -> None:
    """Refuse to start while the database may hold rows under a key that is not configured.

    ``recorded``: the key ids of :class:`reporting.storage.key_inventory.KeyInventory`.
    Without the key, such rows are unreadable, their reporters no longer find
    them, and bars made with it are silently lifted.
    """
    missing = [key_id for key_id in recorded if key_id not in configured]
    if missing:
        raise ConfigError(
            f"the database holds rows sealed or hashed with {len(missing)} encryption "
            f"{'key' if len(missing) == 1 else 'keys'} that {'is' if len(missing) == 1 else 'are'} not configured "
            f"(key id {', '.join(missing)}): put {'it' if len(missing) == 1 else 'them'} back in "
            f"{_named('encryption_old_keys')}, run `flask --app app reporting rekey`, and remove "
            f"{'it' if len(missing) == 1 else 'them'} only then (ids of the configured keys: "
            f"{', '.join(configured)})")


def _check_keys(config: Config) -> None:
    secret = str(config["secret_key"])
    if len(secret) < MIN_SECRET_KEY_CHARS or len(set(secret)) < 8:
        raise ConfigError(f"{_named('secret_key')} is too weak: at least {MIN_SECRET_KEY_CHARS} random characters")
    keys = [("encryption_key", config["encryption_key"])]
    keys += [("encryption_old_keys", old) for old in config["encryption_old_keys"] or []]
    for key, value in keys:
        try:
            decode_key(str(value))
        except InvalidKeyError as error:
            raise ConfigError(f"invalid value for {_named(key)}: {error}") from None
    if secret.strip() == str(config["encryption_key"]).strip():
        raise ConfigError(f"{_named('secret_key')} and {_named('encryption_key')} must differ: "
                          f"one signs cookies, the other encrypts reports")


def local_queue_warnings(rules: Sequence[Rule], default: str, roles: RoleSettings,
                         site_of: Callable[[str], tuple[str, str] | None]) -> list[str]:
    """What the start-up says when routing can file reports in a ``local:`` queue nobody local may open.

    A report in a local queue is read by the functionaries its rule allows
    (:mod:`reporting.cases.access`); on a wiki where no local group makes
    anyone a functionary (``roles.functionary_groups`` maps it to nothing),
    only stewards and Trust & Safety could ever open it. Not an error: Trust &
    Safety may route there on purpose; but the operator should know.
    ``site_of`` maps a wiki host to (host, database name) where it can.
    """
    warnings = []
    for wiki in local_queue_wikis(list(rules), default):
        if wiki == OTHER_WIKI:
            if not roles.functionary_groups.get("*"):
                warnings.append("delivery: reports of wikis no rule names can go to a local queue, and "
                                "roles.functionary_groups gives no functionary role on them (no \"*\" entry): "
                                "only stewards and Trust & Safety can open them in /queue")
            continue
        host, dbname = site_of(wiki) or (wiki, wiki)
        if not roles.functionary_groups_for(dbname, host):
            warnings.append(f"delivery: reports of {wiki} can go to a local queue, but roles.functionary_groups "
                            f"gives no functionary role on {wiki}: only stewards and Trust & Safety can open "
                            f"them in /queue")
    return warnings
