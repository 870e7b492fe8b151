"""Server-rendered pages: start, the report form, receipt, my reports, health."""
from __future__ import annotations

from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for

from reporting.identity.login import SessionUser, current_user, login_required
from reporting.intake.eligibility import Refusal, barred_refusal, submission_refusal
from reporting.i18n import current_language
from reporting.intake.submission import (EMERGENCY_CATEGORIES, MAX_DESCRIPTION_CHARS, MAX_EVIDENCE_LINKS,
                       MAX_REPORTED_USERS, NON_EMERGENCY_CATEGORIES, looks_like_reference, validate_submission)
from reporting.components import services
from reporting.storage.store import Reporter
from reporting.views.forms import BadBody, check_form_encoding, form_data, form_from_request, prefill_from_query

bp = Blueprint("pages", __name__)


def reporter_from_session() -> Reporter:
    user = current_user()
    assert user is not None  # guarded by login_required
    return user.as_reporter()


def refusal_for(user: SessionUser, emergency: bool) -> Refusal | None:
    """Whether the session's user may submit now (bar list, rate limits)."""
    return submission_refusal(services().store, services().config, user.username, user.registered,
                              user.editcount, emergency=emergency)


def _render_form(form, status: int = 200, refusal: Refusal | None = None, preview: list[dict] | None = None):
    headers = {"Retry-After": str(refusal.retry_after)} if refusal and refusal.retry_after else {}
    return render_template(
        "report_form.html",
        form=form,
        refusal=refusal,
        preview=preview,
        emergency_categories=EMERGENCY_CATEGORIES,
        other_categories=NON_EMERGENCY_CATEGORIES,
        limits={"users": MAX_REPORTED_USERS, "links": MAX_EVIDENCE_LINKS, "description": MAX_DESCRIPTION_CHARS},
    ), status, headers


def _barred_page():
    return render_template("barred.html"), 403


@bp.route("/")
def index():
    return render_template("index.html", user=current_user())


@bp.route("/report", methods=["GET"])
@login_required
def report_form():
    if barred_refusal(services().store, current_user().username):
        return _barred_page()
    return _render_form(prefill_from_query(request.args.to_dict()))


@bp.route("/report", methods=["POST"])
@login_required
def submit_report():
    try:
        check_form_encoding(request)
    except BadBody as error:
        return render_template("error.html", message_key=f"reporting-error-{error.code}"), \
            415 if error.code == "unsupported-media-type" else 400
    user = current_user()
    if barred_refusal(services().store, user.username):
        return _barred_page()
    form = form_from_request(request)
    if request.form.get("action") == "check":
        # "Check the links" without JavaScript: resolve and show, store nothing.
        return _render_form(form, preview=check_evidence(form.evidence, form.wiki))
    submission, errors = validate_submission(form_data(form), services().normalize_wiki)
    if errors:
        form.errors = errors
        return _render_form(form, 422)
    refusal = refusal_for(user, emergency=submission.severity == "emergency")
    if refusal is not None:
        # Rate limited: show the form again with everything typed and why.
        return _render_form(form, refusal.status, refusal)
    ref = services().submit(submission, reporter_from_session(), current_language())
    return redirect(url_for("pages.my_report", ref=ref, submitted=1), code=303)


def check_evidence(text: str, wiki: str) -> list[dict]:
    evidence = services().evidence
    links = evidence.parse(text, evidence.normalize_wiki(wiki) if wiki.strip() else None)
    return evidence.resolve(links[:MAX_EVIDENCE_LINKS])


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
