"""A stored report's evidence links, turned into facts and sealed with it.

Resolution runs right after submit (one quick try per wiki, so a slow wiki
never keeps a reporter waiting long) and again from the worker for links a
wiki did not answer, with backoff. When the desk already has the report
(emergencies are delivered before their links are resolved), the facts
follow as a note on the same ticket.

Log lines name references and reason codes, never report content.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import timedelta

from reporting.delivery.base import Connector
from reporting.delivery.render import render_evidence_followup, render_ticket
from reporting.evidence.service import Evidence
from reporting.evidence.types import ResolvedLink
from reporting.intake.submission import MAX_EVIDENCE_LINKS
from reporting.storage.audit import AuditLog
from reporting.storage.database import utcnow
from reporting.storage.outbox import OutboxState, OutboxStore
from reporting.storage.records import Report
from reporting.storage.reports import ReportStore
from reporting.wiki.client import WikiClient

log = logging.getLogger(__name__)

MAX_EVIDENCE_ATTEMPTS = 8
MAX_STORED_TEXT = 5000  # characters of added/removed text kept per link


def _compact(link: ResolvedLink) -> ResolvedLink:
    """Bound what is stored per link: a page creation can add megabytes."""
    analysis = link.get("analysis")
    if not analysis:
        return link
    trimmed = analysis.copy()
    if len(trimmed["added_text"]) > MAX_STORED_TEXT:
        trimmed["added_text"] = trimmed["added_text"][:MAX_STORED_TEXT]
        trimmed["added_text_truncated"] = True
    if len(trimmed["removed_text"]) > MAX_STORED_TEXT:
        trimmed["removed_text"] = trimmed["removed_text"][:MAX_STORED_TEXT]
        trimmed["removed_text_truncated"] = True
    compact = link.copy()
    compact["analysis"] = trimmed
    return compact


def _needs_retry(link: ResolvedLink) -> bool:
    if link.get("error") == "siteinfo-unavailable":
        return True
    return link.get("status") == "unresolved" and bool(link.get("retryable"))


def resolve_for_storage(evidence: Evidence, links: Sequence[str], wiki: str,
                        client: WikiClient | None = None) -> list[ResolvedLink]:
    """Links as given → the facts stored with them (bounded per link): the one
    way a report's links and a follow-up's links are resolved. ``wiki`` is "" for a report
    about something that happened away from the wikis: links then need their host."""
    parsed = evidence.parse("\n".join(links), wiki or None, client)[:MAX_EVIDENCE_LINKS]
    return [_compact(link) for link in evidence.resolve(parsed, client=client)]


def needs_retry(facts: Sequence[ResolvedLink]) -> bool:
    """Whether a wiki did not answer for some of ``facts`` (worth asking again later)."""
    return any(_needs_retry(link) for link in facts)


def evidence_retry_delay(attempts: int) -> timedelta:
    """5 minutes, doubling, at most a day: wikis are rarely down for long."""
    return timedelta(minutes=min(5 * 2 ** attempts, 24 * 60))


class ReportEvidence:
    """``connector_for(destination)`` gives the connector that added the
    report to its desk, for the follow-up note."""

    def __init__(self, reports: ReportStore, outbox: OutboxStore, audit: AuditLog, evidence: Evidence,
                 connector_for: Callable[[str], Connector]) -> None:
        self.reports = reports
        self.outbox = outbox
        self.audit = audit
        self.evidence = evidence
        self.connector_for = connector_for

    def resolve(self, report_id: int, attempts: int = 0, client: WikiClient | None = None) -> str:
        """Resolve one report's links, store the facts; return the new evidence state.

        ``client`` replaces the evidence service's own for every request (siteinfo
        included), e.g. a quicker one with a deadline while a reporter waits.
        """
        report = self.reports.by_id(report_id)
        if report.purged or not report.evidence:
            return report.evidence_state
        facts = resolve_for_storage(self.evidence, report.evidence, report.wiki, client)
        retry = needs_retry(facts)
        if retry and attempts + 1 < MAX_EVIDENCE_ATTEMPTS:
            state, next_at = "pending", utcnow() + evidence_retry_delay(attempts)
        else:
            state, next_at = ("gave-up" if retry else "resolved"), None
        self.reports.save_evidence_facts(report_id, facts, state, next_at)
        log.info("evidence of %s: %s (%d links)", report.ref, state, len(facts))
        if state != "pending":  # a note saying "still unknown" would only be noise on the ticket
            self._send_facts_to_desk(replace(report, evidence_facts=tuple(facts), evidence_state=state))
        return state

    def _send_facts_to_desk(self, report: Report) -> None:
        """If the desk already has the report, add the facts to its ticket."""
        row = self.outbox.row_of(report.id)
        if row is None or row.state != OutboxState.DELIVERED or not row.ticket_id:
            return  # the ticket, when created, will carry the facts itself
        try:
            connector = self.connector_for(row.destination)
            connector.add_followup(render_ticket(report), row.ticket_id, render_evidence_followup(report))
            self.audit.record(report.id, "system", "evidence-followup")
        except Exception:  # the desk has the links as pasted; the facts are a bonus
            log.warning("evidence follow-up for %s failed", report.ref, exc_info=True)

    def resolve_pending(self, limit: int = 10, stop: threading.Event | None = None) -> int:
        """Retry reports whose wikis did not answer before; return how many were tried.

        Stops between reports when ``stop`` is set (the worker is shutting
        down); claims it did not get to come due again after their lease.
        """
        tried = 0
        for report_id, attempts in self.reports.claim_pending_evidence(limit=limit):
            if stop is not None and stop.is_set():
                break
            try:
                self.resolve(report_id, attempts)
            except Exception:
                log.exception("evidence retry of report %d crashed", report_id)
            tried += 1
        return tried
