"""The logged-in user of a request: kept in the signed session cookie.

A login method (OAuth with meta.wikimedia.org, or the local development
form; see :mod:`reporting.identity.login`) ends by calling :func:`sign_in`
with a :class:`SessionUser`; everything else asks :func:`current_user`.
Identity and roles are computed on the server at login and never taken from
a form or an API body.

Sessions are cookies, so a copied cookie could be replayed for as long as it
is re-signed. The login time is therefore kept inside the session and a
session older than ``PERMANENT_SESSION_LIFETIME`` is refused whatever the
cookie's own age.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import timedelta
from functools import wraps
from typing import Any

from flask import g, redirect, request, session, url_for
from flask.sessions import SessionMixin

from reporting.identity.oauth import Identity
from reporting.intake.submission import Reporter
from reporting.request_context import request_globals, this_request
from reporting.storage.login_sessions import OpenSession
from reporting.views.security import rotate_csrf_token

SESSION_KEY = "user"
LOGIN_AT_KEY = "login_at"
LOGIN_METHOD_KEY = "login_method"
ROLES_DUE_KEY = "roles_due"
SESSION_ID_KEY = "sid"  # the server-side record of this login (storage/login_sessions.py)
DRAFT_KEY = "draft"  # the token of a report form kept while its reporter logs in (storage/form_drafts.py)
_USER_MEMO = "_reporting_user"  # the request's answer of current_user(), an attribute of its session object

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
    def from_session(cls, data: dict[str, Any]) -> SessionUser:
        return cls(**{**data, "groups": tuple(data.get("groups", ())), "roles": tuple(data.get("roles", ()))})

    @classmethod
    def from_identity(cls, identity: Identity, roles: tuple[str, ...]) -> SessionUser:
        """Only the facts the tool may keep (no rights, grants or email)."""
        return cls(username=identity.username, central_id=identity.central_id, blocked=identity.blocked,
                   editcount=identity.editcount, registered=identity.registered,
                   confirmed_email=identity.confirmed_email, groups=identity.groups, roles=roles)

    def to_identity(self) -> Identity:
        return Identity(username=self.username, central_id=self.central_id or 0, blocked=self.blocked,
                        editcount=self.editcount or 0, registered=self.registered,
                        confirmed_email=bool(self.confirmed_email), groups=self.groups)


def _session_is_fresh(current: SessionMixin, lifetime: timedelta) -> bool:
    login_at = current.get(LOGIN_AT_KEY)
    if not isinstance(login_at, (int, float)) or isinstance(login_at, bool):
        return False
    age = clock() - login_at
    return 0 <= age <= lifetime.total_seconds()


def current_user() -> SessionUser | None:
    """The logged-in user, or None (also for a session past its lifetime).

    Asked half a dozen times a request (hooks, the view, the page's header): the answer is kept
    on the request's session object, for as long as it holds the same user record (logging in or
    out replaces or removes it). The request is looked up once (:mod:`reporting.request_context`):
    each trip through Flask's proxies cost as much as the rest of this function."""
    context = this_request()
    current = context.session
    data = current.get(SESSION_KEY)
    known = current.__dict__.get(_USER_MEMO)
    if known is not None and known[0] is data:
        user: SessionUser | None = known[1]
        return user
    user = _user_of(data, current, context.app.permanent_session_lifetime)
    current.__dict__[_USER_MEMO] = (data, user)
    return user


def _user_of(data: Any, current: SessionMixin, lifetime: timedelta) -> SessionUser | None:
    if not data or not _session_is_fresh(current, lifetime):
        return None
    try:
        return SessionUser.from_session(data)
    except TypeError:  # a session written by an incompatible version
        return None


def note_open_session(state: OpenSession) -> None:
    """Keep what the request's session check found (:mod:`reporting.identity.login`)."""
    request_globals()._reporting_open_session = state


def open_session() -> tuple[str, OpenSession] | None:
    """This request's login session: its id and what the check found; None when logged out."""
    state = request_globals().get("_reporting_open_session")
    session_id = this_request().session.get(SESSION_ID_KEY)
    return (session_id, state) if isinstance(state, OpenSession) and isinstance(session_id, str) else None


def logged_in_user() -> SessionUser:
    """The user of a view guarded by :func:`login_required` (or its API twin)."""
    user = current_user()
    if user is None:  # pragma: no cover - the guard answered already
        raise RuntimeError("a login-only view ran without a logged-in user")
    return user


def sign_in(user: SessionUser, method: str, roles_due: float, session_id: str) -> None:
    """Start a fresh session for ``user``, logged in by ``method`` (``oauth`` or ``dev``).

    Everything from before login is dropped (no session fixation) except the
    chosen interface language and the token of a report form kept while
    logging in (only its own user may take it back), and the CSRF token is
    replaced. ``roles_due`` is when the user's roles must be computed again;
    ``session_id`` names the server-side record that logging out deletes.
    """
    uselang = session.get("uselang")
    draft = session.get(DRAFT_KEY)
    session.clear()
    if uselang:
        session["uselang"] = uselang
    if isinstance(draft, str):
        session[DRAFT_KEY] = draft
    session.permanent = True
    session[SESSION_KEY] = user.to_session()
    session[LOGIN_AT_KEY] = clock()
    session[LOGIN_METHOD_KEY] = method
    session[ROLES_DUE_KEY] = roles_due
    session[SESSION_ID_KEY] = session_id
    rotate_csrf_token()


def sign_out() -> None:
    """End the session (the interface language stays). The user it named, if any, is remembered
    for the rest of this request (:func:`ended_session_user`)."""
    data = session.get(SESSION_KEY)
    if isinstance(data, dict) and isinstance(data.get("username"), str):
        g.ended_session_user = data["username"]
    uselang = session.get("uselang")
    session.clear()
    if uselang:
        session["uselang"] = uselang


def note_database_unavailable() -> None:
    """The login check met a database that cannot answer: remembered for this request only."""
    g.reporting_database_unavailable = True


def database_seemed_unavailable() -> bool:
    """Whether this request's login check met an unavailable database, so a page that reads
    nothing else (the report form on GET) can still say that sending will fail for now."""
    return bool(request_globals().get("reporting_database_unavailable"))


def ended_session_user() -> str | None:
    """The user whose session this request found ended (expired, logged out elsewhere), if any:
    a report form kept for the next login is given back to them only."""
    data = session.get(SESSION_KEY)
    if isinstance(data, dict) and isinstance(data.get("username"), str):
        return str(data["username"])
    name = g.get("ended_session_user")
    return name if isinstance(name, str) else None


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
