"""CSRF protection and security headers for every response.

CSRF: one random secret per session, kept in the session only. Pages and
``/api/v1/me`` carry it masked, differently in every response (as Django does):
``base64url(mask || secret XOR mask)`` with a fresh random mask, so no byte of
the secret repeats from one response to the next and a compressed page's size
cannot converge on it (BREACH, see :mod:`reporting.views.compression`). A token
is sent back either as the form field ``csrf_token`` or the header
``X-CSRF-Token``. Every state-changing request (anything but GET/HEAD/OPTIONS)
is refused without one that unmasks to the session's secret, before any view
runs; there are no exemptions, so a new view cannot forget it.
"""
from __future__ import annotations

import base64
import binascii
import functools
import hmac
import secrets
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask, abort, request, session

from reporting.request_context import request_globals, this_request

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# No inline scripts or styles anywhere; no third-party origin at run time.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    # data: only for images: Codex's CSS-only components embed their icons as
    # data-URI SVG masks (some per language). Scripts and styles stay 'self'.
    "img-src 'self' data:",
    # No font-src: the tool serves no fonts (default-src 'none' refuses any).
    "connect-src 'self'",
    "form-action 'self' https://meta.wikimedia.org",
    "frame-ancestors 'none'",
    "base-uri 'none'",
])


#: Paths of pages with report content or tokens.
_NEVER_CACHED = ("/report", "/queue", "/api/", "/login", "/oauth")

#: Responses that browsers only use as parts of a page, never render as documents.
_SUBRESOURCE_TYPES = frozenset({"text/css", "text/javascript", "application/javascript"})


#: The session key of the secret (not a token any page shows: see :func:`csrf_token`).
SECRET_KEY = "csrf_token"
SECRET_BYTES = 32


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes | None:
    """The bytes ``text`` encodes, if it is exactly what :func:`_b64` makes of them (one token, one
    spelling: no stray characters, no other value in a last character's unused bits)."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):  # ValueError: not ASCII
        return None
    return raw if _b64(raw) == text else None


def _xor(a: bytes, b: bytes) -> bytes:
    if len(a) != len(b):
        raise ValueError("masks and secrets have the same length")
    return (int.from_bytes(a) ^ int.from_bytes(b)).to_bytes(len(a))


def _new_secret() -> bytes:
    secret = secrets.token_bytes(SECRET_BYTES)
    session[SECRET_KEY] = _b64(secret)
    return secret


def _secret() -> bytes | None:
    """The session's secret, or None if it has none (or one this module did not make)."""
    stored = this_request().session.get(SECRET_KEY)
    return _decoded_secret(stored) if isinstance(stored, str) else None


@functools.lru_cache(maxsize=1024)
def _decoded_secret(stored: str) -> bytes | None:
    """Kept per process: pages ask for every request's token, and a session's secret stays."""
    raw = _unb64(stored)
    return raw if raw is not None and len(raw) == SECRET_BYTES else None


def mask(secret: bytes) -> str:
    """``secret`` under a fresh random mask: the form a token takes on a page."""
    pad = secrets.token_bytes(len(secret))
    return _b64(pad + _xor(secret, pad))


def unmask(token: str) -> bytes | None:
    """The secret a masked token carries (None if it is not one)."""
    raw = _unb64(token)
    if raw is None or len(raw) != 2 * SECRET_BYTES:
        return None
    return _xor(raw[SECRET_BYTES:], raw[:SECRET_BYTES])


def csrf_token() -> str:
    """The session's token, masked afresh for this response (the secret is created on first use).

    Every copy in one response is the same (the page's two forms compress as one); the next
    response has another."""
    secret = _secret() or _new_secret()
    kept = request_globals()
    cached = kept.get("_csrf_masked")
    if cached and cached[0] == secret:
        return str(cached[1])
    token = mask(secret)
    kept._csrf_masked = (secret, token)
    return token


def rotate_csrf_token() -> str:
    """A new secret, e.g. at login, so a token seen before login is worthless after; its masked form."""
    _new_secret()
    return csrf_token()


def _csrf_ok() -> bool:
    expected = _secret()
    given = request.headers.get("X-CSRF-Token")
    if not given and request.mimetype == "application/x-www-form-urlencoded":
        # Keep the raw body: views check its encoding themselves (see views.forms).
        request.get_data(cache=True)
        given = request.form.get("csrf_token", "")
    if expected is None or not given:
        return False
    # The masked form; or the bare secret, as pages showed it before tokens were masked (a form
    # open across the deploy). The bare secret is never in a response now, so BREACH cannot read it.
    secret = unmask(given) if len(given) > 2 * SECRET_BYTES else _unb64(given)
    return secret is not None and hmac.compare_digest(secret, expected)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["csrf_token"] = csrf_token

    @app.before_request
    def _check_csrf() -> None:
        if this_request().request.method in SAFE_METHODS:
            return
        if not _csrf_ok():
            abort(403, description="csrf")

    everywhere = [("X-Content-Type-Options", "nosniff"),
                  ("Referrer-Policy", "no-referrer"),  # every response: pages need no <meta> for it
                  ("Permissions-Policy", "camera=(), microphone=(), geolocation=()")]
    if not app.config.get("LOCAL_DEVELOPMENT"):
        everywhere.append(("Strict-Transport-Security", "max-age=31536000"))
    app.wsgi_app = SecurityHeaders(app.wsgi_app, everywhere)  # type: ignore[method-assign]


class SecurityHeaders:
    """WSGI middleware: the headers no view sets, added to every response's header list as it starts.

    As middleware (Flask documents replacing ``wsgi_app``) rather than an ``after_request`` hook,
    the constant headers skip werkzeug's response machinery, which validated and copied each of
    them twice more on every page: a tenth of the report form's time under gunicorn (issue 14).
    Everything a response passes through gets them, error pages included.

    Documents (and anything a browser might open as one) get the policy, unless their view set one,
    and ``X-Frame-Options``; a stylesheet, script or icon needs neither, and each would carry ~300
    bytes. Pages with report content or tokens are never cached by anyone: ``Cache-Control:
    no-store`` replaces what a view said.
    """

    def __init__(self, app: WSGIApplication, everywhere: list[tuple[str, str]]) -> None:
        self.app = app
        self._subresources = list(everywhere)
        self._documents = [("X-Frame-Options", "DENY"), *everywhere]
        self._documents_with_policy = [("Content-Security-Policy", CONTENT_SECURITY_POLICY), *self._documents]

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        # As werkzeug makes ``request.path`` of it ("//report" is routed to "/report").
        never_cached = ("/" + environ.get("PATH_INFO", "").lstrip("/")).startswith(_NEVER_CACHED)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers.extend(self._added(headers))
            if never_cached:
                headers[:] = [(name, value) for name, value in headers if name.lower() != "cache-control"]
                headers.append(("Cache-Control", "no-store"))
            return start_response(status, headers, exc_info)

        return self.app(environ, start)

    def _added(self, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        content_type, policy = "", False
        for name, value in headers:
            lowered = name.lower()
            if lowered == "content-type":
                content_type = value.partition(";")[0].strip().lower()
            elif lowered == "content-security-policy":
                policy = True
        if content_type in _SUBRESOURCE_TYPES:
            return self._subresources
        return self._documents if policy else self._documents_with_policy
