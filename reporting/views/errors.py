"""Error pages and API error bodies, in the user's language.

API paths get ``{"errors": [{"field", "code", "message"}]}``; pages get a
calm page that says what happened and what to do. Nothing here echoes
request content back.

A database that cannot answer (down, unreachable, locked:
:func:`reporting.storage.database.is_unavailable`) is not a bug: it is a
503 with ``Retry-After`` (API code ``unavailable``), so clients and people
know to try again. The report form catches it itself, to show the form
again with everything typed (:mod:`reporting.views.pages`).
"""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from reporting.i18n import current_language, msg_text
from reporting.storage.database import is_unavailable

#: What a 503 tells clients to wait before they try again.
UNAVAILABLE_RETRY_AFTER_SECONDS = 30
UNAVAILABLE_HEADERS = {"Retry-After": str(UNAVAILABLE_RETRY_AFTER_SECONDS)}

# HTTP status -> (code, message key)
_KNOWN = {
    400: ("bad-request", "reporting-error-bad-request"),
    401: ("login-required", "reporting-error-login-required"),
    403: ("forbidden", "reporting-error-forbidden"),
    404: ("not-found", "reporting-error-not-found"),
    405: ("method-not-allowed", "reporting-error-method-not-allowed"),
    413: ("too-large", "reporting-error-too-large"),
    415: ("unsupported-media-type", "reporting-error-unsupported-media-type"),
    429: ("rate-limited", "reporting-error-rate-limited"),
}


def api_error(status: int, code: str, key: str, field: str | None = None, *params):
    """One-error API response in the user's language."""
    return jsonify(errors=[{"field": field, "code": code,
                            "message": msg_text(key, *params, lang=current_language())}]), status


def unavailable_response():
    """The database cannot answer: 503, ``Retry-After``, a calm message in the user's language."""
    if request.path.startswith("/api/"):
        body, status = api_error(503, "unavailable", "reporting-error-unavailable")
        return body, status, UNAVAILABLE_HEADERS
    return render_template("error.html", message_key="reporting-error-unavailable"), 503, UNAVAILABLE_HEADERS


def http_error_response(error: HTTPException):
    """The page (or API body) for an HTTP error; also the fallback of views' own error handlers."""
    code, key = _KNOWN.get(error.code or 500, ("error", "reporting-error-generic"))
    if error.code == 403 and error.description == "csrf":
        code, key = "csrf", "reporting-error-csrf"
    if request.path.startswith("/api/"):
        return api_error(error.code or 500, code, key)
    return render_template("error.html", message_key=key), error.code or 500


def init_app(app: Flask) -> None:
    app.errorhandler(HTTPException)(http_error_response)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        if is_unavailable(error):
            app.logger.warning("database unavailable on %s %s", request.method, request.path, exc_info=True)
            return unavailable_response()
        app.logger.exception("unexpected error on %s %s", request.method, request.path)
        if request.path.startswith("/api/"):
            return api_error(500, "internal", "reporting-error-generic")
        return render_template("error.html", message_key="reporting-error-generic"), 500
