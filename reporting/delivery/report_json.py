"""The shape of ``report.json``, version 1, as :func:`reporting.delivery.render.report_document`
builds it. ``docs/report-json.md`` is the reference for desks; these TypedDicts keep the code
and that page in step (a field added here belongs there too).
"""

from __future__ import annotations

from typing import TypedDict

from reporting.evidence.types import ResolvedLink

__all__ = ["ReportDocument", "ReporterDocument"]


class ReporterDocument(TypedDict):
    """``reporter``: the reporter as their login described them at submission time."""

    username: str
    central_id: int | None  # None with the development login
    blocked: bool
    editcount: int | None
    registered: str | None  # MediaWiki timestamp YYYYMMDDHHMMSS
    confirmed_email: bool | None
    language: str  # the language the reporter used the form in


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
