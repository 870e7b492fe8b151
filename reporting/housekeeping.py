"""Work that follows a report after it is stored: evidence facts, retention.

- :func:`resolve_report_evidence` turns a stored report's pasted links into
  facts and seals them with the report. It runs right after submit (with a
  short timeout, so a slow wiki never keeps a reporter waiting long) and
  again from the worker for links a wiki did not answer, with backoff. When
  the desk already has the report (emergencies are delivered before their
  links are resolved), the facts follow as a note on the same ticket.
- :func:`purge_expired_reports` wipes the content of reports past the
  retention period.
- :func:`run_maintenance` is the worker's periodic turn; it never raises.

Log lines name references and reason codes, never report content.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

from reporting.delivery.render import render_evidence_followup, render_ticket
from reporting.intake.submission import MAX_EVIDENCE_LINKS
from reporting.storage.store import Report, utcnow
from reporting.wiki.client import WikiClient

if TYPE_CHECKING:
    from reporting.components import Services

log = logging.getLogger(__name__)

MAX_EVIDENCE_ATTEMPTS = 8
MAX_STORED_TEXT = 5000  # characters of added/removed text kept per link


def _compact(link: dict) -> dict:
    """Bound what is stored per link: a page creation can add megabytes."""
    analysis = link.get("analysis")
    if not analysis:
        return link
    trimmed = dict(analysis)
    for key in ("added_text", "removed_text"):
        text = trimmed.get(key) or ""
        if len(text) > MAX_STORED_TEXT:
            trimmed[key] = text[:MAX_STORED_TEXT]
            trimmed[f"{key}_truncated"] = True
    return {**link, "analysis": trimmed}


def _needs_retry(link: dict) -> bool:
    if link.get("error") == "siteinfo-unavailable":
        return True
    return link.get("status") == "unresolved" and bool(link.get("retryable"))


def evidence_retry_delay(attempts: int) -> timedelta:
    """5 minutes, doubling, at most a day: wikis are rarely down for long."""
    return timedelta(minutes=min(5 * 2 ** attempts, 24 * 60))


def resolve_report_evidence(services: "Services", report_id: int, attempts: int = 0,
                            client: WikiClient | None = None) -> str:
    """Resolve one report's links, store the facts; return the new evidence state."""
    report = services.store.report_by_id(report_id)
    if report.purged or not report.evidence:
        return report.evidence_state
    evidence = services.evidence
    links = evidence.parse("\n".join(report.evidence), report.wiki)[:MAX_EVIDENCE_LINKS]
    facts = [_compact(link) for link in evidence.resolve(links, client=client)]
    retry = any(_needs_retry(link) for link in facts)
    if retry and attempts + 1 < MAX_EVIDENCE_ATTEMPTS:
        state, next_at = "pending", utcnow() + evidence_retry_delay(attempts)
    else:
        state, next_at = ("gave-up" if retry else "resolved"), None
    services.store.save_evidence_facts(report_id, facts, state, next_at)
    log.info("evidence of %s: %s (%d links)", report.ref, state, len(facts))
    if state != "pending":  # a note saying "still unknown" would only be noise on the ticket
        _send_facts_to_desk(services, replace(report, evidence_facts=tuple(facts), evidence_state=state))
    return state


def _send_facts_to_desk(services: "Services", report: Report) -> None:
    """If the desk already has the report, add the facts to its ticket."""
    row = services.store.outbox_row_of(report.id)
    if row is None or row.state != "delivered" or not row.ticket_id:
        return  # the ticket, when created, will carry the facts itself
    try:
        connector = services.connector_for(row.destination)
        connector.add_followup(render_ticket(report), row.ticket_id, render_evidence_followup(report))
        services.store.audit(report.id, "system", "evidence-followup")
    except Exception as error:  # the desk has the links as pasted; the facts are a bonus
        log.warning("evidence follow-up for %s failed (%s)", report.ref, type(error).__name__)


def resolve_pending_evidence(services: "Services", limit: int = 10,
                             stop: threading.Event | None = None) -> int:
    """Retry reports whose wikis did not answer before; return how many were tried.

    Stops between reports when ``stop`` is set (the worker is shutting down);
    claims it did not get to come due again after their lease.
    """
    tried = 0
    for report_id, attempts in services.store.claim_pending_evidence(limit=limit):
        if stop is not None and stop.is_set():
            break
        try:
            resolve_report_evidence(services, report_id, attempts)
        except Exception as error:
            log.error("evidence retry of report %d crashed (%s)", report_id, type(error).__name__)
        tried += 1
    return tried


def purge_expired_reports(services: "Services") -> int:
    cutoff = utcnow() - timedelta(days=services.config["retention_days"])
    purged = services.store.purge_expired(cutoff)
    if purged:
        log.info("retention: purged the content of %d reports", purged)
    return purged


def run_maintenance(services: "Services", stop: threading.Event | None = None) -> None:
    """One turn of the worker's housekeeping; every part fails on its own."""
    for task in (services.refresh_wiki_registry_if_stale, lambda: resolve_pending_evidence(services, stop=stop),
                 lambda: purge_expired_reports(services)):
        if stop is not None and stop.is_set():
            return
        try:
            task()
        except Exception as error:  # the database may be down: next turn
            log.error("maintenance task failed (%s)", type(error).__name__)
