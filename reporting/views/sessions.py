"""The session cookie: Flask's signed cookie, read at the cost of a dictionary lookup.

Two changes to Flask's :class:`~flask.sessions.SecureCookieSessionInterface`:

* Static files never carry the cookie (nor ``Vary: Cookie``): a response
  cached by the browser, or any cache, for a year must not hold anyone's
  session.
* A cookie whose signature was checked once is not checked again. Every view
  of a logged-in person sends the same cookie until the session changes, and
  verifying it (HMAC, base64, tagged JSON) was a tenth of the report form's
  time. The cache maps the exact ``Cookie`` header (so a known one is not even
  parsed) to what its session cookie held and when that was signed; each
  request gets its own copy and the age limit applies as before. It holds
  nothing a request does not already carry, and it does not decide whether a
  session is still open: the server-side record is checked on every request
  (:mod:`reporting.storage.login_sessions`).
"""
from __future__ import annotations

import threading
import time
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from itsdangerous import BadSignature

from reporting.request_context import this_request
from reporting.views.headers import add_vary

#: Endpoints whose responses are the same for everyone and cached publicly: they never carry the
#: session cookie (Flask would otherwise refresh a permanent session's cookie on them too).
PUBLIC_ENDPOINTS = frozenset({"static", "assets.asset", "assets.favicon"})

#: Cookies remembered per process: about a kilobyte each, the oldest forgotten first.
MAX_VERIFIED = 4096
#: A longer Cookie header (other cookies besides the session's) is verified every time, not kept.
MAX_KEPT_HEADER = 2048


class CookieSessions(SecureCookieSessionInterface):
    def __init__(self, limit: int = MAX_VERIFIED) -> None:
        self._verified: dict[str, tuple[int, dict[str, Any]]] = {}
        self._limit = limit
        self._lock = threading.Lock()

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        # Keyed by the whole Cookie header, so a known session costs no cookie parsing either.
        header = request.environ.get("HTTP_COOKIE")
        if not header or not app.secret_key:
            return super().open_session(app, request)
        max_age = int(app.permanent_session_lifetime.total_seconds())
        known = self._verified.get(header)
        if known is None:
            value = request.cookies.get(self.get_cookie_name(app))
            if not value:
                return super().open_session(app, request)
            serializer = self.get_signing_serializer(app)
            assert serializer is not None  # there is a secret key
            try:
                data, signed_at = serializer.loads(value, max_age=max_age, return_timestamp=True)
            except BadSignature:  # forged, from another key, or expired: an empty session, as Flask does
                return self.session_class()
            known = (int(signed_at.timestamp()), data)
            if len(header) > MAX_KEPT_HEADER:
                return self.session_class(data)
            with self._lock:  # threads of one worker share it
                if len(self._verified) >= self._limit:
                    del self._verified[next(iter(self._verified))]
                self._verified[header] = known
        age = int(time.time()) - known[0]
        if not 0 <= age <= max_age:  # itsdangerous's own rule (``SignatureExpired``)
            self._verified.pop(header, None)
            return self.session_class()
        return self.session_class(_copied(known[1]))

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if this_request().request.endpoint in PUBLIC_ENDPOINTS:
            return
        if session and not self.should_set_cookie(app, session):
            # Flask's own steps for an unchanged session, with a cheaper Vary (reporting/views/headers.py).
            if session.accessed:
                add_vary(response, "Cookie")
            return
        super().save_session(app, session, response)


def _copied(value: Any) -> Any:
    """A copy of what a cookie held (JSON values): each request may change its own session.
    Only dicts and lists are copied (with a call per container, not per value); everything else
    is a str, number, bool, None, or a tagged type Flask turns into an immutable value."""
    if isinstance(value, dict):
        return {key: _copied(item) if isinstance(item, dict | list) else item for key, item in value.items()}
    if isinstance(value, list):
        return [_copied(item) if isinstance(item, dict | list) else item for item in value]
    return value
