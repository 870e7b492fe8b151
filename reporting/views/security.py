"""CSRF protection and security headers for every response.

CSRF: one random token per session, sent back either as the form field
``csrf_token`` or the header ``X-CSRF-Token``. Every state-changing request
(anything but GET/HEAD/OPTIONS) is refused without it, before any view runs;
there are no exemptions, so a new view cannot forget it.
"""
from __future__ import annotations

import hmac
import secrets

from flask import Flask, Response, abort, request, session

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# No inline scripts or styles anywhere; no third-party origin at run time.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    # data: only for images: Codex's CSS-only components embed their icons as
    # data-URI SVG masks (some per language). Scripts and styles stay 'self'.
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "form-action 'self' https://meta.wikimedia.org",
    "frame-ancestors 'none'",
    "base-uri 'none'",
])


#: Responses that browsers only use as parts of a page, never render as documents.
_SUBRESOURCE_TYPES = frozenset({"text/css", "text/javascript", "application/javascript"})


def csrf_token() -> str:
    """The session's token, created on first use."""
    token = session.get("csrf_token")
    if not token:
        token = session["csrf_token"] = secrets.token_urlsafe(32)
    return token


def rotate_csrf_token() -> str:
    """A new token, e.g. at login, so a token seen before login is worthless after."""
    session["csrf_token"] = secrets.token_urlsafe(32)
    return session["csrf_token"]


def _csrf_ok() -> bool:
    expected = session.get("csrf_token")
    given = request.headers.get("X-CSRF-Token")
    if not given and request.mimetype == "application/x-www-form-urlencoded":
        # Keep the raw body: views check its encoding themselves (see views.forms).
        request.get_data(cache=True)
        given = request.form.get("csrf_token", "")
    return bool(expected) and hmac.compare_digest(str(given).encode(), str(expected).encode())


def init_app(app: Flask) -> None:
    app.jinja_env.globals["csrf_token"] = csrf_token

    @app.before_request
    def _check_csrf() -> None:
        if request.method in SAFE_METHODS:
            return
        if not _csrf_ok():
            abort(403, description="csrf")

    @app.after_request
    def _security_headers(response: Response) -> Response:
        if response.mimetype not in _SUBRESOURCE_TYPES:
            # Documents (and anything a browser might open as one); a stylesheet, script or icon
            # needs no policy of its own, and each would carry these ~300 bytes (issue 14).
            response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
            response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if not app.config.get("LOCAL_DEVELOPMENT"):
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        if request.path.startswith(("/report", "/queue", "/api/", "/login", "/oauth")):
            # Pages with report content or tokens are never cached by anyone.
            response.headers["Cache-Control"] = "no-store"
        return response
