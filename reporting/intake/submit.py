"""Taking a report in: check it, store it safely, then try to deliver it at once.

The HTML form and the JSON API both go through :class:`Intake`, so they
accept, refuse and store reports exactly alike.

Idempotency: a submission may come with a :class:`SubmissionKey` (the API's
``Idempotency-Key`` header, the form's one-time submission id). A client
that did not hear the answer sends the same key again, and gets the report
stored the first time (:meth:`Intake.earlier`, and :class:`AlreadySubmitted`
when two requests race) instead of a second report.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reporting.cases.misuse import Standing
from reporting.cases.statuses import Status
from reporting.delivery.configure import Router
from reporting.delivery.destinations import is_local_queue
from reporting.delivery.immediate import ImmediateDelivery
from reporting.evidence.report_facts import ReportEvidence
from reporting.intake.eligibility import (
    RateLimits,
    Refusal,
    admission_check,
    barred_refusal,
    submission_refusal,
    suspension_refusal,
)
from reporting.intake.references import new_reference
from reporting.intake.submission import FieldError, Reporter, Submission, validate_submission
from reporting.storage.bar_list import BarList
from reporting.storage.misuse import MisuseStore
from reporting.storage.reports import ReportStore
from reporting.storage.submission_keys import EarlierSubmission, SubmissionKeys, SubmissionKeyTaken, canonical_body
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
class SubmissionKey:
    """An idempotency key with the body it came with (as the client sent it).

    API keys are the client's: the same key with another body is refused.
    A form's submission id is bound to what was typed (:meth:`for_form`):
    sent again unchanged it is the same report; edited after an error, it is
    a new report, so the edit is never lost.
    """

    key: str
    body: Mapping[str, Any]

    @classmethod
    def for_api(cls, key: str, body: Mapping[str, Any]) -> SubmissionKey:
        return cls("api:" + key, body)

    @classmethod
    def for_form(cls, submission_id: str, body: Mapping[str, Any]) -> SubmissionKey:
        return cls(f"form:{submission_id}:{canonical_body(body)}", body)


class AlreadySubmitted(Exception):
    """Another request stored a report under the same key first."""

    def __init__(self, earlier: EarlierSubmission) -> None:
        super().__init__(earlier.ref)
        self.earlier = earlier


@dataclass(frozen=True)
class Intake:
    """``normalize_wiki`` maps what a reporter typed to a known wiki's host.

    ``submit_client`` makes one quick try per wiki (no retries) while the
    reporter waits; built once so its connections are reused. With
    ``synchronous`` off (production runs the worker), only emergencies are
    attempted in the request.
    """

    reports: ReportStore
    submission_keys: SubmissionKeys
    bar_list: BarList
    misuse: MisuseStore
    limits: RateLimits
    normalize_wiki: Callable[[str], str | None]
    router: Router
    delivery: ImmediateDelivery
    report_evidence: ReportEvidence
    submit_client: WikiClient
    synchronous: bool
    # Why a typed wiki names no wiki, when more than "unknown" ("Wikipedia" alone is ambiguous).
    wiki_problem: Callable[[str], str | None] = lambda raw: None

    def barred(self, username: str) -> Refusal | None:
        return barred_refusal(self.bar_list, username)

    def standing(self, username: str) -> Standing:
        """Whether ``username`` is warned or suspended for misuse (the form and "My reports" say so)."""
        return self.misuse.standing(username)

    def check(self, data: Mapping[str, Any], reporter: Reporter, strict_fields: bool) -> Checked:
        """Validate ``data`` (every problem at once), then whether ``reporter``
        may send it now (bar list, a misuse suspension, rate limits; the
        category decides whether it is an emergency, which is never limited
        nor suspended)."""
        submission, errors = validate_submission(data, self.normalize_wiki, strict_fields=strict_fields,
                                                 wiki_problem=self.wiki_problem)
        if submission is None:
            return Checked(errors=errors)
        emergency = submission.severity == "emergency"
        refusal = submission_refusal(self.bar_list, self.reports, self.limits, reporter.username,
                                     reporter.registered, reporter.editcount, emergency=emergency)
        if not emergency and (refusal is None or refusal.code == "rate-limited"):
            # A suspension says more than "wait an hour": it is what the reporter needs to know.
            refusal = suspension_refusal(self.standing(reporter.username)) or refusal
        return Checked(submission=submission, refusal=refusal)

    def earlier(self, username: str, key: SubmissionKey) -> EarlierSubmission | None:
        """The report ``username`` already stored under ``key``, if any.

        Asked before :meth:`check`, so a repeat is answered even when the
        first report used up the day's limit.
        """
        return self.submission_keys.find(username, key.key, key.body)

    def submit(self, submission: Submission, reporter: Reporter, lang: str,
               key: SubmissionKey | None = None) -> str:
        """Store the report with its outbox row, then try to deliver it at once; return its reference.

        Emergencies are always attempted here, bounded by
        ``delivery.emergency_timeout_seconds``, before anything waits for
        wikis (their evidence facts follow as a note on the ticket); other
        reports only when ``synchronous``. Once the report is stored nothing
        here raises: the worker finishes whatever the request could not.
        Raises :class:`AlreadySubmitted` when a report under ``key`` was
        stored by another request meanwhile, and
        :class:`reporting.intake.eligibility.Refused` when the limit was used
        up meanwhile (the decisive count runs while storing, one submission
        of a reporter at a time). An emergency over its reporter's ceiling is
        stored and left to the worker: the reporter reads that it is queued.
        """
        sealed_key = self.submission_keys.seal(reporter.username, key.key, key.body) if key else None
        ref = new_reference()
        destination = self.router.destination_of(submission)
        emergency = submission.severity == "emergency"
        check = admission_check(self.limits, reporter.registered, reporter.editcount, emergency=emergency)
        try:
            stored = self.reports.create_checked(ref, submission, reporter, lang, destination, key=sealed_key,
                                                 check=check)
        except SubmissionKeyTaken:
            assert key is not None  # only keyed submissions can collide
            earlier = self.earlier(reporter.username, key)
            if earlier is None:  # purged in between: practically impossible, and safe to report as an error
                raise
            raise AlreadySubmitted(earlier) from None
        report_id = stored.report_id
        log.info("report %s stored (category %s)", ref, submission.category)
        if stored.admission.alert:
            log.warning("ALERT report %s: its reporter went over the emergency ceiling; Trust & Safety is alerted "
                        "on its ticket", ref)
        if stored.admission.deliver_later:
            # Over the emergency ceiling: the worker resolves and delivers it, in the normal lane (a flood
            # from one account must neither hold web threads on desks and wikis nor delay other
            # reporters' emergencies). The reporter reads that it is queued.
            return ref
        # After a step that raised (the database went away, a bug) the rest is the
        # worker's too: the reporter should not wait for each step to fail in turn.
        if emergency and not self._deliver_now(self.delivery.deliver_emergency, report_id, ref):
            return ref
        if submission.evidence and not self._resolve_evidence_now(report_id, ref):
            return ref
        # A local queue is the tool's own database: "delivering" there cannot fail or wait,
        # so the case is forwarded (and in the workspace) as soon as it is stored.
        if not emergency and (self.synchronous or is_local_queue(destination)):
            self._deliver_now(self.delivery.deliver, report_id, ref)
        return ref

    def resume(self, earlier: EarlierSubmission) -> None:
        """A repeated submission: try again what its first request may not have
        finished (delivery at once, for emergencies and on the embedded
        default). Never raises."""
        if earlier.status != Status.RECEIVED:
            return
        if earlier.severity == "emergency":
            self._deliver_now(self.delivery.deliver_emergency, earlier.report_id, earlier.ref)
        elif self.synchronous:
            self._deliver_now(self.delivery.deliver, earlier.report_id, earlier.ref)

    @staticmethod
    def _deliver_now(deliver: Callable[[int], bool], report_id: int, ref: str) -> bool:
        """The report is stored: a failure here (the database, a bug) is the worker's to finish.
        False when the attempt raised."""
        try:
            deliver(report_id)
        except Exception:
            log.exception("delivery of %s not attempted at submit; the worker delivers it", ref)
            return False
        return True

    def _resolve_evidence_now(self, report_id: int, ref: str) -> bool:
        """Whatever a wiki does not answer at once is left to the worker: one try per
        request, none after ``SUBMIT_EVIDENCE_SECONDS`` (the reporter is waiting).
        Never raises: the report is already stored. False when it raised."""
        try:
            client = self.submit_client.within(time.monotonic() + SUBMIT_EVIDENCE_SECONDS)
            self.report_evidence.resolve(report_id, client=client)
        except Exception:
            log.exception("evidence of %s not resolved at submit; the worker retries", ref)
            return False
        return True
