"""The workspace's JSON API under ``/api/v1/queue``: the same rule and actions as the pages.

A user with no role, and a case the user may not see, get the same 404 as
an unknown reference; a request without a session gets 401 like every API
route. PATCH and POST need ``X-CSRF-Token`` (checked globally). The audit
trail of a case is Trust & Safety's alone (404 for everyone else).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

from flask import Blueprint, jsonify, request

from reporting.cases.access import has_workspace
from reporting.cases.workspace import CaseFile, Outcome, Viewer, Workspace, destination_kind, validate_change
from reporting.i18n import current_language, msg_text
from reporting.intake.references import looks_like_reference
from reporting.storage.queue import CaseMeta, QueueRow
from reporting.storage.timeline import TimelineEntry
from reporting.views.api import api_login_required
from reporting.views.errors import api_error
from reporting.views.forms import BadBody, read_json_body
from reporting.views.queue_pages import current_viewer, filters_from


class QueueCaseJSON(TypedDict):
    ref: str
    wiki: str
    category: str
    severity: str
    status: str
    created_at: str
    assignee: str | None
    destination_kind: str | None


class WorkspaceEntryJSON(TypedDict):
    at: str
    status: str
    source: str
    kind: str
    internal: bool
    author: str | None
    message: str | None


class ReporterFactsJSON(TypedDict, total=False):
    username: str  # Trust & Safety only
    blocked: bool
    editcount: int | None
    registered: str | None


class AuditEntryJSON(TypedDict):
    at: str
    actor: str
    action: str


def _utc(moment: Any) -> str:
    return moment.isoformat() + "Z"


def row_json(row: QueueRow) -> QueueCaseJSON:
    return {"ref": row.ref, "wiki": row.wiki, "category": row.category, "severity": row.severity,
            "status": row.status, "created_at": _utc(row.created_at), "assignee": row.assignee,
            "destination_kind": destination_kind(row.destination)}


def entry_json(entry: TimelineEntry) -> WorkspaceEntryJSON:
    return {"at": _utc(entry.at), "status": entry.status, "source": entry.source, "kind": entry.kind,
            "internal": entry.internal, "author": entry.author, "message": entry.message}


def case_json(case: CaseFile, viewer: Viewer) -> dict[str, Any]:
    """The whole case, as the case page shows it."""
    report, opened = case.report, case.opened
    reporter: ReporterFactsJSON = {"blocked": report.reporter.blocked, "editcount": report.reporter.editcount,
                                   "registered": report.reporter.registered}
    if viewer.reads_audit:
        reporter["username"] = report.reporter.username
    return {
        "ref": report.ref, "wiki": report.wiki, "category": report.category, "severity": report.severity,
        "status": report.status, "created_at": _utc(report.created_at), "updated_at": _utc(report.updated_at),
        "assignee": opened.meta.assignee, "destination_kind": case.destination_kind,
        "desk_ticket": opened.ticket_id, "desk_managed": case.desk_managed,
        "settable_statuses": [str(status) for status in case.targets],
        "share_with_functionaries": report.share_with_functionaries, "purged": report.purged,
        "reported_users": list(report.reported_users), "evidence": list(report.evidence),
        "evidence_facts": list(report.evidence_facts), "evidence_state": report.evidence_state,
        "description": report.description, "reporter": reporter,
        "followups": [{"at": _utc(f.created_at), "kind": f.kind, "text": f.text, "evidence": list(f.evidence)}
                      for f in opened.followups],
        "timeline": [entry_json(entry) for entry in opened.timeline],
    }


def _errors(outcome: Outcome) -> Any:
    if outcome.refusal is not None:
        refusal = outcome.refusal
        return api_error(refusal.status, refusal.code, refusal.message_key)
    lang = current_language()
    return jsonify(errors=[{"field": e.field, "code": e.code, "message": msg_text(e.message_key, *e.params, lang=lang)}
                           for e in outcome.errors]), 422


@dataclass(frozen=True)
class _Posted:
    """A write to a case the viewer may see, with the request's JSON object."""

    viewer: Viewer
    meta: CaseMeta
    data: dict[str, Any]


def _not_found() -> Any:
    return api_error(404, "not-found", "reporting-error-not-found")


def create_blueprint(workspace: Workspace) -> Blueprint:
    bp = Blueprint("queue_api", __name__, url_prefix="/api/v1/queue")

    def meta_of(viewer: Viewer, ref: str) -> CaseMeta | None:
        if not has_workspace(viewer.roles) or not looks_like_reference(ref):
            return None
        return workspace.meta(viewer, ref)

    def whole_case(viewer: Viewer, ref: str) -> Any:
        case = workspace.open(viewer, ref) if has_workspace(viewer.roles) and looks_like_reference(ref) else None
        return jsonify(case_json(case, viewer)) if case is not None else _not_found()

    def posted(ref: str) -> _Posted | Any:
        """The case and body of a write, or the refusal: 404 (as for an unknown case) before the body is read."""
        viewer = current_viewer()
        meta = meta_of(viewer, ref)
        if meta is None:
            return _not_found()
        try:
            data = read_json_body(request)
        except BadBody as error:
            return api_error(error.status, error.code, error.message_key)
        return _Posted(viewer, meta, data)

    @bp.get("")
    @api_login_required
    def list_cases() -> Any:
        viewer = current_viewer()
        if not has_workspace(viewer.roles):
            return _not_found()
        filters, wrong = filters_from(request.args.to_dict(), strict=True)
        if wrong:
            lang = current_language()
            return jsonify(errors=[{"field": name, "code": "filter-invalid",
                                    "message": msg_text("reporting-error-filter-invalid", lang=lang)}
                                   for name in wrong]), 422
        page = workspace.queue(viewer, filters)
        return jsonify(cases=[row_json(row) for row in page.rows], next_page=page.next_page, counts=page.counts)

    @bp.get("/<ref>")
    @api_login_required
    def get_case(ref: str) -> Any:
        return whole_case(current_viewer(), ref)

    @bp.patch("/<ref>")
    @api_login_required
    def change_case(ref: str) -> Any:
        found = posted(ref)
        if not isinstance(found, _Posted):
            return found
        change, errors = validate_change(found.data, strict_fields=True)
        if change is None:
            return _errors(Outcome(errors=errors))
        outcome = workspace.change(found.viewer, found.meta, change)
        if not outcome.ok:
            return _errors(outcome)
        return whole_case(found.viewer, found.meta.ref)

    @bp.post("/<ref>/notes")
    @api_login_required
    def add_note(ref: str) -> Any:
        found = posted(ref)
        if not isinstance(found, _Posted):
            return found
        outcome = workspace.add_note(found.viewer, found.meta, found.data, strict_fields=True)
        if not outcome.ok:
            return _errors(outcome)
        text = str(found.data["text"]).replace("\r\n", "\n").strip()
        return jsonify(note={"author": found.viewer.username, "text": text}), 201

    @bp.get("/<ref>/audit")
    @api_login_required
    def audit(ref: str) -> Any:
        viewer = current_viewer()
        meta = meta_of(viewer, ref)
        trail = workspace.audit_trail(viewer, meta) if meta is not None else None
        if trail is None:
            return _not_found()
        entries: list[AuditEntryJSON] = [{"at": _utc(at), "actor": actor, "action": action}
                                         for at, actor, action in trail]
        return jsonify(entries=entries)

    return bp
