"""Taking a report in: check it, store it safely, then try to deliver it at once.

The HTML form and the JSON API both go through :class:`Intake`, so they
accept, refuse and store reports exactly alike.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reporting.delivery.configure import Router
from reporting.delivery.immediate import ImmediateDelivery
from reporting.evidence.report_facts import ReportEvidence
from reporting.intake.eligibility import RateLimits, Refusal, barred_refusal, submission_refusal
from reporting.intake.references import new_reference
from reporting.intake.submission import FieldError, Reporter, Submission, validate_submission
from reporting.storage.bar_list import BarList
from reporting.storage.reports import ReportStore
from reporting.wiki.client import WikiClient

log = logging.getLogger(__name__)

#: Seconds the submit request may spend on wikis for the report's links.
SUBMIT_EVIDENCE_SECONDS = 8.0


@dataclass(frozen=True)
class Checked:
    """The outcome of :meth:`Intake.check`: a submission to store, or why not."""

    submission: Submission | None = None
    errors: list[FieldError] = field(default_factory=list)
    refusal: Refusal | None = None


@dataclass(frozen=True)
class Intake:
    """``normalize_wiki`` maps what a reporter typed to a known wiki's host.

    ``submit_client`` makes one quick try per wiki (no retries) while the
    reporter waits; built once so its connections are reused. With
    ``synchronous`` off (production runs the worker), only emergencies are
    attempted in the request.
    """

    reports: ReportStore
    bar_list: BarList
    limits: RateLimits
    normalize_wiki: Callable[[str], str | None]
    router: Router
    delivery: ImmediateDelivery
    report_evidence: ReportEvidence
    submit_client: WikiClient
    synchronous: bool

    def barred(self, username: str) -> Refusal | None:
        return barred_refusal(self.bar_list, username)

    def check(self, data: Mapping[str, Any], reporter: Reporter, strict_fields: bool) -> Checked:
        """Validate ``data`` (every problem at once), then whether ``reporter``
        may send it now (bar list, rate limits; the category decides whether
        it is an emergency, which is never limited)."""
        submission, errors = validate_submission(data, self.normalize_wiki, strict_fields=strict_fields)
        if submission is None:
            return Checked(errors=errors)
        refusal = submission_refusal(self.bar_list, self.reports, self.limits, reporter.username,
                                     reporter.registered, reporter.editcount,
                                     emergency=submission.severity == "emergency")
        return Checked(submission=submission, refusal=refusal)

    def submit(self, submission: Submission, reporter: Reporter, lang: str) -> str:
        """Store the report with its outbox row, then try to deliver it at once; return its reference.

        Emergencies are always attempted here, bounded by
        ``delivery.emergency_timeout_seconds``, before anything waits for
        wikis (their evidence facts follow as a note on the ticket); other
        reports only when ``synchronous``.
        """
        ref = new_reference()
        report_id = self.reports.create(ref, submission, reporter, lang, self.router.destination_of(submission))
        log.info("report %s stored (category %s)", ref, submission.category)
        if submission.severity == "emergency":
            self.delivery.deliver_emergency(report_id)
        if submission.evidence:
            self._resolve_evidence_now(report_id, ref)
        if submission.severity != "emergency" and self.synchronous:
            self.delivery.deliver(report_id)
        return ref

    def _resolve_evidence_now(self, report_id: int, ref: str) -> None:
        """Whatever a wiki does not answer at once is left to the worker: one try per
        request, none after ``SUBMIT_EVIDENCE_SECONDS`` (the reporter is waiting).
        Never raises: the report is already stored."""
        try:
            client = self.submit_client.within(time.monotonic() + SUBMIT_EVIDENCE_SECONDS)
            self.report_evidence.resolve(report_id, client=client)
        except Exception:
            log.exception("evidence of %s not resolved at submit; the worker retries", ref)
