"""Logging in and out: OAuth with meta.wikimedia.org, or the local development form.

``/login`` starts OAuth when a consumer is configured, shows the development
form when ``dev_login`` is on (``create_app`` refuses both at once), and
otherwise explains that login is not configured. The OAuth request token and
the page to return to are kept in the (signed) session until the wiki sends
the user back to ``/oauth-callback``. Roles are recomputed every
``roles.refresh_minutes`` (:class:`RoleKeeper`).
"""
from __future__ import annotations

import dataclasses
import logging
import unicodedata
from collections.abc import Callable

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask.sessions import SessionMixin
from werkzeug.wrappers import Response

from reporting.config import Config
from reporting.identity import role_lookup
from reporting.identity import session as sessions
from reporting.identity.oauth import InMemoryReplayGuard, LoginError, OAuthSettings, finish_login, start_login
from reporting.identity.roles import ApiClient, GlobalUserInfoError
from reporting.identity.session import (
    LOGIN_METHOD_KEY,
    ROLES_DUE_KEY,
    SESSION_ID_KEY,
    SESSION_KEY,
    SessionUser,
    current_user,
    note_database_unavailable,
    note_open_session,
    safe_returnto,
    sign_in,
    sign_out,
)
from reporting.identity.usernames import canonical_username
from reporting.request_context import this_request
from reporting.startup_checks import is_loopback_host
from reporting.storage.database import is_unavailable, utcnow
from reporting.storage.login_sessions import LoginSessions
from reporting.views.sessions import PUBLIC_ENDPOINTS
from reporting.wiki.user_agent import policy_user_agent

log = logging.getLogger(__name__)

PENDING_OAUTH_KEY = "oauth_pending"

# HTTP status of the page for each login failure: the user's doing or a stale
# link -> 4xx; the wiki's -> 502.
_LOGIN_ERROR_STATUS = {
    "denied": 403,
    "expired-request-token": 400,
    "mismatched-callback": 400,
    "invalid-identity": 400,
    "wiki-unreachable": 502,
    "provider-error": 502,
}


@dataclasses.dataclass(frozen=True)
class RoleKeeper:
    """Computes a session user's roles and when to compute them again.

    A wiki error never fails a login (reporters need no role): the previous
    roles stay and meta is asked again a few minutes later.
    """

    config: Config = dataclasses.field(repr=False)
    client: ApiClient
    normalize_wiki: Callable[[str], str | None]

    def roles_of(self, user: SessionUser, method: str) -> tuple[str, ...]:
        """Raises ``GlobalUserInfoError`` when meta gives no usable answer."""
        if method == "oauth":
            return role_lookup.roles_from_wiki(user.to_identity(), self.config, self.client, self.normalize_wiki)
        return role_lookup.roles_for_dev_login(user.username, user.groups, self.config, self.normalize_wiki)

    def with_roles(self, user: SessionUser, method: str) -> tuple[SessionUser, float]:
        """``user`` with fresh roles (or their old ones), and when they are due again."""
        now = sessions.clock()
        try:
            roles = self.roles_of(user, method)
        except GlobalUserInfoError as error:
            log.warning("roles unknown or not refreshed, keeping the previous ones: %s", error)
            return user, now + role_lookup.retry_interval_seconds(self.config)
        return dataclasses.replace(user, roles=roles), now + role_lookup.refresh_interval_seconds(self.config)

    def refresh_if_due(self, user: SessionUser, current: SessionMixin) -> None:
        """Recompute the roles of ``user`` (the one ``current`` holds) when ``roles_due`` has passed."""
        due = current.get(ROLES_DUE_KEY, 0)
        if isinstance(due, (int, float)) and sessions.clock() < due:
            return
        user, due = self.with_roles(user, current.get(LOGIN_METHOD_KEY, "dev"))
        current[SESSION_KEY] = user.to_session()
        current[ROLES_DUE_KEY] = due


#: Requests that read no session: static files and the health check (which answers from its own probe).
_NO_SESSION_CHECK = PUBLIC_ENDPOINTS | {"health.healthz"}


def create_blueprint(config: Config, roles: RoleKeeper, login_sessions: LoginSessions) -> Blueprint:
    bp = Blueprint("auth", __name__)
    oauth_configured = bool(config["oauth.consumer_key"] and config["oauth.consumer_secret"])
    oauth_settings = OAuthSettings(consumer_key=config["oauth.consumer_key"] or "",
                                   consumer_secret=config["oauth.consumer_secret"] or "",
                                   index_url=config["oauth.index_url"], user_agent=policy_user_agent(config))
    replay_guard = InMemoryReplayGuard()

    @bp.before_app_request
    def _maintain_session() -> None:
        context = this_request()
        current = context.session
        # The health check answers from its own probe, whatever the database does.
        if context.request.endpoint in _NO_SESSION_CHECK or SESSION_KEY not in current:
            return
        session_id = current.get(SESSION_ID_KEY)
        user = current_user()
        if user is None or not isinstance(session_id, str) or not _still_open(session_id):
            sign_out()  # expired, logged out or ended: the cookie is worthless from now on
            return
        roles.refresh_if_due(user, current)

    def _still_open(session_id: str) -> bool:
        try:
            state = login_sessions.state(session_id)
        except Exception as error:
            if is_unavailable(error):
                # The database is down: every view that reads or writes meets the outage
                # itself and says so (the report form keeps what was typed).
                note_database_unavailable()
                return True
            raise
        if state is None:
            return False
        note_open_session(state)
        return True

    def start_session(user: SessionUser, method: str, roles_due: float) -> None:
        expires_at = utcnow() + current_app.permanent_session_lifetime
        sign_in(user, method, roles_due, login_sessions.open(user.username, expires_at))

    def login_error_page(error: LoginError, returnto: str) -> tuple[str, int]:
        return (render_template("login_error.html", message_key=error.message_key, returnto=returnto),
                _LOGIN_ERROR_STATUS.get(error.code, 400))

    @bp.route("/login", methods=["GET", "POST"])
    def login() -> Response | tuple[str, int] | str:
        """Start the configured login; see the module docstring."""
        returnto = safe_returnto(request.values.get("returnto"))
        if oauth_configured:
            if request.method != "GET":
                abort(405)
            return start_oauth(returnto)
        if current_app.config.get("DEV_LOGIN"):
            return dev_login(returnto)
        return render_template("login_unavailable.html"), 503

    def start_oauth(returnto: str) -> Response | tuple[str, int]:
        try:
            redirect_url, request_token = start_login(oauth_settings, url_for("auth.oauth_callback", _external=True))
        except LoginError as error:
            log.warning("OAuth login could not start: %s: %s", error.code, error)
            return login_error_page(error, returnto)
        session[PENDING_OAUTH_KEY] = {"token": request_token, "returnto": returnto}
        return redirect(redirect_url)

    @bp.get("/oauth-callback")
    def oauth_callback() -> Response | tuple[str, int]:
        """Where the wiki sends the user back: finish the handshake, identify, sign in.

        The pending login is taken out of the session first, whatever happens:
        a request token is single-use.
        """
        if not oauth_configured:
            abort(404)
        pending = session.pop(PENDING_OAUTH_KEY, None)
        pending = pending if isinstance(pending, dict) else {}
        returnto = safe_returnto(pending.get("returnto"))
        token = pending.get("token") if isinstance(pending.get("token"), dict) else None
        try:
            identity = finish_login(oauth_settings, token, request.query_string, replay_guard=replay_guard)
        except LoginError as error:
            log.info("OAuth login failed: %s: %s", error.code, error)
            return login_error_page(error, returnto)
        user, roles_due = roles.with_roles(SessionUser.from_identity(identity, roles=()), "oauth")
        start_session(user, "oauth", roles_due)
        return redirect(returnto)

    def dev_login(returnto: str) -> Response | tuple[str, int] | str:
        """The local development login (``TOOL_DEV_LOGIN=1`` with local development only,
        and only for a browser on this machine: it lets anyone sign in as anyone)."""
        if not is_loopback_host(_socket_peer()):
            abort(404)
        if request.method != "POST":
            return render_template("dev_login.html", returnto=returnto, error=False)
        typed = request.form.get("username", "")
        username = canonical_username(typed)
        groups = tuple(sorted({g.strip() for g in request.form.get("groups", "").split(",") if g.strip()}))
        if not username or len(username) > 255 or _has_invisible_characters(typed + request.form.get("groups", "")):
            return render_template("dev_login.html", returnto=returnto, error=True), 422
        user, roles_due = roles.with_roles(SessionUser(username=username, groups=groups), "dev")
        start_session(user, "dev", roles_due)
        return redirect(returnto)

    @bp.route("/logout", methods=["POST"])
    def logout() -> Response:
        session_id = session.get(SESSION_ID_KEY)
        if isinstance(session_id, str):
            login_sessions.close(session_id)
        sign_out()
        return redirect(url_for("pages.index"))

    return bp


def _socket_peer() -> str | None:
    """The address the connection really came from: ``ProxyFix`` would take an
    ``X-Forwarded-For`` header anyone can send."""
    original = request.environ.get("werkzeug.proxy_fix.orig") or {}
    return original.get("REMOTE_ADDR") or request.environ.get("REMOTE_ADDR")


def _has_invisible_characters(text: str) -> bool:
    """Control, format (bidi marks, zero-width) and surrogate characters: a
    name built with them looks like someone else's."""
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in text)
