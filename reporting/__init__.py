"""Private incident reporting for Wikimedia communities.

:func:`create_app` builds the Flask app from the configuration layers
(:mod:`reporting.config`), builds the tool's objects once
(:class:`reporting.components.Components`) and hands each blueprint the
ones it uses.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from types import FunctionType
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from reporting import cli, i18n, worker_job
from reporting.cases.access import has_workspace
from reporting.cases.misuse import MisusePolicy
from reporting.components import Components
from reporting.config import Config, load_config, on_toolforge
from reporting.delivery.health import Thresholds
from reporting.identity import login, role_lookup
from reporting.identity.session import current_user
from reporting.intake.submission import MAX_BODY_BYTES
from reporting.logs import configure_logging
from reporting.startup_checks import check_startup
from reporting.version import __version__  # noqa: F401  (the package's version, re-exported)
from reporting.views import (
    api,
    assets,
    case_pages,
    compression,
    errors,
    evidence,
    gadget,
    health,
    oversight,
    pages,
    privacy,
    queue_api,
    queue_pages,
    security,
)
from reporting.views.sessions import CookieSessions
from reporting.views.throttle import CheckThrottle
from reporting.wiki.user_agent import policy_user_agent

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _instance_path(config: Config) -> Path:
    return Path(config["instance_path"] or PROJECT_ROOT / "instance").resolve()


def _read_instance_key(instance: Path, name: str) -> str | None:
    path = instance / name
    return path.read_text(encoding="ascii").strip() if path.exists() else None


class ReportingFlask(Flask):
    """Flask, with ``ensure_sync``'s answer kept per function: Flask asks
    ``inspect.iscoroutinefunction`` of every hook and view on every request (eight on the report
    form), and the answer never changes. Only plain functions are kept (a bound method is a new
    object each time)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._synced: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        made = self._synced.get(func)
        if made is None:
            made = super().ensure_sync(func)
            if isinstance(func, FunctionType):
                self._synced[func] = made
        return made


def create_app(overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Flask:
    """Build the app. ``overrides`` (flat setting keys) are for tests."""
    environ = os.environ if environ is None else environ
    config_file = Path(environ.get("TOOL_CONFIG_FILE", PROJECT_ROOT / "config.yaml"))
    config = load_config(environ, config_file, overrides)
    instance = _instance_path(config)
    if not on_toolforge(environ):
        # The keys `make run` generated; production always configures its own.
        config["secret_key"] = config["secret_key"] or _read_instance_key(instance, "secret.key")
        config["encryption_key"] = config["encryption_key"] or _read_instance_key(instance, "encryption.key")
    check_startup(config, environ)

    app = ReportingFlask(
        __name__,
        static_folder=str(PROJECT_ROOT / "static"),
        static_url_path="/static",
        instance_path=str(instance),
    )
    app.config.update(
        SECRET_KEY=config["secret_key"],
        DEV_LOGIN=config["dev_login"],
        LOCAL_DEVELOPMENT=config["local_development"],
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        MAX_FORM_MEMORY_SIZE=MAX_BODY_BYTES,
        # __Host-: the browser accepts it only over HTTPS, for this host and path "/".
        SESSION_COOKIE_NAME="reporting_session" if config["local_development"] else "__Host-reporting_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=not config["local_development"],
        PERMANENT_SESSION_LIFETIME=timedelta(hours=config["session_lifetime_hours"]),
        # A login ends at a fixed time (its server-side record, storage/login_sessions.py), so
        # re-sending the cookie with every response (Flask's default) extends nothing: it cost a
        # signature and ~400 bytes per page. The cookie is sent when the session changes.
        SESSION_REFRESH_EACH_REQUEST=False,
        JSON_SORT_KEYS=False,
    )
    # Toolforge's front proxy (Flask documents replacing wsgi_app with middleware).
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
    configure_logging()

    toolforge = on_toolforge(environ)
    components = Components.build(config, instance, toolforge=toolforge)
    # For tests and `flask shell`; the tool's own code is handed what it uses.
    app.extensions["reporting"] = components

    i18n.init_app(app)
    security.init_app(app)
    assets.init_app(app, PROJECT_ROOT / "static")
    app.session_interface = CookieSessions()
    compression.init_app(app)
    roles = login.RoleKeeper(config, role_lookup.GlobalUserInfoClient(policy_user_agent(config)),
                             components.evidence.normalize_wiki)
    app.jinja_env.globals["current_session_user"] = current_user
    app.jinja_env.globals["has_workspace"] = has_workspace  # the header's "Cases" link
    app.jinja_env.globals["UserName"] = i18n.UserName  # user names as message parameters: <bdi>, GENDER
    app.register_blueprint(login.create_blueprint(config, roles, components.stores.login_sessions))
    # One limit on link checks per process, for the form and the API alike.
    checks = CheckThrottle(config["rate_limit.evidence_checks_per_hour"])
    app.register_blueprint(pages.create_blueprint(components.intake, components.stores, components.evidence,
                                                  components.cases, checks))
    app.register_blueprint(case_pages.create_blueprint(components.stores.reports, components.cases))
    app.register_blueprint(api.create_blueprint(components.intake, components.stores.reports, components.cases))
    app.register_blueprint(queue_pages.create_blueprint(components.workspace))
    app.register_blueprint(queue_api.create_blueprint(components.workspace))
    app.register_blueprint(evidence.create_blueprint(components.evidence, components.intake.barred, checks))
    app.register_blueprint(health.create_blueprint(components.health, Thresholds.from_config(config),
                                                   config["health.token"]))
    app.register_blueprint(gadget.create_blueprint(config))
    app.register_blueprint(oversight.create_blueprint(components.stores.audit_review, components.stores.case_stats,
                                                      components.stores.misuse, MisusePolicy.from_config(config)))
    app.register_blueprint(privacy.create_blueprint(config["retention_days"]))
    errors.init_app(app)
    cli.init_app(app, components)
    worker_in_web = config["delivery.worker_in_web"]
    if worker_in_web is True or (worker_in_web == "auto" and not toolforge):
        worker_job.start_with_first_request(app, components)
    return app
