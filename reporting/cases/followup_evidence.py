"""The links of a follow-up, resolved like a report's: once while the reporter waits, then by the worker.

A wiki that did not answer while the reporter added the follow-up is asked
again later, with the same backoff and the same number of tries as a
report's links (:mod:`reporting.evidence.report_facts`). When the follow-up
already reached the desk, the facts follow as one more note on the ticket;
otherwise the note the desk gets carries them.

Log lines name references and states, never the links.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime

from reporting.delivery.base import Connector
from reporting.delivery.render import render_facts, render_ticket
from reporting.evidence.report_facts import (
    MAX_EVIDENCE_ATTEMPTS,
    evidence_retry_delay,
    needs_retry,
    resolve_for_storage,
)
from reporting.evidence.service import Evidence
from reporting.evidence.types import ResolvedLink
from reporting.i18n import msg_text
from reporting.storage.audit import AuditLog
from reporting.storage.database import utcnow
from reporting.storage.followups import FollowupStore
from reporting.storage.reports import ReportStore
from reporting.wiki.client import WikiClient

log = logging.getLogger(__name__)


def evidence_state(facts: Sequence[ResolvedLink], attempts: int,
                   now: datetime | None = None) -> tuple[str, datetime | None]:
    """The state of a follow-up's links after ``attempts`` + 1 tries, and when to try again."""
    if not facts:
        return "none", None
    if needs_retry(facts):
        if attempts + 1 < MAX_EVIDENCE_ATTEMPTS:
            return "pending", (now or utcnow()) + evidence_retry_delay(attempts)
        return "gave-up", None
    return "resolved", None


class FollowupEvidence:
    """``connector_for(destination)`` gives the connector of the desk that has the follow-up."""

    def __init__(self, followups: FollowupStore, reports: ReportStore, audit: AuditLog, evidence: Evidence,
                 connector_for: Callable[[str], Connector]) -> None:
        self.followups = followups
        self.reports = reports
        self.audit = audit
        self.evidence = evidence
        self.connector_for = connector_for

    def resolve(self, links: Sequence[str], wiki: str, client: WikiClient | None = None) -> list[ResolvedLink]:
        """The first try, while the reporter waits (``client`` answers quickly)."""
        return resolve_for_storage(self.evidence, links, wiki, client)

    def resolve_pending(self, limit: int = 10, stop: threading.Event | None = None) -> int:
        """Retry follow-ups whose wikis did not answer; return how many were tried."""
        tried = 0
        for followup_id, ref, wiki, attempts in self.followups.claim_pending_evidence(limit=limit):
            if stop is not None and stop.is_set():
                break
            try:
                self._retry(followup_id, ref, wiki, attempts)
            except Exception:
                log.exception("evidence retry of a follow-up of %s crashed", ref)
            tried += 1
        return tried

    def _retry(self, followup_id: int, ref: str, wiki: str, attempts: int) -> None:
        followup = self.followups.one(followup_id, ref)
        facts = resolve_for_storage(self.evidence, followup.evidence, wiki)
        state, next_at = evidence_state(facts, attempts)
        self.followups.save_evidence_facts(followup_id, ref, facts, state, next_at)
        log.info("evidence of a follow-up of %s: %s", ref, state)
        if state == "pending":
            return
        delivered = self.followups.delivered_to(followup_id)
        if delivered is None:
            return  # the note, when delivered, carries the facts itself
        destination, ticket_id, report_id = delivered
        try:
            report = self.reports.by_id(report_id)
            text = "\n".join([msg_text("reporting-desk-evidence-followup", ref, lang="en"), "",
                              *render_facts(facts)]) + "\n"
            self.connector_for(destination).add_followup(render_ticket(report), ticket_id, text,
                                                         marker=f"{followup.marker}-facts-{attempts + 1}")
            self.audit.record(report_id, "system", "evidence-followup")
        except Exception:  # the desk has the links as given; the facts are a bonus
            log.warning("evidence note for a follow-up of %s failed", ref, exc_info=True)
