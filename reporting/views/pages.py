"""Server-rendered pages: start, the report form, receipt, my reports, health."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, cast

from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from reporting.evidence.checks import LinkCheck, check_links
from reporting.evidence.service import Evidence
from reporting.evidence.types import ResolvedLink
from reporting.i18n import current_language
from reporting.identity.session import current_user, logged_in_user, login_required
from reporting.intake.eligibility import Refusal
from reporting.intake.references import looks_like_reference
from reporting.intake.submission import (
    EMERGENCY_CATEGORIES,
    MAX_DESCRIPTION_CHARS,
    MAX_EVIDENCE_LINKS,
    MAX_REPORTED_USERS,
    NON_EMERGENCY_CATEGORIES,
    SubmissionForm,
)
from reporting.intake.submit import Intake
from reporting.storage import Stores
from reporting.views.evidence import refusal_message
from reporting.views.forms import BadBody, check_form_encoding, form_data, form_from_request, prefill_from_query
from reporting.views.throttle import CheckThrottle

log = logging.getLogger(__name__)

Page = str | tuple[str, int] | tuple[str, int, dict[str, str]] | Response


def check_evidence(evidence: Evidence, text: str, wiki: str) -> LinkCheck:
    """What "Check the links" shows: the links parsed and resolved, nothing stored; counted and
    capped before any request, and bounded in time (:mod:`reporting.evidence.checks`)."""
    return check_links(evidence, text, evidence.normalize_wiki(wiki) if wiki.strip() else None, resolve=True)


@dataclass(frozen=True)
class PreviewProblem:
    """Why "Check the links" showed no facts: a message key and its parameters."""

    message_key: str
    params: tuple[int, ...] = ()


def _render_form(form: SubmissionForm, status: int = 200, refusal: Refusal | None = None,
                 preview: list[ResolvedLink] | None = None, preview_problem: PreviewProblem | None = None,
                 retry_after: int | None = None) -> tuple[str, int, dict[str, str]]:
    retry_after = retry_after or (refusal.retry_after if refusal else None)
    headers = {"Retry-After": str(retry_after)} if retry_after else {}
    return render_template(
        "report_form.html",
        form=form,
        refusal=refusal,
        preview=preview,
        preview_problem=preview_problem,
        emergency_categories=EMERGENCY_CATEGORIES,
        other_categories=NON_EMERGENCY_CATEGORIES,
        limits={"users": MAX_REPORTED_USERS, "links": MAX_EVIDENCE_LINKS, "description": MAX_DESCRIPTION_CHARS},
    ), status, headers


def _barred_page() -> tuple[str, int]:
    return render_template("barred.html"), 403


def _check_links_page(evidence: Evidence, throttle: CheckThrottle, form: SubmissionForm, username: str) -> Page:
    """The form again with what the links show, or why they were not checked."""
    wait = throttle.hit(username)
    if wait is not None:
        return _render_form(form, 429, preview_problem=PreviewProblem(
            "reporting-error-checks-rate-limited", (max(1, -(-wait // 60)),)), retry_after=wait)
    check = check_evidence(evidence, form.evidence, form.wiki)
    if check.refusal is not None:
        key, params = refusal_message(check)
        return _render_form(form, 422, preview_problem=PreviewProblem(key, params))
    return _render_form(form, preview=cast("list[ResolvedLink]", check.links))


def create_blueprint(intake: Intake, stores: Stores, evidence: Evidence, throttle: CheckThrottle) -> Blueprint:
    """``throttle``: the process's per-user limit on link checks, shared with the evidence API."""
    bp = Blueprint("pages", __name__)

    @bp.route("/")
    def index() -> Page:
        return render_template("index.html", user=current_user())

    @bp.route("/report", methods=["GET"])
    @login_required
    def report_form() -> Page:
        if intake.barred(logged_in_user().username):
            return _barred_page()
        return _render_form(prefill_from_query(request.args.to_dict()))

    @bp.route("/report", methods=["POST"])
    @login_required
    def submit_report() -> Page:
        try:
            check_form_encoding(request)
        except BadBody as error:
            return render_template("error.html", message_key=error.message_key), error.status
        user = logged_in_user()
        if intake.barred(user.username):
            return _barred_page()
        form = form_from_request(request)
        if request.form.get("action") == "check":
            # "Check the links" without JavaScript: resolve and show, store nothing.
            return _check_links_page(evidence, throttle, form, user.username)
        checked = intake.check(form_data(form), user, strict_fields=False)
        if checked.submission is None:
            form.errors = checked.errors
            return _render_form(form, 422)
        if checked.refusal is not None:
            # Rate limited: show the form again with everything typed and why.
            return _render_form(form, checked.refusal.status, checked.refusal)
        ref = intake.submit(checked.submission, user.as_reporter(), current_language())
        return redirect(url_for("pages.my_report", ref=ref, submitted=1), code=303)

    @bp.route("/reports")
    @login_required
    def my_reports() -> Page:
        username = logged_in_user().username
        reports = stores.reports.list_of(username)
        # The list itself needs no decryption; the evidence count does. A reporter has few
        # reports (rate limits), so opening each one here is cheap.
        opened = {summary.ref: stores.reports.of_reporter(summary.ref, username) for summary in reports}
        evidence_counts = {ref: len(report.evidence) if report else 0 for ref, report in opened.items()}
        return render_template("my_reports.html", reports=reports, evidence_counts=evidence_counts)

    @bp.route("/reports/<ref>")
    @login_required
    def my_report(ref: str) -> Page:
        report = stores.reports.of_reporter(ref, logged_in_user().username) if looks_like_reference(ref) else None
        if report is None:
            abort(404)
        return render_template("report.html", report=report, submitted=request.args.get("submitted") == "1")

    @bp.route("/healthz")
    def healthz() -> Any:
        """For Toolforge's health check and operators: database up, delivery backlog."""
        try:
            stores.ping()
            backlog = stores.outbox.backlog()
        except Exception:
            log.warning("health check: the database is unreachable", exc_info=True)
            return jsonify(status="error", database=False), 503
        status = "ok" if backlog["failed"] == 0 else "degraded"
        return jsonify(status=status, database=True, outbox=backlog)

    return bp
