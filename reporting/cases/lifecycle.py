"""A case as its reporter sees and changes it: the timeline, follow-ups, withdrawal.

The HTML pages and the JSON API both go through :class:`Cases`, so they
show, accept and refuse the same things. Callers MUST have checked that the
report is the logged-in user's own (``ReportStore.of_reporter``): nothing
here asks who is asking.

A follow-up's links are resolved before it is stored (one quick try per
wiki, like a new report's), so the note the desk gets already carries
their facts; links a wiki did not answer are asked again by the worker
(:mod:`reporting.cases.followup_evidence`). The addition is then
stored with its outbox row and, like a report, delivered at once when the
tool delivers in the request (always for emergencies).
"""
from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from reporting.cases.followup_evidence import FollowupEvidence, evidence_state
from reporting.cases.followups import validate_followup, validate_withdrawal
from reporting.cases.statuses import can_follow_up, can_withdraw
from reporting.config import Setting, parse_positive_int, register_settings
from reporting.delivery.immediate import ImmediateDelivery
from reporting.evidence.types import ResolvedLink
from reporting.intake.eligibility import Refusal
from reporting.intake.submission import FieldError
from reporting.storage.database import utcnow
from reporting.storage.followup_rows import Followup, FollowupKind
from reporting.storage.followups import CaseClosed, FollowupStore
from reporting.storage.records import Report
from reporting.storage.timeline import TimelineEntry, TimelineStore
from reporting.wiki.client import WikiClient

log = logging.getLogger(__name__)

register_settings(
    Setting("rate_limit.followups_per_day", parse_positive_int, 10,
            "Follow-ups a reporter may add to one case in 24 hours."),
)

WINDOW = timedelta(hours=24)
CLOSED = Refusal(409, "case-closed", "reporting-error-case-closed")


@dataclass(frozen=True)
class CaseView:
    """What the reporter sees of their case. The timeline holds no internal entry."""

    report: Report
    timeline: list[TimelineEntry]
    followups: dict[int, Followup]
    can_follow_up: bool
    can_withdraw: bool


@dataclass(frozen=True)
class Outcome:
    """What became of an addition: stored (``followup``), or why not."""

    followup: Followup | None = None
    errors: list[FieldError] = field(default_factory=list)
    refusal: Refusal | None = None


@dataclass(frozen=True)
class Cases:
    """``resolve_client`` makes the one quick try per wiki while the reporter waits."""

    followups: FollowupStore
    timeline: TimelineStore
    followup_evidence: FollowupEvidence
    delivery: ImmediateDelivery
    resolve_client: WikiClient
    synchronous: bool
    followups_per_day: int

    def view(self, report: Report) -> CaseView:
        timeline = self.timeline.of(report.id, report.ref, report.created_at)
        return CaseView(report=report, timeline=timeline,
                        followups={followup.id: followup for followup in self.followups.of(report.id, report.ref)},
                        can_follow_up=can_follow_up(report.status) and not report.purged,
                        can_withdraw=can_withdraw(report.status))

    def follow_up(self, report: Report, data: Mapping[str, Any], strict_fields: bool) -> Outcome:
        """Check, resolve, store and pass on a follow-up. Nothing is stored unless all of it is valid."""
        if not can_follow_up(report.status) or report.purged:
            return Outcome(refusal=CLOSED)
        addition, errors = validate_followup(data, strict_fields)
        if addition is None:
            return Outcome(errors=errors)
        refusal = self._limited(report)
        if refusal is not None:
            return Outcome(refusal=refusal)
        facts: list[ResolvedLink] = []
        state, next_at = "none", None
        if addition.evidence:
            try:
                facts = self.followup_evidence.resolve(addition.evidence, report.wiki, self.resolve_client)
                state, next_at = evidence_state(facts, attempts=0)
            except Exception:  # the links go as given; the reporter's addition must not be lost
                log.exception("follow-up links of %s not resolved", report.ref)
                state, next_at = "pending", utcnow()
        try:
            followup = self.followups.add(report.id, report.ref, FollowupKind.FOLLOWUP, addition.text,
                                          addition.evidence, facts, evidence_state=state, evidence_next_at=next_at)
        except CaseClosed:
            return Outcome(refusal=CLOSED)
        log.info("follow-up added to %s", report.ref)
        self._pass_on(report)
        return Outcome(followup=followup)

    def withdraw(self, report: Report, data: Mapping[str, Any], strict_fields: bool) -> Outcome:
        """Withdraw an open case; the desk gets a note (and a tag where it has tags)."""
        if not can_withdraw(report.status):
            return Outcome(refusal=CLOSED)
        reason, errors = validate_withdrawal(data, strict_fields)
        if reason is None:
            return Outcome(errors=errors)
        try:
            followup = self.followups.add(report.id, report.ref, FollowupKind.WITHDRAWAL, reason)
        except CaseClosed:
            return Outcome(refusal=CLOSED)
        log.info("%s withdrawn by its reporter", report.ref)
        self._pass_on(report)
        return Outcome(followup=followup)

    def _limited(self, report: Report) -> Refusal | None:
        now = utcnow()
        times = self.followups.recent_times(report.id, FollowupKind.FOLLOWUP, now - WINDOW)
        if len(times) < self.followups_per_day:
            return None
        retry_after = max(1, math.ceil((times[-self.followups_per_day] + WINDOW - now).total_seconds()))
        return Refusal(429, "rate-limited", "reporting-error-followup-rate-limited", retry_after=retry_after)

    def _pass_on(self, report: Report) -> None:
        """Deliver the addition now where the tool delivers in the request; never raises."""
        try:
            if report.severity == "emergency":
                self.delivery.deliver_emergency(report.id)
            elif self.synchronous:
                self.delivery.deliver(report.id)
        except Exception:
            log.exception("immediate delivery of an addition to %s failed; the worker delivers it", report.ref)
