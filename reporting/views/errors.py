"""Error pages and API error bodies, in the user's language.

API paths get ``{"errors": [{"field", "code", "message"}]}``; pages get a
calm page that says what happened and what to do. Nothing here echoes
request content back.
"""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from reporting.i18n import current_language, msg_text

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


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        code, key = _KNOWN.get(error.code or 500, ("error", "reporting-error-generic"))
        if error.code == 403 and error.description == "csrf":
            code, key = "csrf", "reporting-error-csrf"
        if request.path.startswith("/api/"):
            return api_error(error.code or 500, code, key)
        return render_template("error.html", message_key=key), error.code or 500

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        app.logger.exception("unexpected error on %s %s", request.method, request.path)
        if request.path.startswith("/api/"):
            return api_error(500, "internal", "reporting-error-generic")
        return render_template("error.html", message_key="reporting-error-generic"), 500
