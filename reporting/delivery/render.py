"""Turn a stored report into what a desk receives: English text + report.json.

The desk always works in English, whatever language the reporter used; the
reporter's own words are kept verbatim and marked with their language code.
Labels come from ``i18n/en.json`` (``reporting-desk-*``) like every other
string the tool shows to people.

``report.json`` is versioned (:data:`SCHEMA_VERSION`); its fields are
documented in ``docs/report-json.md`` and typed in
:mod:`reporting.delivery.report_json`. Desks and scripts can rely on it.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, cast

from reporting.delivery.base import Ticket
from reporting.delivery.report_json import FollowupDocument, ReportDocument, ReporterDocument, StatusDocument
from reporting.evidence.types import Analysis, ResolvedLink
from reporting.i18n import msg_text
from reporting.storage.followup_rows import Followup, FollowupKind
from reporting.storage.records import Report
from reporting.storage.timeline import TimelineEntry

SCHEMA_VERSION = 2
PRIORITY_BY_SEVERITY = {"emergency": "urgent", "high": "high", "normal": "normal"}


def _utc(moment) -> str:
    return moment.isoformat() + "Z"


def status_history(timeline: Sequence[TimelineEntry]) -> list[StatusDocument]:
    """The status changes of a case (no messages: the desk has its own, and a
    functionary's note never leaves the tool)."""
    history: list[StatusDocument] = []
    for entry in timeline:
        if entry.internal or (history and history[-1]["status"] == entry.status):
            continue
        history.append({"at": _utc(entry.at), "status": entry.status, "source": entry.source})
    return history


def followup_documents(followups: Sequence[Followup]) -> list[FollowupDocument]:
    return [{"at": _utc(followup.created_at), "kind": followup.kind, "text": followup.text,
             "evidence": list(followup.evidence), "evidence_facts": list(followup.evidence_facts)}
            for followup in followups]


def report_document(report: Report, timeline: Sequence[TimelineEntry] = (),
                    followups: Sequence[Followup] = ()) -> ReportDocument:
    """The versioned machine-readable form of a report.

    ``timeline`` and ``followups`` are what happened to the case since it was
    stored; a report delivered right away has none yet, and then its history
    is its reception.
    """
    history = status_history(timeline) or [{"at": _utc(report.created_at), "status": "received", "source": "tool"}]
    return {
        "schema": f"incident-report/{SCHEMA_VERSION}",
        "ref": report.ref,
        "created_at": report.created_at.isoformat() + "Z",
        "wiki": report.wiki,
        "category": report.category,
        "severity": report.severity,
        "share_with_functionaries": report.share_with_functionaries,
        "reporter": cast(ReporterDocument, {**report.reporter.as_dict(), "language": report.reporter_lang}),
        "reported_users": list(report.reported_users),
        "evidence": list(report.evidence),
        "evidence_state": report.evidence_state,
        "evidence_facts": cast("list[ResolvedLink]", list(report.evidence_facts)),  # stored as resolved
        "description": report.description,
        "status": report.status,
        "status_history": history,
        "followups": followup_documents(followups),
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
        (_en("reporting-desk-wiki"), report.wiki or _en("reporting-desk-no-wiki")),
        (_en("reporting-desk-submitted"), report.created_at.strftime("%Y-%m-%d %H:%M UTC")),
        (_en("reporting-desk-reporter"), reporter.username),
        (_en("reporting-desk-reporter-language"), report.reporter_lang),
        (_en("reporting-desk-reporter-blocked"),
         _en("reporting-desk-yes" if reporter.blocked else "reporting-desk-no")),
        (_en("reporting-desk-share"),
         _en("reporting-desk-yes" if report.share_with_functionaries else "reporting-desk-no")),
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
    lines += ([f"  {number}. {link}" for number, link in enumerate(report.evidence, 1)]
              or ["  " + _en("reporting-desk-none")])
    if report.evidence_facts:
        lines += ["", _en("reporting-desk-evidence-facts"), *render_facts(report.evidence_facts)]
    elif report.evidence_state == "pending":
        lines += ["", _en("reporting-desk-evidence-pending")]
    lines += ["", _en("reporting-desk-description", report.reporter_lang), ""]
    lines += [report.description or _en("reporting-desk-none")]
    return "\n".join(lines) + "\n"


def _fact_lines(link: ResolvedLink) -> list[str]:
    """What one resolved link says, as indented English lines."""
    if "error" in link:
        return [_en(f"reporting-evidence-error-{link['error']}")]
    if link.get("status") == "unresolved":
        return [_en(f"reporting-evidence-unresolved-{link.get('reason', 'internal-error')}")]
    if link.get("status") == "missing":
        return [_en("reporting-evidence-missing")]
    hidden = _en("reporting-evidence-hidden")
    rows = []
    if link.get("page_title"):
        rows.append((_en("reporting-evidence-page"), link["page_title"]))
    if link.get("kind") == "contribs" and link.get("user"):
        rows.append((_en("reporting-evidence-user"), link["user"]))
    if link.get("author") or link.get("author_hidden"):
        rows.append((_en("reporting-evidence-author"), hidden if link.get("author_hidden") else link["author"]))
    if link.get("timestamp"):
        rows.append((_en("reporting-evidence-time"), link["timestamp"]))
    if link.get("comment") or link.get("comment_hidden"):
        rows.append((_en("reporting-evidence-summary"), hidden if link.get("comment_hidden") else link["comment"]))
    if link.get("size_change") is not None:
        rows.append((_en("reporting-evidence-size"), f"{link['size_change']:+d}"))
    flags = [_en(f"reporting-evidence-flag-{name.replace('_', '-')}")
             for name in ("deleted", "revision_deleted", "suppressed", "cross_page", "reversed") if link.get(name)]
    analysis: Analysis | dict[str, Any] = link.get("analysis") or {}
    if analysis.get("structured_data"):
        flags.append(_en("reporting-evidence-flag-structured-data"))
    if analysis.get("limited"):
        flags.append(_en("reporting-evidence-flag-analysis-limited"))
    if flags:
        rows.append(("!", ", ".join(flags)))
    if analysis.get("section"):
        rows.append((_en("reporting-evidence-section"), analysis["section"]))
    if analysis.get("signatures"):
        rows.append((_en("reporting-evidence-signatures"), ", ".join(s["user"] for s in analysis["signatures"])))
    if analysis.get("mentions"):
        rows.append((_en("reporting-evidence-mentions"), ", ".join(analysis["mentions"])))
    lines = [f"{label}: {value}" for label, value in rows]
    for text, label in ((analysis.get("added_text"), "reporting-evidence-added"),
                        (analysis.get("removed_text"), "reporting-evidence-removed")):
        if text:
            lines.append(f"{_en(label)}:")
            lines += [f"  | {line}" for line in text.splitlines()]
    if link.get("analysis_unavailable"):
        lines.append(_en(f"reporting-evidence-analysis-unavailable-{link['analysis_unavailable']}"))
    return lines


def render_facts(facts: Sequence[ResolvedLink]) -> list[str]:
    """The resolved evidence for the desk: the pasted input, then its facts."""
    lines = []
    for number, link in enumerate(facts, 1):
        lines.append(f"  {number}. {link.get('input', '')}")
        lines += [f"     {line}" for line in _fact_lines(link)]
    return lines


def render_evidence_followup(report: Report) -> str:
    """The note added to a ticket when the facts arrive after the ticket did."""
    lines = [_en("reporting-desk-evidence-followup", report.ref), "", *render_facts(report.evidence_facts)]
    return "\n".join(lines) + "\n"


def render_note(report: Report, followup: Followup) -> str:
    """The note a follow-up or withdrawal adds to the report's ticket (English
    frame, the reporter's words verbatim). Its marker lets the connector find
    it again instead of adding it twice."""
    if followup.kind == FollowupKind.WITHDRAWAL:
        lines = [_en("reporting-desk-withdrawal-intro", report.ref), ""]
        if followup.text:
            lines += [_en("reporting-desk-withdrawal-reason", report.reporter_lang), "", followup.text]
        else:
            lines += [_en("reporting-desk-withdrawal-no-reason")]
    else:
        lines = [_en("reporting-desk-followup-intro", report.ref), ""]
        if followup.text:
            lines += [_en("reporting-desk-followup-text", report.reporter_lang), "", followup.text]
        if followup.evidence:
            lines += ["", _en("reporting-desk-followup-evidence")]
            if followup.evidence_facts:
                lines += render_facts(followup.evidence_facts)
            else:
                lines += [f"  {number}. {link}" for number, link in enumerate(followup.evidence, 1)]
    lines += ["", _en("reporting-desk-note-marker", followup.marker)]
    return "\n".join(lines) + "\n"


NOTE_TAGS = {FollowupKind.WITHDRAWAL: ("withdrawn-by-reporter",)}
ALERT_TAGS = ("emergency-ceiling",)


def render_alert(ref: str, count: int, refs: Sequence[str], marker: str) -> str:
    """The note that alerts Trust & Safety to an emergency flood: references and counts, no content."""
    lines = [_en("reporting-desk-alert-intro", ref, count), "", _en("reporting-desk-alert-refs", ref),
             *[f"  {number}. {other}" for number, other in enumerate(refs, 1)],
             "", _en("reporting-desk-note-marker", marker)]
    return "\n".join(lines) + "\n"


def render_ticket(report: Report, timeline: Sequence[TimelineEntry] = (), followups: Sequence[Followup] = ()) -> Ticket:
    """The :class:`Ticket` for any connector. The subject holds no personal data."""
    emergency = report.severity == "emergency"
    subject_key = "reporting-desk-subject-emergency" if emergency else "reporting-desk-subject"
    document = report_document(report, timeline, followups)
    return Ticket(
        ref=report.ref,
        subject=_en(subject_key, report.ref, report.category),
        body=render_body(report),
        report_json=json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8"),
        priority=PRIORITY_BY_SEVERITY[report.severity],
        category=report.category,
        wiki=report.wiki,
        emergency=emergency,
        tags=("incident-report", f"category-{report.category}", f"severity-{report.severity}"),
    )
