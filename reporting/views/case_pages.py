"""The reporter's case pages: add information to a case, withdraw it (no JavaScript needed).

``/reports/<ref>`` itself lives in :mod:`reporting.views.pages` and renders
through :func:`render_case`, as these views do when they show the page
again with problems. Every view answers 404 for a reference that is not the
logged-in user's, exactly as for one that does not exist.
"""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from reporting.cases.followups import (
    MAX_FOLLOWUP_CHARS,
    MAX_FOLLOWUP_LINKS,
    MAX_REASON_CHARS,
    FollowupForm,
    WithdrawalForm,
)
from reporting.cases.lifecycle import Cases, CaseView
from reporting.identity.session import logged_in_user, login_required
from reporting.intake.eligibility import Refusal
from reporting.intake.references import looks_like_reference
from reporting.storage.records import Report
from reporting.storage.reports import ReportStore
from reporting.views.forms import BadBody, check_form_encoding

Page = str | tuple[str, int] | tuple[str, int, dict[str, str]] | Response

LIMITS = {"followup_text": MAX_FOLLOWUP_CHARS, "followup_links": MAX_FOLLOWUP_LINKS, "reason": MAX_REASON_CHARS}


def render_case(view: CaseView, status: int = 200, followup_form: FollowupForm | None = None,
                refusal: Refusal | None = None, submitted: bool = False,
                notice: str | None = None) -> tuple[str, int, dict[str, str]]:
    """``/reports/<ref>``: the report, what was added, the timeline, the forms."""
    headers = {"Retry-After": str(refusal.retry_after)} if refusal and refusal.retry_after else {}
    return render_template("report.html", report=view.report, view=view, submitted=submitted,
                           followup_form=followup_form or FollowupForm(), refusal=refusal, notice=notice,
                           case_limits=LIMITS), status, headers


def create_blueprint(reports: ReportStore, cases: Cases) -> Blueprint:
    bp = Blueprint("case_pages", __name__)

    def own_report(ref: str) -> Report:
        report = reports.of_reporter(ref, logged_in_user().username) if looks_like_reference(ref) else None
        if report is None:
            abort(404)
        return report

    def bad_body(error: BadBody) -> Page:
        return render_template("error.html", message_key=error.message_key), error.status

    @bp.route("/reports/<ref>/followups", methods=["POST"])
    @login_required
    def add_followup(ref: str) -> Page:
        report = own_report(ref)
        try:
            check_form_encoding(request)
        except BadBody as error:
            return bad_body(error)
        form = FollowupForm(text=request.form.get("text", ""), evidence=request.form.get("evidence", ""))
        outcome = cases.follow_up(report, {"text": form.text, "evidence": form.evidence}, strict_fields=False)
        if outcome.followup is not None:
            return redirect(url_for("pages.my_report", ref=report.ref, added=1) + "#timeline", code=303)
        form.errors = outcome.errors
        refusal = outcome.refusal
        status = refusal.status if refusal else 422
        return render_case(cases.view(report), status, form, refusal)

    @bp.route("/reports/<ref>/withdraw", methods=["GET"])
    @login_required
    def withdraw_form(ref: str) -> Page:
        report = own_report(ref)
        return _withdraw_page(cases.view(report), WithdrawalForm())

    @bp.route("/reports/<ref>/withdraw", methods=["POST"])
    @login_required
    def withdraw(ref: str) -> Page:
        report = own_report(ref)
        try:
            check_form_encoding(request)
        except BadBody as error:
            return bad_body(error)
        form = WithdrawalForm(reason=request.form.get("reason", ""))
        outcome = cases.withdraw(report, {"reason": form.reason}, strict_fields=False)
        if outcome.followup is not None:
            return redirect(url_for("pages.my_report", ref=report.ref, withdrawn=1), code=303)
        form.errors = outcome.errors
        return _withdraw_page(cases.view(report), form, outcome.refusal.status if outcome.refusal else 422,
                              outcome.refusal)

    return bp


def _withdraw_page(view: CaseView, form: WithdrawalForm, status: int = 200,
                   refusal: Refusal | None = None) -> tuple[str, int]:
    """The confirmation step: what withdrawing means, an optional reason, confirm or keep."""
    return render_template("withdraw.html", report=view.report, view=view, form=form, refusal=refusal,
                           case_limits=LIMITS), status
