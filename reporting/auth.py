"""Who is logged in: the session's user, login/logout, and the dev login.

The seam is small on purpose: a login method (OAuth, or the local
development form) ends by calling :func:`sign_in` with a :class:`SessionUser`;
everything else asks :func:`current_user`. Identity and roles are computed
on the server at login and never taken from a form or an API body.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import wraps
from typing import Any, Callable

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for

from .security import rotate_csrf_token

SESSION_KEY = "user"


@dataclass(frozen=True)
class SessionUser:
    """What the tool keeps about the logged-in user (all from OAuth's identify)."""

    username: str
    central_id: int | None = None
    blocked: bool = False
    editcount: int | None = None
    registered: str | None = None
    confirmed_email: bool | None = None
    groups: tuple[str, ...] = ()
    roles: tuple[str, ...] = field(default_factory=tuple)

    def to_session(self) -> dict[str, Any]:
        data = asdict(self)
        data["groups"] = list(self.groups)
        data["roles"] = list(self.roles)
        return data

    @classmethod
    def from_session(cls, data: dict[str, Any]) -> "SessionUser":
        return cls(**{**data, "groups": tuple(data.get("groups", ())), "roles": tuple(data.get("roles", ()))})


def current_user() -> SessionUser | None:
    data = session.get(SESSION_KEY)
    return SessionUser.from_session(data) if data else None


def sign_in(user: SessionUser) -> None:
    """Start a fresh session for ``user``.

    Everything from before login is dropped (no session fixation) except the
    chosen interface language, and the CSRF token is replaced.
    """
    uselang = session.get("uselang")
    session.clear()
    if uselang:
        session["uselang"] = uselang
    session.permanent = True
    session[SESSION_KEY] = user.to_session()
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


def roles_for_dev_groups(groups: tuple[str, ...]) -> tuple[str, ...]:
    """Dev login: the same global-group rules as OAuth logins, without a wiki to ask."""
    roles = []
    if "staff" in groups:
        roles.append("trust-and-safety")
    if "steward" in groups:
        roles.append("steward")
    return tuple(sorted(roles))


bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The local development login (``TOOL_DEV_LOGIN=1`` only)."""
    if not current_app.config.get("DEV_LOGIN"):
        abort(404)
    returnto = safe_returnto(request.values.get("returnto"))
    if request.method == "POST":
        username = " ".join(request.form.get("username", "").split())
        groups = tuple(sorted({g.strip() for g in request.form.get("groups", "").split(",") if g.strip()}))
        if not username or len(username) > 255:
            return render_template("dev_login.html", returnto=returnto, error=True), 422
        sign_in(SessionUser(username=username[:1].upper() + username[1:], groups=groups,
                            roles=roles_for_dev_groups(groups)))
        return redirect(returnto)
    return render_template("dev_login.html", returnto=returnto, error=False)


@bp.route("/logout", methods=["POST"])
def logout():
    sign_out()
    return redirect(url_for("pages.index"))
