"""Server-rendered pages: start, the report form, receipt, my reports.

The report form never loses what was typed: refused, rate limited or met
by an unreachable database (503), it is shown again with every field, and
with its one-time submission id, so sending it again cannot file the
report twice (:class:`reporting.intake.submit.SubmissionKey`). Its language
switch is a button of the form itself (a POST carrying every field, never a
link that would reload it empty). Sent after the session ended, it is kept
sealed while the reporter logs in again (:mod:`reporting.storage.form_drafts`)
and then shown again, filled, to be reviewed and sent: never sent unseen,
since the person logging in may not be the one who typed it.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import cast

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from markupsafe import Markup
from werkzeug.exceptions import Forbidden
from werkzeug.wrappers import Response

from reporting.cases.access import has_workspace
from reporting.cases.lifecycle import Cases
from reporting.cases.misuse import CLEAR, Standing
from reporting.evidence.checks import LinkCheck, check_links
from reporting.evidence.service import Evidence
from reporting.evidence.types import ResolvedLink
from reporting.i18n import current_language, switch_language
from reporting.identity.session import (
    DRAFT_KEY,
    SessionUser,
    current_user,
    database_seemed_unavailable,
    ended_session_user,
    logged_in_user,
    login_required,
    open_session,
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
from reporting.request_context import this_request
from reporting.storage import Stores
from reporting.storage.database import is_unavailable
from reporting.storage.submission_keys import EarlierSubmission
from reporting.views.case_pages import render_case
from reporting.views.errors import UNAVAILABLE_HEADERS, http_error_response
from reporting.views.evidence import refusal_message
from reporting.views.forms import (
    BadBody,
    check_form_encoding,
    form_data,
    form_from_request,
    new_submission_id,
    prefill_from_query,
)
from reporting.views.fragments import FragmentCache
from reporting.views.security import csrf_token
from reporting.views.skeletons import PageSkeletons
from reporting.views.throttle import CheckThrottle

log = logging.getLogger(__name__)

Page = str | bytes | tuple[str, int] | tuple[str, int, dict[str, str]] | Response


def check_evidence(evidence: Evidence, text: str, wiki: str) -> LinkCheck:
    """What "Check the links" shows: the links parsed and resolved, nothing stored; counted and
    capped before any request, and bounded in time (:mod:`reporting.evidence.checks`)."""
    return check_links(evidence, text, evidence.normalize_wiki(wiki) if wiki.strip() else None, resolve=True)


@dataclass(frozen=True)
class PreviewProblem:
    """Why "Check the links" showed no facts: a message key and its parameters."""

    message_key: str
    params: tuple[int, ...] = ()


# The form's fields as a draft keeps them (the submission id too: sent again, it is one report).
_DRAFT_FIELDS = ("submission_id", "wiki", "category", "reported_users", "evidence", "description",
                 "share_with_functionaries")

# Where a field's error in the summary at the top of the form leads (its first control).
FIELD_ANCHORS = {"category": f"category-{EMERGENCY_CATEGORIES[0]}", "wiki": "wiki", "evidence": "evidence",
                 "reported_users": "reported_users", "description": "description",
                 "share_with_functionaries": "share_with_functionaries"}


def _render_form(form: SubmissionForm, status: int = 200, refusal: Refusal | None = None,
                 preview: list[ResolvedLink] | None = None, preview_problem: PreviewProblem | None = None,
                 retry_after: int | None = None, unavailable: bool = False,
                 standing: Standing | None = None,
                 notice: str | None = None) -> tuple[str, int, dict[str, str]]:
    """``standing``: the reporter's misuse standing, for the warning or suspension notice;
    ``notice``: ``draft-restored`` when the form is one kept across a login."""
    retry_after = retry_after or (refusal.retry_after if refusal else None)
    headers = {"Retry-After": str(retry_after)} if retry_after else {}
    if unavailable:
        headers = UNAVAILABLE_HEADERS
    form.submission_id = form.submission_id or new_submission_id()
    return render_template(
        "report_form.html", **_FORM_CONTEXT, form=form, refusal=refusal, preview=preview, unavailable=unavailable,
        preview_problem=preview_problem, standing=standing, notice=notice,
    ), status, headers


_FORM_CONTEXT = {
    "field_anchors": FIELD_ANCHORS,
    "language_form": "report-form",
    "emergency_categories": EMERGENCY_CATEGORIES,
    "other_categories": NON_EMERGENCY_CATEGORIES,
    "limits": {"users": MAX_REPORTED_USERS, "links": MAX_EVIDENCE_LINKS, "description": MAX_DESCRIPTION_CHARS},
}
# What a plain showing of the form (no error, notice or check) fills into its skeleton.
_TEXT_FIELDS = ("wiki", "reported_users", "evidence", "description", "submission_id")


def _plain_form(skeletons: PageSkeletons, registry: object, form: SubmissionForm, user: SessionUser) -> bytes:
    """The form as most people open it, unfilled or prefilled by the gadget, from its skeleton
    (:mod:`reporting.views.skeletons`): the same page as :func:`_render_form`'s, made in a
    fraction of the time. Everything the template decides on is in the key."""
    form.submission_id = form.submission_id or new_submission_id()
    category = form.category if form.category in EMERGENCY_CATEGORIES + NON_EMERGENCY_CATEGORIES else ""
    share = form.share_with_functionaries

    def render(values: Mapping[str, str]) -> str:
        shown = SubmissionForm(wiki=values["wiki"], category=category, reported_users=values["reported_users"],
                               evidence=values["evidence"], description=values["description"],
                               share_with_functionaries=share, submission_id=values["submission_id"])
        viewer = replace(user, username=values["username"])
        return render_template("report_form.html", **_FORM_CONTEXT, form=shown, refusal=None, preview=None,
                               unavailable=False, preview_problem=None, standing=None, notice=None,
                               csrf_token=lambda: values["csrf_token"], current_session_user=lambda: viewer)

    values = {name: getattr(form, name) for name in _TEXT_FIELDS}
    values.update(csrf_token=csrf_token(), username=user.username)
    key = ("report-form", current_language(), has_workspace(user.roles), category, share)
    return skeletons.page(key, registry, render, values)


# Sent by static/report-form.js with its link checks (a request no person made by pressing a button).
BACKGROUND_CHECK_HEADER = "X-Background-Check"


def _same_origin() -> bool:
    """Whether the browser says this request comes from one of the tool's own pages.

    ``Sec-Fetch-Site`` first: our pages send no referrer, so a form's ``Origin`` is "null".
    """
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin"
    origin = request.headers.get("Origin")
    return origin is not None and origin.rstrip("/") == request.host_url.rstrip("/")


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
    bp.add_app_template_global(FragmentCache(), "fragment")
    skeletons = PageSkeletons()

    @bp.app_template_filter("case_ref")
    def case_ref(ref: str) -> Markup:
        """A case reference that may break after ``IR-`` on a narrow screen (and at its other hyphens),
        copied and read as one word."""
        prefix, _, rest = ref.partition("-")
        if not rest:
            return Markup("{}").format(ref)
        return Markup('{}-<wbr><span class="ref__code">{}</span>').format(prefix, rest)

    @bp.context_processor
    def _wiki_suggestions() -> dict[str, object]:
        return {"wiki_suggestions": lambda: evidence.wiki_suggestions(current_language())}

    @bp.route("/")
    def index() -> Page:
        return render_template("index.html", user=current_user())

    @bp.route("/report", methods=["GET"])
    @login_required
    def report_form() -> Page:
        # No query here: the bar list is checked when the report is sent (Intake.check), where it
        # matters; on GET it was a fifth of the time of the tool's most used page.
        form = prefill_from_query(this_request().request.args.to_dict(), evidence.site_of)
        if database_seemed_unavailable():
            # The reporter may write the report now; sending checks again.
            return _render_form(form, 503, unavailable=True)
        user = logged_in_user()
        try:
            restored = _restore_draft(form, user.username)
            # The misuse notice (warned or suspended): the reporter should read it before
            # writing, not after sending.
            standing = _standing_for_page(user.username)
        except Exception as error:
            if not is_unavailable(error):
                raise
            log.warning("the database is unavailable; the report form says so", exc_info=True)
            return _render_form(form, 503, unavailable=True)
        if restored or standing.warned or standing.suspended:
            return _render_form(form, standing=standing, notice="draft-restored" if restored else None)
        return _plain_form(skeletons, evidence.registry, form, user)

    def _standing_for_page(username: str) -> Standing:
        """The reporter's misuse standing for a page's notice. Not asked again once this session
        found it clear, until a decline of one of their reports raises the session's epoch
        (:class:`reporting.storage.login_sessions.OpenSession`): most people are never declined,
        and this was a tenth of the form's time. Sending a report always asks."""
        opened = open_session()
        if opened is not None and opened[1].standing_known_clear:
            return CLEAR
        standing = intake.standing(username)
        if opened is not None and not (standing.warned or standing.suspended):
            try:
                stores.login_sessions.note_clear(opened[0], opened[1].misuse_epoch)
            except Exception as error:  # only a shortcut for later pages: this page has its answer
                if not is_unavailable(error):
                    raise
                log.warning("could not note a clear misuse standing; later pages ask again", exc_info=True)
        return standing

    def _restore_draft(form: SubmissionForm, username: str) -> bool:
        """Fill ``form`` with the draft this session kept before its login (once); whether it did."""
        current = this_request().session
        token = current.get(DRAFT_KEY)
        fields = stores.form_drafts.take(token, username) if isinstance(token, str) else None
        current.pop(DRAFT_KEY, None)  # only now: with the database down, the draft waits for the next try
        if fields is None:
            return False
        for name in _DRAFT_FIELDS:
            value = fields.get(name)
            if isinstance(value, type(getattr(form, name))):
                setattr(form, name, value)
        return True

    @bp.route("/report", methods=["POST"])
    def submit_report() -> Page:
        try:
            check_form_encoding(request)
        except BadBody as error:
            return render_template("error.html", message_key=error.message_key), error.status
        form = form_from_request(request)
        try:
            user = current_user()
            if user is None:
                if request.headers.get(BACKGROUND_CHECK_HEADER):
                    abort(403)  # the page's script checking links: it says "log in again"
                return _keep_for_login(form)
            return _submit(form, user)
        except Exception as error:
            if not is_unavailable(error):
                raise
            log.warning("the database is unavailable; the report form is shown again", exc_info=True)
            return _render_form(form, 503, unavailable=True)

    @bp.errorhandler(Forbidden)
    def _forbidden(error: Forbidden) -> Page:
        """A report sent after the session cookie was gone fails the CSRF check (the cookie held
        the token): keep it for the login instead of an error page that drops it. Only a POST the
        browser says came from our own page (:func:`_same_origin`) is kept, never one another
        site made; a background link check is never kept."""
        if (request.endpoint == "pages.submit_report" and error.description == "csrf"
                and current_user() is None and _same_origin() and not request.headers.get(BACKGROUND_CHECK_HEADER)):
            try:
                check_form_encoding(request)
            except BadBody:
                return cast("Page", http_error_response(error))
            form = form_from_request(request)
            try:
                return _keep_for_login(form)
            except Exception as failure:
                if not is_unavailable(failure):
                    raise
                # Nothing can be kept: show the form again, filled (with a new session's token).
                log.warning("the database is unavailable; the report form is shown again", exc_info=True)
                return _render_form(form, 503, unavailable=True)
        return cast("Page", http_error_response(error))

    def _keep_for_login(form: SubmissionForm) -> Response:
        """The session ended before the form was sent: keep it sealed, log in, show it again."""
        username = ended_session_user()
        old_token = session.get(DRAFT_KEY)
        if isinstance(old_token, str):
            stores.form_drafts.take(old_token, username or "")  # one kept form per session
        fields = {name: getattr(form, name) for name in _DRAFT_FIELDS}
        session[DRAFT_KEY] = stores.form_drafts.keep(fields, username)
        return redirect(url_for("auth.login", returnto=url_for("pages.report_form")), code=303)

    def _submit(form: SubmissionForm, user: SessionUser) -> Page:
        if intake.barred(user.username):
            return _barred_page()
        standing = intake.standing(user.username)
        if request.form.get("action") == "language":
            # The form's own language switch: the same form, every field kept, in the new language.
            switch_language(request.form.get("uselang"))
            return _render_form(form, standing=standing)
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
        standing = _standing_for_page(username)
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
