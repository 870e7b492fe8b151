"""The functionaries' workspace as pages: the queue and a case (no JavaScript needed).

Every view asks :class:`reporting.cases.workspace.Workspace` with the roles the
session holds now; a user with no role, and a case the user may not see,
get the same 404 as a reference that does not exist. Actions are POST forms
(CSRF checked globally) that answer with a redirect to the case (303), or
the case again with what was wrong.
"""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from reporting.cases.access import has_workspace
from reporting.cases.statuses import ORDER
from reporting.cases.workspace import (
    MAX_DECLINE_REASON_CHARS,
    MAX_MESSAGE_CHARS,
    MAX_NOTE_CHARS,
    SETTABLE,
    CaseFile,
    Outcome,
    Viewer,
    Workspace,
    destination_kind,
    validate_change,
)
from reporting.identity.session import logged_in_user, login_required
from reporting.identity.usernames import canonical_username
from reporting.intake.references import looks_like_reference
from reporting.intake.submission import CATEGORIES
from reporting.storage.queue import AGES, CaseMeta, QueueFilters
from reporting.views.forms import BadBody, check_form_encoding

Page = str | tuple[str, int] | Response

SEVERITIES = ("emergency", "high", "normal")
LIMITS = {"message": MAX_MESSAGE_CHARS, "note": MAX_NOTE_CHARS, "reason": MAX_DECLINE_REASON_CHARS}


def current_viewer() -> Viewer:
    user = logged_in_user()
    return Viewer(username=canonical_username(user.username), roles=tuple(user.roles))


def filters_from(args: dict[str, str], strict: bool = False) -> tuple[QueueFilters, list[str]]:
    """The queue's filters from a query string; unknown values are dropped (pages) or named (``strict``)."""
    allowed: dict[str, tuple[str, ...] | None] = {
        "status": tuple(str(s) for s in ORDER), "category": CATEGORIES, "severity": SEVERITIES,
        "wiki": None, "assignee": ("mine", "nobody"), "age": tuple(AGES)}
    values: dict[str, str | None] = {}
    wrong: list[str] = []
    for name, choices in allowed.items():
        value = (args.get(name) or "").strip() or None
        if value is not None and choices is not None and value not in choices:
            wrong.append(name)
            value = None
        if value is not None and name == "wiki" and (len(value) > 255 or not value.isprintable()):
            wrong.append(name)
            value = None
        values[name] = value
    page = 1
    if args.get("page"):
        try:
            page = int(args["page"])
        except ValueError:
            page = 0
        if not 1 <= page <= 100000:
            wrong.append("page")
            page = 1
    return QueueFilters(**values, page=page), wrong if strict else []


def create_blueprint(workspace: Workspace) -> Blueprint:
    bp = Blueprint("queue_pages", __name__)

    def viewer_with_workspace() -> Viewer:
        viewer = current_viewer()
        if not has_workspace(viewer.roles):
            abort(404)
        return viewer

    def case_meta(viewer: Viewer, ref: str) -> CaseMeta:
        meta = workspace.meta(viewer, ref) if looks_like_reference(ref) else None
        if meta is None:
            abort(404)
        return meta

    def render_case(viewer: Viewer, ref: str, status: int = 200, outcome: Outcome | None = None,
                    form: dict[str, str] | None = None, notice: str | None = None) -> Page:
        case = workspace.open(viewer, ref) if looks_like_reference(ref) else None
        if case is None:
            abort(404)
        return render_template("queue_case.html", case=case, report=case.report, viewer=viewer,
                               outcome=outcome, form=form or {}, notice=notice, limits=LIMITS,
                               audit=workspace.audit_trail(viewer, case.opened.meta),
                               reporter_age_days=_account_age_days(case)), status

    @bp.get("/queue")
    @login_required
    def queue() -> Page:
        viewer = viewer_with_workspace()
        filters, _ = filters_from(request.args.to_dict())
        page = workspace.queue(viewer, filters)
        active = {name: value for name, value in vars(filters).items() if value and name != "page"}
        return render_template("queue.html", page=page, filters=filters, active=active,
                               statuses=ORDER, categories=CATEGORIES, severities=SEVERITIES,
                               ages=tuple(AGES), destination_kind=destination_kind, viewer=viewer)

    @bp.get("/queue/<ref>")
    @login_required
    def case(ref: str) -> Page:
        viewer = viewer_with_workspace()
        notice = request.args.get("done")
        return render_case(viewer, ref, notice=notice if notice in ("assigned", "status", "note") else None)

    def read_form() -> dict[str, str] | None:
        try:
            check_form_encoding(request)
        except BadBody:
            return None
        return {key: value for key, value in request.form.items() if key != "csrf_token"}

    def posted(ref: str) -> tuple[Viewer, CaseMeta, dict[str, str] | None]:
        """Who posts, to which case (404 unless they may act on it) and the form (None: not a form, 400)."""
        viewer = viewer_with_workspace()
        return viewer, case_meta(viewer, ref), read_form()

    def bad_form() -> Page:
        return render_template("error.html", message_key="reporting-error-bad-request"), 400

    @bp.post("/queue/<ref>/assign")
    @login_required
    def assign(ref: str) -> Page:
        viewer, meta, form = posted(ref)
        if form is None:
            return bad_form()
        change, errors = validate_change({"assignee": "me" if form.get("assignee") == "me" else None}, False)
        assert change is not None and not errors
        workspace.change(viewer, meta, change)
        return redirect(url_for("queue_pages.case", ref=meta.ref, done="assigned"), code=303)

    @bp.post("/queue/<ref>/status")
    @login_required
    def change_status(ref: str) -> Page:
        viewer, meta, form = posted(ref)
        if form is None:
            return bad_form()
        data = {"status": form.get("status", ""), "message_to_reporter": form.get("message_to_reporter", ""),
                "reason": form.get("reason", ""), "unfounded": form.get("unfounded") == "1"}
        change, errors = validate_change(data, strict_fields=False)
        if change is None:
            return render_case(viewer, meta.ref, 422, Outcome(errors=errors), form)
        outcome = workspace.change(viewer, meta, change)
        if not outcome.ok:
            assert outcome.refusal is not None
            return render_case(viewer, meta.ref, outcome.refusal.status, outcome, form)
        return redirect(url_for("queue_pages.case", ref=meta.ref, done="status"), code=303)

    @bp.post("/queue/<ref>/notes")
    @login_required
    def add_note(ref: str) -> Page:
        viewer, meta, form = posted(ref)
        if form is None:
            return bad_form()
        outcome = workspace.add_note(viewer, meta, {"text": form.get("text", "")}, strict_fields=False)
        if not outcome.ok:
            return render_case(viewer, meta.ref, 422, outcome, form)
        return redirect(url_for("queue_pages.case", ref=meta.ref, done="note") + "#notes", code=303)

    return bp


def _account_age_days(case: CaseFile) -> int | None:
    """Days between the reporter's registration (a MediaWiki timestamp) and the report."""
    registered = case.report.reporter.registered
    try:
        start = datetime.strptime(str(registered), "%Y%m%d%H%M%S")
    except (TypeError, ValueError):
        return None
    return max(0, (case.report.created_at - start).days)


__all__ = ["SETTABLE", "create_blueprint", "current_viewer", "filters_from"]
