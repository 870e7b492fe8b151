"""Turn a stored report into what a desk receives: English text + report.json.

The desk always works in English, whatever language the reporter used; the
reporter's own words are kept verbatim and marked with their language code.
Labels come from ``i18n/en.json`` (``reporting-desk-*``) like every other
string the tool shows to people.

``report.json`` is versioned (:data:`SCHEMA_VERSION`); its fields are
documented in ``docs/report-json.md``. Desks and scripts can rely on it.
"""
from __future__ import annotations

import json
from typing import Any

from ..i18n import msg_text
from ..store import Report
from .base import Ticket

SCHEMA_VERSION = 1
PRIORITY_BY_SEVERITY = {"emergency": "urgent", "high": "high", "normal": "normal"}


def report_document(report: Report) -> dict[str, Any]:
    """The versioned machine-readable form of a report."""
    return {
        "schema": f"incident-report/{SCHEMA_VERSION}",
        "ref": report.ref,
        "created_at": report.created_at.isoformat() + "Z",
        "wiki": report.wiki,
        "category": report.category,
        "severity": report.severity,
        "share_with_functionaries": report.share_with_functionaries,
        "reporter": {**report.reporter.as_dict(), "language": report.reporter_lang},
        "reported_users": list(report.reported_users),
        "evidence": list(report.evidence),
        "description": report.description,
    }


def _en(key: str, *params: Any) -> str:
    return msg_text(key, *params, lang="en")


def render_body(report: Report) -> str:
    """The readable text part, in English."""
    reporter = report.reporter
    facts = [
        (_en("reporting-desk-reference"), report.ref),
        (_en("reporting-desk-category"), _en(f"reporting-category-{report.category}")),
        (_en("reporting-desk-severity"), report.severity),
        (_en("reporting-desk-wiki"), report.wiki),
        (_en("reporting-desk-submitted"), report.created_at.strftime("%Y-%m-%d %H:%M UTC")),
        (_en("reporting-desk-reporter"), reporter.username),
        (_en("reporting-desk-reporter-language"), report.reporter_lang),
        (_en("reporting-desk-reporter-blocked"), _en("reporting-desk-yes" if reporter.blocked else "reporting-desk-no")),
        (_en("reporting-desk-share"), _en("reporting-desk-yes" if report.share_with_functionaries else "reporting-desk-no")),
    ]
    if reporter.editcount is not None:
        facts.append((_en("reporting-desk-reporter-editcount"), str(reporter.editcount)))
    if reporter.registered:
        facts.append((_en("reporting-desk-reporter-registered"), reporter.registered))
    width = max(len(label) for label, _ in facts)
    lines = [_en("reporting-desk-intro"), ""]
    lines += [f"{label.ljust(width)}  {value}" for label, value in facts]
    lines += ["", _en("reporting-desk-reported-users")]
    lines += [f"  - {user}" for user in report.reported_users] or ["  " + _en("reporting-desk-none")]
    lines += ["", _en("reporting-desk-evidence")]
    lines += [f"  {number}. {link}" for number, link in enumerate(report.evidence, 1)] or ["  " + _en("reporting-desk-none")]
    lines += ["", _en("reporting-desk-description", report.reporter_lang), ""]
    lines += [report.description or _en("reporting-desk-none")]
    return "\n".join(lines) + "\n"


def render_ticket(report: Report) -> Ticket:
    """The :class:`Ticket` for any connector. The subject holds no personal data."""
    emergency = report.severity == "emergency"
    subject_key = "reporting-desk-subject-emergency" if emergency else "reporting-desk-subject"
    return Ticket(
        ref=report.ref,
        subject=_en(subject_key, report.ref, report.category),
        body=render_body(report),
        report_json=json.dumps(report_document(report), ensure_ascii=False, indent=2).encode("utf-8"),
        priority=PRIORITY_BY_SEVERITY[report.severity],
        category=report.category,
        wiki=report.wiki,
        emergency=emergency,
        tags=("incident-report", f"category-{report.category}", f"severity-{report.severity}"),
    )
