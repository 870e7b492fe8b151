"""JSON API under ``/api/v1``: the gadget and scripts use it.

Authentication is the tool's session cookie; every POST also needs the
session's CSRF token in ``X-CSRF-Token`` (checked globally in
:mod:`reporting.views.security`), which ``GET /api/v1/me`` hands out.

``POST /reports`` accepts an ``Idempotency-Key`` header: sent again with
the same body, the key answers with the report it stored the first time
(201 again, the same ``ref`` and ``Location``, and ``Idempotent-Replayed:
true``); with another body it is refused (422 ``idempotency-key-reused``).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, jsonify, request, url_for

from reporting.cases.lifecycle import Cases, CaseView
from reporting.i18n import current_language, msg_text
from reporting.identity.session import current_user, logged_in_user
from reporting.intake.eligibility import Refusal, Refused
from reporting.intake.references import looks_like_reference
from reporting.intake.submit import AlreadySubmitted, Intake, SubmissionKey
from reporting.storage.records import Report, ReportSummary
from reporting.storage.reports import ReportStore
from reporting.storage.submission_keys import EarlierSubmission
from reporting.views.case_api import add_case_routes, case_json
from reporting.views.errors import api_error
from reporting.views.forms import BadBody, read_json_body
from reporting.views.openapi import openapi_document
from reporting.views.security import csrf_token

# Visible ASCII, like the keys Zendesk and Stripe accept; long enough for a UUID or a hash.
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")


def api_login_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return api_error(401, "login-required", "reporting-error-login-required")
        return view(*args, **kwargs)
    return wrapper


def bad_body_error(error: BadBody) -> Any:
    return api_error(error.status, error.code, error.message_key)


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


def create_blueprint(intake: Intake, reports: ReportStore, cases: Cases) -> Blueprint:
    bp = Blueprint("api", __name__, url_prefix="/api/v1")

    @bp.get("/openapi.json")
    def openapi() -> Any:
        return jsonify(openapi_document())

    @bp.get("/me")
    @api_login_required
    def me() -> Any:
        user = logged_in_user()
        return jsonify(username=user.username, roles=list(user.roles), csrf_token=csrf_token())

    @bp.post("/reports")
    @api_login_required
    def create_report() -> Any:
        lang = current_language()
        user = logged_in_user()
        barred = intake.barred(user.username)
        if barred is not None:
            return api_error(barred.status, barred.code, barred.message_key)
        try:
            data = read_json_body(request)
        except BadBody as error:
            return bad_body_error(error)
        key_header = request.headers.get("Idempotency-Key")
        key = None
        if key_header is not None:
            if not IDEMPOTENCY_KEY.fullmatch(key_header.strip()):
                return api_error(400, "idempotency-key-invalid", "reporting-error-idempotency-key-invalid")
            key = SubmissionKey.for_api(key_header.strip(), data)
        earlier = intake.earlier(user.username, key) if key else None
        if earlier is None:
            checked = intake.check(data, user, strict_fields=True)
            if checked.submission is None:
                return jsonify(errors=[
                    {"field": e.field, "code": e.code, "message": msg_text(e.message_key, *e.params, lang=lang)}
                    for e in checked.errors
                ]), 422
            if checked.refusal is not None:
                return refused(checked.refusal, key)
            try:
                return created(intake.submit(checked.submission, user.as_reporter(), lang, key=key), lang)
            except AlreadySubmitted as race:
                earlier = race.earlier
            except Refused as late:  # the limit was used up by a parallel submission
                return refused(late.refusal, key)
        return replayed(earlier, lang)

    def refused(refusal: Refusal, key: SubmissionKey | None) -> Any:
        """A refusal, unless a parallel request stored this very submission meanwhile (then a repeat)."""
        earlier = intake.earlier(logged_in_user().username, key) if key and refusal.status == 429 else None
        if earlier is not None:
            return replayed(earlier, current_language())
        body, status = api_error(refusal.status, refusal.code, refusal.message_key, None, *refusal.params)
        return body, status, {"Retry-After": str(refusal.retry_after)} if refusal.retry_after else {}

    def created(ref: str, lang: str, headers: dict[str, str] | None = None) -> Any:
        report = reports.of_reporter(ref, logged_in_user().username)
        assert report is not None  # stored by this reporter
        body = summary_json(report.summary)
        if report.severity == "emergency":
            body["emergency"] = emergency_json(report.summary, lang)
        return jsonify(body), 201, {"Location": url_for("api.get_report", ref=ref), **(headers or {})}

    def replayed(earlier: EarlierSubmission, lang: str) -> Any:
        """The answer to a repeated key: the first report, or 422 if the body changed."""
        if not earlier.same_body:
            return api_error(422, "idempotency-key-reused", "reporting-error-idempotency-key-reused")
        intake.resume(earlier)
        return created(earlier.ref, lang, {"Idempotent-Replayed": "true"})

    @bp.get("/reports")
    @api_login_required
    def list_reports() -> Any:
        return jsonify(reports=[summary_json(s) for s in reports.list_of(logged_in_user().username)])

    @bp.get("/reports/<ref>")
    @api_login_required
    def get_report(ref: str) -> Any:
        report = reports.of_reporter(ref, logged_in_user().username) if looks_like_reference(ref) else None
        if report is None:
            return api_error(404, "not-found", "reporting-error-not-found")
        return jsonify(report_json(report, cases.view(report)))

    add_case_routes(bp, reports, cases, report_json, api_login_required)
    return bp


def report_json(report: Report, view: CaseView) -> dict[str, Any]:
    """One of the reporter's reports, as ``GET /api/v1/reports/<ref>`` shows it."""
    return {
        **summary_json(report.summary),
        "share_with_functionaries": report.share_with_functionaries,
        "reported_users": list(report.reported_users),
        "evidence": list(report.evidence),
        "description": report.description,
        **case_json(view),
    }
