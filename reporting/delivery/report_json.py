"""The shape of ``report.json``, version 2, as :func:`reporting.delivery.render.report_document`
builds it. ``docs/report-json.md`` is the reference for desks; these TypedDicts keep the code
and that page in step (a field added here belongs there too).
"""

from __future__ import annotations

from typing import TypedDict

from reporting.evidence.types import ResolvedLink

__all__ = ["FollowupDocument", "ReportDocument", "ReporterDocument", "StatusDocument"]


class ReporterDocument(TypedDict):
    """``reporter``: the reporter as their login described them at submission time."""

    username: str
    central_id: int | None  # None with the development login
    blocked: bool
    editcount: int | None
    registered: str | None  # MediaWiki timestamp YYYYMMDDHHMMSS
    confirmed_email: bool | None
    language: str  # the language the reporter used the form in


class StatusDocument(TypedDict):
    """One entry of ``status_history``."""

    at: str  # ISO 8601, UTC, "Z" suffix
    status: str  # received, forwarded, in-review, needs-info, resolved, declined, withdrawn
    source: str  # desk, reporter, tool, functionary


class FollowupDocument(TypedDict):
    """One entry of ``followups``: what the reporter added after sending the report."""

    at: str
    kind: str  # "followup" or "withdrawal"
    text: str  # the reporter's words (for a withdrawal: the reason, possibly empty)
    evidence: list[str]  # links added, as given
    evidence_facts: list[ResolvedLink]  # one per link, like the report's


class ReportDocument(TypedDict):
    schema: str  # "incident-report/<version>"
    ref: str
    created_at: str  # ISO 8601, UTC, "Z" suffix
    wiki: str
    category: str
    severity: str  # "emergency", "high" or "normal"
    share_with_functionaries: bool
    reporter: ReporterDocument
    reported_users: list[str]
    evidence: list[str]  # the links as pasted
    evidence_state: str  # "none", "resolved", "pending" or "gave-up"
    evidence_facts: list[ResolvedLink]  # one per link found in evidence, in order
    description: str
    status: str  # the case's status when the document was made
    status_history: list[StatusDocument]  # oldest first
    followups: list[FollowupDocument]  # oldest first
