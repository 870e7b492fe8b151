"""The JSON API of a reporter's case: its timeline, follow-ups and withdrawal.

Routes are added to the ``/api/v1`` blueprint (:mod:`reporting.views.api`).
Every POST needs the CSRF token like any other (checked globally); a
reference that is not the logged-in user's gets the same 404 as one that
does not exist.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, jsonify, request

from reporting.cases.lifecycle import Cases, CaseView, Outcome
from reporting.i18n import current_language, msg_text
from reporting.identity.session import logged_in_user
from reporting.intake.references import looks_like_reference
from reporting.storage.followup_rows import Followup
from reporting.storage.records import Report
from reporting.storage.reports import ReportStore
from reporting.storage.timeline import TimelineEntry
from reporting.views.errors import api_error
from reporting.views.forms import BadBody, read_json_body


def _utc(moment: Any) -> str:
    return moment.isoformat() + "Z"


def timeline_json(entries: list[TimelineEntry]) -> list[dict[str, Any]]:
    return [{"at": _utc(entry.at), "status": entry.status, "source": entry.source, "message": entry.message}
            for entry in entries if not entry.internal]


def followup_json(followup: Followup) -> dict[str, Any]:
    return {"at": _utc(followup.created_at), "text": followup.text, "evidence": list(followup.evidence)}


def case_json(view: CaseView) -> dict[str, Any]:
    """What a case adds to the report's JSON: timeline, what the reporter added, what they may do."""
    return {
        "timeline": timeline_json(view.timeline),
        "followups": [followup_json(followup) for followup in view.followups.values() if followup.kind == "followup"],
        "can_follow_up": view.can_follow_up,
        "can_withdraw": view.can_withdraw,
    }


def _errors(outcome: Outcome) -> Any:
    lang = current_language()
    if outcome.refusal is not None:
        refusal = outcome.refusal
        body, status = api_error(refusal.status, refusal.code, refusal.message_key, None, *refusal.params)
        return body, status, {"Retry-After": str(refusal.retry_after)} if refusal.retry_after else {}
    return jsonify(errors=[{"field": e.field, "code": e.code, "message": msg_text(e.message_key, *e.params, lang=lang)}
                           for e in outcome.errors]), 422


@dataclass(frozen=True)
class _Posted:
    """A write to the reporter's own report: the report and the request's JSON body."""

    report: Report
    data: dict[str, Any]


def add_case_routes(bp: Blueprint, reports: ReportStore, cases: Cases,
                    report_json: Callable[[Report, CaseView], dict[str, Any]],
                    login_required: Callable[[Callable], Callable]) -> None:
    """``report_json`` is the whole report's JSON (``GET /reports/<ref>``), returned after a
    withdrawal; ``login_required`` the API's answer to a request without a session."""

    def own_report(ref: str) -> Report | None:
        return reports.of_reporter(ref, logged_in_user().username) if looks_like_reference(ref) else None

    def posted(ref: str) -> _Posted | Any:
        """The reporter's own report and the body of a write to it, or the refusal: 404 (as for
        an unknown reference) before the body is read."""
        report = own_report(ref)
        if report is None:
            return api_error(404, "not-found", "reporting-error-not-found")
        try:
            return _Posted(report, read_json_body(request))
        except BadBody as error:
            return api_error(error.status, error.code, error.message_key)

    @bp.post("/reports/<ref>/followups")
    @login_required
    def add_followup(ref: str) -> Any:
        answer = posted(ref)
        if not isinstance(answer, _Posted):
            return answer
        report, data = answer.report, answer.data
        outcome = cases.follow_up(report, data, strict_fields=True)
        if outcome.followup is None:
            return _errors(outcome)
        return jsonify(followup=followup_json(outcome.followup)), 201

    @bp.post("/reports/<ref>/withdraw")
    @login_required
    def withdraw(ref: str) -> Any:
        answer = posted(ref)
        if not isinstance(answer, _Posted):
            return answer
        report, data = answer.report, answer.data
        outcome = cases.withdraw(report, data, strict_fields=True)
        if outcome.followup is None:
            return _errors(outcome)
        updated = reports.of_reporter(ref, logged_in_user().username)
        assert updated is not None  # the reporter's own, just changed
        return jsonify(report_json(updated, cases.view(updated)))
