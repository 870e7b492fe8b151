"""Server-rendered pages: start, the report form, receipt, my reports.

The report form never loses what was typed: refused, rate limited or met
by an unreachable database (503), it is shown again with every field, and
with its one-time submission id, so sending it again cannot file the
report twice (:class:`reporting.intake.submit.SubmissionKey`).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import cast

from flask import Blueprint, abort, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response

from reporting.cases.lifecycle import Cases
from reporting.cases.misuse import Standing
from reporting.evidence.checks import LinkCheck, check_links
from reporting.evidence.service import Evidence
from reporting.evidence.types import ResolvedLink
from reporting.i18n import current_language
from reporting.identity.session import (
    SessionUser,
    current_user,
    database_seemed_unavailable,
    logged_in_user,
    login_required,
)
from reporting.intake.eligibility import Refusal, Refused
from reporting.intake.references import looks_like_reference
from reporting.intake.submission import (
    EMERGENCY_CATEGORIES,
    MAX_DESCRIPTION_CHARS,
    MAX_EVIDENCE_LINKS,
    MAX_REPORTED_USERS,
    NON_EMERGENCY_CATEGORIES,
    SubmissionForm,
)
from reporting.intake.submit import AlreadySubmitted, Intake, SubmissionKey
from reporting.storage import Stores
from reporting.storage.database import is_unavailable
from reporting.storage.submission_keys import EarlierSubmission
from reporting.views.case_pages import render_case
from reporting.views.errors import UNAVAILABLE_HEADERS
from reporting.views.evidence import refusal_message
from reporting.views.forms import (
    BadBody,
    check_form_encoding,
    form_data,
    form_from_request,
    new_submission_id,
    prefill_from_query,
)
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
                 retry_after: int | None = None, unavailable: bool = False,
                 standing: Standing | None = None) -> tuple[str, int, dict[str, str]]:
    """``standing``: the reporter's misuse standing, for the warning or suspension notice."""
    retry_after = retry_after or (refusal.retry_after if refusal else None)
    headers = {"Retry-After": str(retry_after)} if retry_after else {}
    if unavailable:
        headers = UNAVAILABLE_HEADERS
    form.submission_id = form.submission_id or new_submission_id()
    return render_template(
        "report_form.html",
        form=form,
        refusal=refusal,
        preview=preview,
        unavailable=unavailable,
        preview_problem=preview_problem,
        standing=standing,
        emergency_categories=EMERGENCY_CATEGORIES,
        other_categories=NON_EMERGENCY_CATEGORIES,
        limits={"users": MAX_REPORTED_USERS, "links": MAX_EVIDENCE_LINKS, "description": MAX_DESCRIPTION_CHARS},
    ), status, headers


def _barred_page() -> tuple[str, int]:
    return render_template("barred.html"), 403


def _check_links_page(evidence: Evidence, throttle: CheckThrottle, form: SubmissionForm, username: str,
                      standing: Standing) -> Page:
    """The form again with what the links show, or why they were not checked."""
    wait = throttle.hit(username)
    if wait is not None:
        return _render_form(form, 429, preview_problem=PreviewProblem(
            "reporting-error-checks-rate-limited", (max(1, -(-wait // 60)),)), retry_after=wait, standing=standing)
    check = check_evidence(evidence, form.evidence, form.wiki)
    if check.refusal is not None:
        key, params = refusal_message(check)
        return _render_form(form, 422, preview_problem=PreviewProblem(key, params), standing=standing)
    return _render_form(form, preview=cast("list[ResolvedLink]", check.links), standing=standing)


def create_blueprint(intake: Intake, stores: Stores, evidence: Evidence, cases: Cases,
                     throttle: CheckThrottle) -> Blueprint:
    """``throttle``: the process's per-user limit on link checks, shared with the evidence API."""
    bp = Blueprint("pages", __name__)

    @bp.app_template_filter("case_ref")
    def case_ref(ref: str) -> Markup:
        """A case reference that may break after ``IR-`` on a narrow screen (and at its other hyphens),
        copied and read as one word."""
        prefix, _, rest = ref.partition("-")
        if not rest:
            return Markup("{}").format(ref)
        return Markup('{}-<wbr><span class="ref__code">{}</span>').format(prefix, rest)

    @bp.route("/")
    def index() -> Page:
        return render_template("index.html", user=current_user())

    @bp.route("/report", methods=["GET"])
    @login_required
    def report_form() -> Page:
        # No query here: the bar list is checked when the report is sent (Intake.check), where it
        # matters; on GET it was a fifth of the time of the tool's most used page.
        form = prefill_from_query(request.args.to_dict(), evidence.site_of)
        if database_seemed_unavailable():
            # The reporter may write the report now; sending checks again.
            return _render_form(form, 503, unavailable=True)
        try:
            # One query, for the misuse notice (warned or suspended): the reporter should read it
            # before writing, not after sending.
            standing = intake.standing(logged_in_user().username)
        except Exception as error:
            if not is_unavailable(error):
                raise
            log.warning("the database is unavailable; the report form says so", exc_info=True)
            return _render_form(form, 503, unavailable=True)
        return _render_form(form, standing=standing)

    @bp.route("/report", methods=["POST"])
    @login_required
    def submit_report() -> Page:
        try:
            check_form_encoding(request)
        except BadBody as error:
            return render_template("error.html", message_key=error.message_key), error.status
        form = form_from_request(request)
        try:
            return _submit(form, logged_in_user())
        except Exception as error:
            if not is_unavailable(error):
                raise
            log.warning("the database is unavailable; the report form is shown again", exc_info=True)
            return _render_form(form, 503, unavailable=True)

    def _submit(form: SubmissionForm, user: SessionUser) -> Page:
        if intake.barred(user.username):
            return _barred_page()
        standing = intake.standing(user.username)
        if request.form.get("action") == "check":
            # "Check the links" without JavaScript: resolve and show, store nothing.
            return _check_links_page(evidence, throttle, form, user.username, standing)
        key = SubmissionKey.for_form(form.submission_id, form_data(form)) if form.submission_id else None
        earlier = intake.earlier(user.username, key) if key else None
        if earlier is None:
            checked = intake.check(form_data(form), user, strict_fields=False)
            if checked.submission is None:
                form.errors = checked.errors
                return _render_form(form, 422, standing=standing)
            refusal = checked.refusal
            if refusal is None:
                try:
                    ref = intake.submit(checked.submission, user.as_reporter(), current_language(), key=key)
                    return redirect(url_for("pages.my_report", ref=ref, submitted=1), code=303)
                except AlreadySubmitted as race:
                    return _receipt_again(race.earlier)
                except Refused as late:  # the limit was used up by a parallel submission
                    refusal = late.refusal
            # A parallel request may have stored this very form meanwhile: then it is its receipt.
            earlier = intake.earlier(user.username, key) if key else None
            if earlier is None:
                # Rate limited or suspended: show the form again with everything typed and why.
                return _render_form(form, refusal.status, refusal, standing=standing)
        return _receipt_again(earlier)

    def _receipt_again(earlier: EarlierSubmission) -> Page:
        """The same form sent again (a double click, a retry after an error): the first receipt."""
        intake.resume(earlier)
        return redirect(url_for("pages.my_report", ref=earlier.ref, submitted=1), code=303)

    @bp.route("/reports")
    @login_required
    def my_reports() -> Page:
        username = logged_in_user().username
        reports = stores.reports.list_of(username)
        standing = intake.standing(username)
        # The list itself needs no decryption; the evidence count does. A reporter has few
        # reports (rate limits), so opening each one here is cheap.
        opened = {summary.ref: stores.reports.of_reporter(summary.ref, username) for summary in reports}
        evidence_counts = {ref: len(report.evidence) if report else 0 for ref, report in opened.items()}
        return render_template("my_reports.html", reports=reports, evidence_counts=evidence_counts,
                               standing=standing)

    @bp.route("/reports/<ref>")
    @login_required
    def my_report(ref: str) -> Page:
        report = stores.reports.of_reporter(ref, logged_in_user().username) if looks_like_reference(ref) else None
        if report is None:
            abort(404)
        notice = "added" if request.args.get("added") == "1" else "withdrawn" if request.args.get("withdrawn") == "1" \
            else None
        return render_case(cases.view(report), submitted=request.args.get("submitted") == "1", notice=notice)

    return bp
