"""Who is logged in: the session's user, login/logout, OAuth and the dev login.

The seam is small on purpose: a login method (OAuth with meta.wikimedia.org,
or the local development form) ends by calling :func:`sign_in` with a
:class:`SessionUser`; everything else asks :func:`current_user`. Identity
and roles are computed on the server at login and never taken from a form or
an API body.

``/login`` starts OAuth when a consumer is configured, shows the development
form when ``dev_login`` is on (``create_app`` refuses both at once), and
otherwise explains that login is not configured. The OAuth request token and
the page to return to are kept in the (signed) session until the wiki sends
the user back to ``/oauth-callback``.

Sessions are cookies, so a copied cookie could be replayed for as long as it
is re-signed. The login time is therefore kept inside the session and a
session older than ``PERMANENT_SESSION_LIFETIME`` is refused whatever the
cookie's own age. Roles are recomputed every ``roles.refresh_minutes``.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import asdict, dataclass, field, fields
from functools import wraps
from typing import Any, Callable

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for

from reporting.identity import role_lookup as login_roles
from reporting.identity.oauth import Identity, InMemoryReplayGuard, LoginError, OAuthSettings, finish_login, start_login
from reporting.identity.roles import GlobalUserInfoError
from reporting.views.security import rotate_csrf_token
from reporting.storage.store import Reporter
from reporting.wiki.user_agent import policy_user_agent

log = logging.getLogger(__name__)

SESSION_KEY = "user"
LOGIN_AT_KEY = "login_at"
LOGIN_METHOD_KEY = "login_method"
ROLES_DUE_KEY = "roles_due"
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

clock: Callable[[], float] = time.time  # tests replace it to age sessions


@dataclass(frozen=True)
class SessionUser(Reporter):
    """What the tool keeps about the logged-in user (all from OAuth's identify):
    the facts a report records about its reporter, plus groups and roles."""

    groups: tuple[str, ...] = ()
    roles: tuple[str, ...] = field(default_factory=tuple)

    def as_reporter(self) -> Reporter:
        """The reporter facts a report seals (no groups or roles)."""
        return Reporter(**{f.name: getattr(self, f.name) for f in fields(Reporter)})

    def to_session(self) -> dict[str, Any]:
        data = asdict(self)
        data["groups"] = list(self.groups)
        data["roles"] = list(self.roles)
        return data

    @classmethod
    def from_session(cls, data: dict[str, Any]) -> "SessionUser":
        return cls(**{**data, "groups": tuple(data.get("groups", ())), "roles": tuple(data.get("roles", ()))})

    @classmethod
    def from_identity(cls, identity: Identity, roles: tuple[str, ...]) -> "SessionUser":
        """Only the facts the issue allows us to keep (no rights, grants or email)."""
        return cls(username=identity.username, central_id=identity.central_id, blocked=identity.blocked,
                   editcount=identity.editcount, registered=identity.registered,
                   confirmed_email=identity.confirmed_email, groups=identity.groups, roles=roles)

    def to_identity(self) -> Identity:
        return Identity(username=self.username, central_id=self.central_id or 0, blocked=self.blocked,
                        editcount=self.editcount or 0, registered=self.registered,
                        confirmed_email=bool(self.confirmed_email), groups=self.groups)


def _session_is_fresh() -> bool:
    login_at = session.get(LOGIN_AT_KEY)
    if not isinstance(login_at, (int, float)) or isinstance(login_at, bool):
        return False
    age = clock() - login_at
    return 0 <= age <= current_app.permanent_session_lifetime.total_seconds()


def current_user() -> SessionUser | None:
    """The logged-in user, or None (also for a session past its lifetime)."""
    data = session.get(SESSION_KEY)
    if not data or not _session_is_fresh():
        return None
    try:
        return SessionUser.from_session(data)
    except TypeError:  # a session written by an incompatible version
        return None


def sign_in(user: SessionUser, method: str, roles_due: float | None = None) -> None:
    """Start a fresh session for ``user``, logged in by ``method`` (``oauth`` or ``dev``).

    Everything from before login is dropped (no session fixation) except the
    chosen interface language, and the CSRF token is replaced. ``roles_due``
    is when the user's roles must be computed again (default: now + the
    refresh interval).
    """
    uselang = session.get("uselang")
    session.clear()
    if uselang:
        session["uselang"] = uselang
    session.permanent = True
    now = clock()
    session[SESSION_KEY] = user.to_session()
    session[LOGIN_AT_KEY] = now
    session[LOGIN_METHOD_KEY] = method
    session[ROLES_DUE_KEY] = roles_due if roles_due is not None else (
        now + login_roles.refresh_interval_seconds(current_app.extensions["reporting"].config))
    rotate_csrf_token()


def sign_out() -> None:
    uselang = session.get("uselang")
    session.clear()
    if uselang:
        session["uselang"] = uselang


def login_required(view: Callable) -> Callable:
    """Pages: send anonymous users to the login, then back here."""
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return redirect(url_for("auth.login", returnto=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    return wrapper


def safe_returnto(value: str | None) -> str:
    """Only local paths: ``/report?wiki=..`` yes; ``//evil``, ``https://evil``, ``/\\evil`` no."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    if any(ch in value for ch in ("\r", "\n", "\\")) or any(ord(ch) < 32 for ch in value):
        return "/"
    return value


# -- OAuth and roles glue -------------------------------------------------------


def _services():
    return current_app.extensions["reporting"]


def oauth_configured() -> bool:
    config = _services().config
    return bool(config["oauth.consumer_key"] and config["oauth.consumer_secret"])


def oauth_settings() -> OAuthSettings:
    config = _services().config
    return OAuthSettings(consumer_key=config["oauth.consumer_key"],
                         consumer_secret=config["oauth.consumer_secret"],
                         index_url=config["oauth.index_url"],
                         user_agent=policy_user_agent(config))


def _replay_guard() -> InMemoryReplayGuard:
    return current_app.extensions.setdefault("reporting.oauth_replay_guard", InMemoryReplayGuard())


def _wiki_client() -> login_roles.GlobalUserInfoClient:
    return login_roles.GlobalUserInfoClient(policy_user_agent(_services().config))


def _roles_from_wiki(user: SessionUser) -> tuple[str, ...]:
    services = _services()
    return login_roles.roles_from_wiki(user.to_identity(), services.config, _wiki_client(),
                                       services.normalize_wiki)


def _roles_for_dev(username: str, groups: tuple[str, ...]) -> tuple[str, ...]:
    services = _services()
    return login_roles.roles_for_dev_login(username, groups, services.config, services.normalize_wiki)


def refresh_roles_if_due() -> None:
    """Recompute the session user's roles when ``roles_due`` has passed.

    On a wiki error the old roles stay and the lookup is retried a few
    minutes later, so meta being slow neither logs anyone out nor makes every
    request wait for it.
    """
    user = current_user()
    due = session.get(ROLES_DUE_KEY, 0)
    now = clock()
    if user is None or (isinstance(due, (int, float)) and now < due):
        return
    config = _services().config
    try:
        if session.get(LOGIN_METHOD_KEY) == "oauth":
            roles = _roles_from_wiki(user)
        else:
            roles = _roles_for_dev(user.username, user.groups)
    except GlobalUserInfoError as error:
        log.warning("roles not refreshed, keeping the previous ones: %s", error)
        session[ROLES_DUE_KEY] = now + login_roles.retry_interval_seconds(config)
        return
    session[SESSION_KEY] = dataclasses.replace(user, roles=roles).to_session()
    session[ROLES_DUE_KEY] = now + login_roles.refresh_interval_seconds(config)


bp = Blueprint("auth", __name__)


@bp.before_app_request
def _maintain_session() -> None:
    if request.endpoint == "static" or SESSION_KEY not in session:
        return
    if current_user() is None:
        sign_out()  # expired or unreadable: the cookie is worthless from now on
        return
    refresh_roles_if_due()


def _login_error_page(error: LoginError, returnto: str):
    return render_template("login_error.html", message_key=error.message_key, returnto=returnto), \
        _LOGIN_ERROR_STATUS.get(error.code, 400)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Start the configured login; see the module docstring."""
    returnto = safe_returnto(request.values.get("returnto"))
    if oauth_configured():
        if request.method != "GET":
            abort(405)
        return _start_oauth(returnto)
    if current_app.config.get("DEV_LOGIN"):
        return _dev_login(returnto)
    return render_template("login_unavailable.html"), 503


def _start_oauth(returnto: str):
    try:
        redirect_url, request_token = start_login(
            oauth_settings(), url_for("auth.oauth_callback", _external=True))
    except LoginError as error:
        log.warning("OAuth login could not start: %s: %s", error.code, error)
        return _login_error_page(error, returnto)
    session[PENDING_OAUTH_KEY] = {"token": request_token, "returnto": returnto}
    return redirect(redirect_url)


@bp.get("/oauth-callback")
def oauth_callback():
    """Where the wiki sends the user back: finish the handshake, identify, sign in.

    The pending login is taken out of the session first, whatever happens:
    a request token is single-use.
    """
    if not oauth_configured():
        abort(404)
    pending = session.pop(PENDING_OAUTH_KEY, None)
    pending = pending if isinstance(pending, dict) else {}
    returnto = safe_returnto(pending.get("returnto"))
    token = pending.get("token") if isinstance(pending.get("token"), dict) else None
    try:
        identity = finish_login(oauth_settings(), token, request.query_string, replay_guard=_replay_guard())
    except LoginError as error:
        log.info("OAuth login failed: %s: %s", error.code, error)
        return _login_error_page(error, returnto)
    config = _services().config
    user = SessionUser.from_identity(identity, roles=())
    try:
        user = dataclasses.replace(user, roles=_roles_from_wiki(user))
        roles_due = clock() + login_roles.refresh_interval_seconds(config)
    except GlobalUserInfoError as error:
        # Reporting needs no role: log in without roles and ask meta again soon.
        log.warning("roles unknown at login, retrying later: %s", error)
        roles_due = clock() + login_roles.retry_interval_seconds(config)
    sign_in(user, method="oauth", roles_due=roles_due)
    return redirect(returnto)


def _dev_login(returnto: str):
    """The local development login (``TOOL_DEV_LOGIN=1`` only)."""
    if request.method == "POST":
        username = " ".join(request.form.get("username", "").split())
        groups = tuple(sorted({g.strip() for g in request.form.get("groups", "").split(",") if g.strip()}))
        if not username or len(username) > 255:
            return render_template("dev_login.html", returnto=returnto, error=True), 422
        username = username[:1].upper() + username[1:]
        sign_in(SessionUser(username=username, groups=groups, roles=_roles_for_dev(username, groups)),
                method="dev")
        return redirect(returnto)
    return render_template("dev_login.html", returnto=returnto, error=False)


@bp.route("/logout", methods=["POST"])
def logout():
    sign_out()
    return redirect(url_for("pages.index"))
