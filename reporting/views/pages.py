"""Server-rendered pages: start, the report form, receipt, my reports, health."""
from __future__ import annotations

from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for

from ..auth import current_user, login_required
from ..i18n import current_language
from ..reports import (CATEGORIES, EMERGENCY_CATEGORIES, MAX_DESCRIPTION_CHARS, MAX_EVIDENCE_LINKS,
                       MAX_REPORTED_USERS, NON_EMERGENCY_CATEGORIES, looks_like_reference, validate_submission)
from ..services import services
from ..store import Reporter
from .forms import BadBody, check_form_encoding, form_data, form_from_request, prefill_from_query

bp = Blueprint("pages", __name__)


def reporter_from_session() -> Reporter:
    user = current_user()
    assert user is not None  # guarded by login_required
    return Reporter(username=user.username, central_id=user.central_id, blocked=user.blocked,
                    editcount=user.editcount, registered=user.registered, confirmed_email=user.confirmed_email)


def _render_form(form, status: int = 200):
    return render_template(
        "report_form.html",
        form=form,
        emergency_categories=EMERGENCY_CATEGORIES,
        other_categories=NON_EMERGENCY_CATEGORIES,
        limits={"users": MAX_REPORTED_USERS, "links": MAX_EVIDENCE_LINKS, "description": MAX_DESCRIPTION_CHARS},
    ), status


@bp.route("/")
def index():
    return render_template("index.html", user=current_user())


@bp.route("/report", methods=["GET"])
@login_required
def report_form():
    return _render_form(prefill_from_query(request.args.to_dict()))


@bp.route("/report", methods=["POST"])
@login_required
def submit_report():
    try:
        check_form_encoding(request)
    except BadBody as error:
        return render_template("error.html", message_key=f"reporting-error-{error.code}"), \
            415 if error.code == "unsupported-media-type" else 400
    form = form_from_request(request)
    submission, errors = validate_submission(form_data(form), services().normalize_wiki)
    if errors:
        form.errors = errors
        return _render_form(form, 422)
    ref = services().submit(submission, reporter_from_session(), current_language())
    return redirect(url_for("pages.my_report", ref=ref, submitted=1), code=303)


@bp.route("/reports")
@login_required
def my_reports():
    store, username = services().store, current_user().username
    reports = store.list_reports_of(username)
    # The list itself needs no decryption; the evidence count does. A reporter has few reports
    # (rate limits), so opening each one here is cheap.
    opened = {summary.ref: store.report_of(summary.ref, username) for summary in reports}
    evidence_counts = {ref: len(report.evidence) if report else 0 for ref, report in opened.items()}
    return render_template("my_reports.html", reports=reports, evidence_counts=evidence_counts)


@bp.route("/reports/<ref>")
@login_required
def my_report(ref: str):
    report = services().store.report_of(ref, current_user().username) if looks_like_reference(ref) else None
    if report is None:
        abort(404)
    return render_template("report.html", report=report, submitted=request.args.get("submitted") == "1")


@bp.route("/healthz")
def healthz():
    """For Toolforge's health check and operators: database up, delivery backlog."""
    store = services().store
    try:
        store.ping()
        backlog = store.backlog()
    except Exception:
        return jsonify(status="error", database=False), 503
    status = "ok" if backlog["failed"] == 0 else "degraded"
    return jsonify(status=status, database=True, outbox=backlog)
