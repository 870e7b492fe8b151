"""JSON API under ``/api/v1``: the gadget and scripts use it.

Authentication is the tool's session cookie; every POST also needs the
session's CSRF token in ``X-CSRF-Token`` (checked globally in
:mod:`reporting.views.security`), which ``GET /api/v1/me`` hands out.
"""
from __future__ import annotations

from functools import wraps
from typing import Any, Callable

from flask import Blueprint, jsonify, request, url_for

from reporting.identity.login import current_user
from reporting.intake.eligibility import barred_refusal
from reporting.views.errors import api_error
from reporting.i18n import current_language, msg_text
from reporting.intake.submission import looks_like_reference, validate_submission
from reporting.views.security import csrf_token
from reporting.components import services
from reporting.storage.store import ReportSummary
from reporting.views.forms import BadBody, read_json_body
from reporting.views.openapi import openapi_document
from reporting.views.pages import refusal_for, reporter_from_session

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def api_login_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return api_error(401, "login-required", "reporting-error-login-required")
        return view(*args, **kwargs)
    return wrapper


def summary_json(summary: ReportSummary) -> dict[str, Any]:
    return {
        "ref": summary.ref,
        "status": summary.status,
        "wiki": summary.wiki,
        "category": summary.category,
        "severity": summary.severity,
        "created_at": summary.created_at.isoformat() + "Z",
        "updated_at": summary.updated_at.isoformat() + "Z",
        "url": url_for("pages.my_report", ref=summary.ref),
    }


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@bp.get("/me")
@api_login_required
def me():
    user = current_user()
    return jsonify(username=user.username, roles=list(user.roles), csrf_token=csrf_token())


@bp.post("/reports")
@api_login_required
def create_report():
    lang = current_language()
    user = current_user()
    barred = barred_refusal(services().store, user.username)
    if barred is not None:
        return api_error(barred.status, barred.code, barred.message_key)
    try:
        data = read_json_body(request)
    except BadBody as error:
        status = 415 if error.code == "unsupported-media-type" else 400
        return api_error(status, error.code, f"reporting-error-{error.code}")
    submission, errors = validate_submission(data, services().normalize_wiki, strict_fields=True)
    if errors:
        return jsonify(errors=[
            {"field": e.field, "code": e.code, "message": msg_text(e.message_key, *e.params, lang=lang)}
            for e in errors
        ]), 422
    refusal = refusal_for(user, emergency=submission.severity == "emergency")
    if refusal is not None:
        body, status = api_error(refusal.status, refusal.code, refusal.message_key, None, *refusal.params)
        return body, status, {"Retry-After": str(refusal.retry_after)} if refusal.retry_after else {}
    ref = services().submit(submission, reporter_from_session(), lang)
    report = services().store.report_of(ref, current_user().username)
    body = summary_json(report.summary)
    if report.severity == "emergency":
        body["emergency"] = emergency_json(report.summary, lang)
    return jsonify(body), 201, {"Location": url_for("api.get_report", ref=ref)}


def emergency_json(summary: ReportSummary, lang: str) -> dict[str, Any]:
    """What a client must show at once after an emergency report: whether it
    reached the emergency desk, and the contacts to use right now either way."""
    delivered = summary.status == "forwarded"
    return {
        "delivered": delivered,
        "queued": not delivered,
        "message": msg_text("reporting-emergency-delivered" if delivered else "reporting-emergency-queued", lang=lang),
        "contacts": msg_text("reporting-emergency-notice", lang=lang),
    }


@bp.get("/reports")
@api_login_required
def list_reports():
    return jsonify(reports=[summary_json(s) for s in services().store.list_reports_of(current_user().username)])


@bp.get("/reports/<ref>")
@api_login_required
def get_report(ref: str):
    report = services().store.report_of(ref, current_user().username) if looks_like_reference(ref) else None
    if report is None:
        return api_error(404, "not-found", "reporting-error-not-found")
    return jsonify({
        **summary_json(report.summary),
        "share_with_functionaries": report.share_with_functionaries,
        "reported_users": list(report.reported_users),
        "evidence": list(report.evidence),
        "description": report.description,
    })
