"""Configuration: embedded defaults → private ``config.yaml`` → ``TOOL_*`` envvars.

Every setting is declared once, with its type, default and documentation:
the shared ones in :data:`SETTINGS` here, the others by the module that uses
them (:func:`register_settings`). The README's configuration table is
generated from the same declarations (``python -m reporting config-doc``), so
the two cannot drift.

Nested keys are written with a dot here (``oauth.consumer_key``), nested
mappings in ``config.yaml`` and a double underscore in envvars
(``TOOL_OAUTH__CONSUMER_KEY``), the convention ``toolforge envvars`` expects.

The configuration is validated when the app starts; a bad value stops the
start with a message that names the key, because a tool that half-starts
with a wrong database or a missing key loses reports.
"""
from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ENV_PREFIX = "TOOL_"


class ConfigError(Exception):
    """The configuration cannot be used; the message names the key."""


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("expected a boolean (1/0, true/false)")


def parse_auto_bool(value: Any) -> bool | str:
    """``auto``, or a boolean."""
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    return parse_bool(value)


def parse_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("expected an integer")
    return int(str(value).strip())


def parse_positive_int(value: Any) -> int:
    number = parse_int(value)
    if number < 1:
        raise ValueError("expected a positive integer")
    return number


def parse_positive_float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("expected a number")
    number = float(str(value).strip())
    if not number > 0 or number == float("inf"):
        raise ValueError("expected a positive number")
    return number


def parse_str(value: Any) -> str:
    if isinstance(value, (dict, list)):
        raise ValueError("expected a string")
    return str(value)


def parse_str_list(value: Any) -> list[str]:
    """A list from YAML, or a comma-separated envvar."""
    if isinstance(value, list):
        return [str(item).strip() for item in value if str(item).strip()]
    return [item.strip() for item in str(value).split(",") if item.strip()]


def parse_mapping(value: Any) -> dict:
    """A mapping from YAML, or a JSON object in an envvar."""
    if isinstance(value, dict):
        return value
    import json

    parsed = json.loads(str(value))
    if not isinstance(parsed, dict):
        raise ValueError("expected a mapping (a YAML mapping or a JSON object)")
    return parsed


def parse_list_of_mappings(value: Any) -> list[dict]:
    """A list of mappings from YAML, or a JSON array in an envvar."""
    if isinstance(value, str):
        import json

        value = json.loads(value)
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ValueError("expected a list of mappings")
    return value


@dataclass(frozen=True)
class Setting:
    """One configuration key: how to parse it, its default, what it means."""

    key: str
    parse: Callable[[Any], Any]
    default: Any
    doc: str
    secret: bool = False

    @property
    def envvar(self) -> str:
        return envvar_name(self.key)


def envvar_name(key: str) -> str:
    """The envvar of a setting: ``oauth.consumer_key`` -> ``TOOL_OAUTH__CONSUMER_KEY``."""
    return ENV_PREFIX + key.upper().replace(".", "__")


SETTINGS: tuple[Setting, ...] = (
    Setting("secret_key", parse_str, None,
            "Signs session cookies. Required on Toolforge; `make run` generates one under `instance/`.",
            secret=True),
    Setting("encryption_key", parse_str, None,
            "Encrypts report bodies at rest (32 random bytes, URL-safe base64). Required on Toolforge; "
            "`make run` generates one under `instance/`. Losing it makes stored reports unreadable.",
            secret=True),
    Setting("encryption_old_keys", parse_str_list, [],
            "Earlier encryption keys, still accepted for decryption after a key rotation (comma-separated).",
            secret=True),
    Setting("database_url", parse_str, None,
            "SQLAlchemy URL. Default: SQLite at `instance/reports.sqlite3`. ToolsDB: "
            "`mysql+pymysql://USER:PASSWORD@tools.db.svc.wikimedia.cloud/USER__reports?charset=utf8mb4`.",
            secret=True),
    Setting("toolsdb_user", parse_str, None,
            "ToolsDB user (Toolforge sets `TOOL_TOOLSDB_USER`); used to build the database URL "
            "when `database_url` is not set."),
    Setting("toolsdb_password", parse_str, None,
            "ToolsDB password (Toolforge sets `TOOL_TOOLSDB_PASSWORD`).", secret=True),
    Setting("toolsdb_database", parse_str, "reports",
            "Database name suffix on ToolsDB: the database is `<toolsdb_user>__<toolsdb_database>`."),
    Setting("toolsdb_host", parse_str, "tools.db.svc.wikimedia.cloud", "ToolsDB host name."),
    Setting("dev_login", parse_bool, False,
            "Local development login without OAuth. Refused on Toolforge and when OAuth is configured."),
    Setting("local_development", parse_bool, False,
            "Local development mode (`make run` sets it): session cookies without `Secure`, "
            "so the tool works on http://127.0.0.1."),
    Setting("instance_path", parse_str, None,
            "Directory for the embedded defaults (SQLite, Maildir, generated keys). Default: `instance/`."),
    Setting("session_lifetime_hours", parse_positive_int, 12, "Hours before a login session expires."),
    Setting("contact", parse_str, "https://meta.wikimedia.org/wiki/Trust_and_Safety",
            "Contact URL or address in the User-Agent of requests to wikis (Wikimedia's policy)."),
    Setting("tool_url", parse_str, "https://incident-reporting.toolforge.org",
            "Public URL of the tool, sent in the User-Agent of requests to wikis."),
    Setting("oauth.consumer_key", parse_str, None, "OAuth 1.0a consumer key (from meta.wikimedia.org)."),
    Setting("oauth.consumer_secret", parse_str, None, "OAuth 1.0a consumer secret.", secret=True),
    Setting("oauth.index_url", parse_str, "https://meta.wikimedia.org/w/index.php",
            "index.php of the wiki that runs the OAuth provider."),
    Setting("delivery.default", parse_str, None,
            "Destination when no routing rule matches. Default: a Maildir at `instance/maildir` "
            "(`maildir:<path>`)."),
    Setting("delivery.sender", parse_str, "incident-reporting@toolforge.org",
            "From address of messages to mail desks (an address the tool owns)."),
    Setting("delivery.recipient", parse_str, "trust-and-safety@wikimedia.org",
            "To address written into Maildir messages (the Maildir stands in for this mailbox)."),
    Setting("delivery.synchronous", parse_bool, True,
            "Deliver right after submit inside the web request (the embedded default). "
            "Production runs the worker job instead and may turn this off."),
    Setting("delivery.worker_in_web", parse_auto_bool, "auto",
            "Run the delivery job (retries, stranded reports, evidence retries, retention) inside the web "
            "process. `auto`: on unless on Toolforge, where the `worker` job of `jobs.yaml` does it."),
    Setting("delivery.rules", parse_list_of_mappings, [],
            "Routing rules, first match wins: a list of mappings with `destination` and any of "
            "`category`/`categories`, `severity`/`severities`, `wiki`/`wikis`, `consented` (see "
            "\"Routing reports\"). In an envvar: a JSON array."),
    Setting("delivery.emergency_timeout_seconds", parse_positive_float, 5.0,
            "Seconds an emergency report's delivery may take inside the submit request before the "
            "reporter is told it is queued (the attempt happens even when `delivery.synchronous` is off)."),
    Setting("delivery.timeout_seconds", parse_positive_float, 10.0,
            "Seconds any single network wait of a connector may take (connect, each read)."),
    Setting("delivery.smtp_sender", parse_str, None,
            "Envelope and From address for `smtp://` destinations. Default: `delivery.sender`."),
    Setting("delivery.smtp_user", parse_str, None,
            "SMTP login, only for `smtp+starttls://` destinations (needs `delivery.smtp_password`)."),
    Setting("delivery.smtp_password", parse_str, None, "SMTP password for `delivery.smtp_user`.", secret=True),
    Setting("delivery.zendesk_email", parse_str, None,
            "Zendesk agent whose API token delivers tickets (required by `zendesk+https://` destinations)."),
    Setting("delivery.zendesk_api_token", parse_str, None,
            "Zendesk API token of `delivery.zendesk_email`.", secret=True),
    Setting("delivery.znuny_user", parse_str, None,
            "Znuny agent login (required by `znuny+https://` destinations)."),
    Setting("delivery.znuny_password", parse_str, None, "Password of `delivery.znuny_user`.", secret=True),
    Setting("retention_days", parse_positive_int, 365,
            "Days after its last change that a delivered report's content is wiped (the case stays)."),
)

_BY_KEY = {setting.key: setting for setting in SETTINGS}
_BY_ENVVAR = {setting.envvar: setting for setting in SETTINGS}


def register_settings(*settings: Setting) -> None:
    """Let a module declare its own settings next to the code that uses them.

    Called at import time by feature modules (OAuth, delivery, evidence);
    the README table and validation then cover them too.
    """
    global SETTINGS
    for setting in settings:
        if setting.key in _BY_KEY:
            continue
        _BY_KEY[setting.key] = setting
        _BY_ENVVAR[setting.envvar] = setting
        SETTINGS = SETTINGS + (setting,)


REDACTED = "<redacted>"


def is_secret(key: str) -> bool:
    """Whether ``key``'s value must not be shown: declared ``secret=True``, or
    not declared at all (nothing vouches that it is harmless)."""
    setting = _BY_KEY.get(key)
    return setting is None or setting.secret


class Config(dict):
    """Flat mapping ``"oauth.consumer_key" -> value`` with every declared key present.

    Its ``repr`` (and so ``str``, logs, tracebacks with locals, debuggers)
    shows secret values as ``<redacted>``; only an unset (None or empty) value
    is shown as it is, so one can still tell a missing secret from a present one.
    """

    def __repr__(self) -> str:
        shown = {key: REDACTED if is_secret(key) and not _unset(value) else value for key, value in self.items()}
        return f"{type(self).__name__}({shown!r})"


def _unset(value: Any) -> bool:
    return value is None or (isinstance(value, (str, list, tuple, dict)) and not value)


def _flatten(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict) and full not in _BY_KEY:
            flat.update(_flatten(value, full + "."))
        else:
            flat[full] = value
    return flat


def read_config_file(path: Path) -> dict[str, Any]:
    """Read ``config.yaml``, refusing one that others can read.

    The file holds the encryption key and desk credentials; a world- or
    group-readable file would leak them to every Toolforge user.
    """
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"{path} is readable by other users (mode {stat.filemode(mode)}); "
            f"run: chmod 600 {path}"
        )
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must contain a mapping of settings")
    flat = _flatten(data)
    for key in flat:
        if key not in _BY_KEY:
            raise ConfigError(f"{path}: unknown setting {key!r}")
    return flat


def load_config(
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Merge the layers and validate every value.

    ``overrides`` (flat keys) win over everything; tests use them. Unknown
    ``TOOL_*`` envvars are ignored because Toolforge sets some of its own
    (``TOOL_DATA_DIR``); unknown keys in ``config.yaml`` are errors because
    they are always typos.
    """
    environ = os.environ if environ is None else environ
    raw: dict[str, Any] = {setting.key: setting.default for setting in SETTINGS}
    sources: dict[str, str] = {}
    if config_file is not None and config_file.exists():
        for key, value in read_config_file(config_file).items():
            raw[key] = value
            sources[key] = str(config_file)
    for name, value in environ.items():
        setting = _BY_ENVVAR.get(name)
        if setting is not None:
            raw[setting.key] = value
            sources[setting.key] = name
    for key, value in (overrides or {}).items():
        if key not in _BY_KEY:
            raise ConfigError(f"unknown setting {key!r}")
        raw[key] = value
        sources[key] = "overrides"

    config = Config()
    for key, value in raw.items():
        setting = _BY_KEY[key]
        if value is None or (key not in sources and value == setting.default):
            config[key] = value
            continue
        try:
            config[key] = setting.parse(value)
        except (ValueError, TypeError) as error:
            where = sources.get(key, "default")
            raise ConfigError(f"invalid value for {key} ({setting.envvar}, from {where}): {error}") from None
    return config


def on_toolforge(environ: Mapping[str, str] | None = None, root: Path = Path("/")) -> bool:
    """Whether this process runs on Toolforge.

    Several independent signs, because the dev login must never be possible
    there: Toolforge sets ``TOOL_DATA_DIR`` and the ToolsDB credentials in
    every tool container, tool homes live under ``/data/project``, and
    Cloud VPS hosts carry ``/etc/wmcs-project``.
    """
    environ = os.environ if environ is None else environ
    if environ.get("TOOL_DATA_DIR") or environ.get("TOOL_TOOLSDB_USER"):
        return True
    if environ.get("HOME", "").startswith("/data/project/"):
        return True
    return (root / "etc" / "wmcs-project").exists()


def readme_table() -> str:
    """The Markdown configuration table of the README."""
    lines = ["| envvar | `config.yaml` key | default | meaning |", "|---|---|---|---|"]
    for setting in sorted(SETTINGS, key=lambda s: s.key):
        default = "" if setting.default in (None, [], {}) else f"`{setting.default}`"
        if isinstance(setting.default, bool):
            default = f"`{str(setting.default).lower()}`"
        lines.append(f"| `{setting.envvar}` | `{setting.key}` | {default} | {setting.doc} |")
    return "\n".join(lines)
