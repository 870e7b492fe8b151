"""Follow-ups and withdrawals: stored with their outbox row, timeline entry and status change.

One transaction writes the sealed follow-up, the outbox row that takes it to
the desk, the timeline entry the reporter sees, the status change it causes
(``needs-info`` → ``in-review``; ``withdrawn``) and the audit entry: the
reporter never sees an addition the desk will not get, nor the reverse.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Engine, select, update

from reporting.cases.statuses import Source, Status, after_reporter_answer, is_open, path
from reporting.evidence.types import ResolvedLink
from reporting.storage import schema
from reporting.storage.audit import record_in
from reporting.storage.case_status import StatusConflict, change_status_in
from reporting.storage.crypto import Sealer
from reporting.storage.database import utcnow
from reporting.storage.followup_rows import (
    Followup,
    FollowupKind,
    insert_in,
    of_report_in,
    one_in,
    reseal_facts_in,
    times_since_in,
)
from reporting.storage.outbox import OutboxKind, enqueue_followup_in
from reporting.storage.timeline import Kind


class CaseClosed(Exception):
    """The case is no longer open (finished or withdrawn); nothing was stored."""


class FollowupStore:
    def __init__(self, engine: Engine, sealer: Sealer) -> None:
        self.engine = engine
        self.sealer = sealer

    def add(self, report_id: int, ref: str, kind: str, text: str, evidence: Sequence[str] = (),
            facts: Sequence[ResolvedLink] = (), now: datetime | None = None, evidence_state: str = "none",
            evidence_next_at: datetime | None = None) -> Followup:
        """Store a follow-up or withdrawal of an open case; raise :class:`CaseClosed` otherwise.

        The outbox row goes to the desk that has (or will get) the report.
        A case that changes while this runs (the status sync moved it) is
        read again once; a second change in between is a conflict the
        caller may retry.
        """
        for attempt in range(2):
            try:
                return self._add(report_id, ref, kind, text, evidence, facts, now or utcnow(), evidence_state,
                                 evidence_next_at)
            except StatusConflict:
                if attempt:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _add(self, report_id: int, ref: str, kind: str, text: str, evidence: Sequence[str],
             facts: Sequence[ResolvedLink], now: datetime, evidence_state: str,
             evidence_next_at: datetime | None) -> Followup:
        reports, outbox = schema.reports, schema.outbox
        with self.engine.begin() as connection:
            status, severity = connection.execute(select(reports.c.status, reports.c.severity)
                                                  .where(reports.c.id == report_id)).one()
            if not is_open(status):
                raise CaseClosed(ref)
            destination = connection.execute(
                select(outbox.c.destination).where(outbox.c.report_id == report_id,
                                                   outbox.c.kind == OutboxKind.REPORT)
                .order_by(outbox.c.id).limit(1)).scalar_one()
            followup_id, marker = insert_in(connection, self.sealer, ref, report_id, kind, text, evidence, facts,
                                            now=now, evidence_state=evidence_state, evidence_next_at=evidence_next_at)
            enqueue_followup_in(connection, report_id, followup_id, kind, destination, severity == "emergency", now)
            if kind == FollowupKind.WITHDRAWAL:
                steps, entry_kind = path(status, Status.WITHDRAWN), Kind.WITHDRAWAL
            else:
                steps, entry_kind = path(status, after_reporter_answer(status)), Kind.FOLLOWUP
            assert steps is not None  # an open case can always take these
            change_status_in(connection, self.sealer, ref, report_id, status, steps, Source.REPORTER, "reporter",
                             text or None, now=now, kind=entry_kind, followup_id=followup_id)
            record_in(connection, report_id, "reporter", kind, now=now)
        return Followup(id=followup_id, report_id=report_id, created_at=now, kind=kind, marker=marker, text=text,
                        evidence=tuple(evidence), evidence_facts=tuple(facts), evidence_state=evidence_state)

    def of(self, report_id: int, ref: str) -> list[Followup]:
        """A case's follow-ups and withdrawal, oldest first (decrypted: the reporter's own views)."""
        with self.engine.connect() as connection:
            return of_report_in(connection, self.sealer, ref, report_id)

    # -- evidence retries ----------------------------------------------------------

    def claim_pending_evidence(self, now: datetime | None = None, limit: int = 10,
                               lease: timedelta = timedelta(minutes=10)) -> list[tuple[int, str, str, int]]:
        """Claim follow-ups whose links are due for another try: (id, reference, wiki, attempts so far).

        A lease like the reports' evidence claims: ``evidence_next_at`` moves
        past it, so two workers never resolve the same follow-up at once.
        """
        now = now or utcnow()
        followups, reports = schema.followups, schema.reports
        query = (select(followups.c.id, reports.c.ref, reports.c.wiki, followups.c.evidence_attempts)
                 .select_from(followups.join(reports, reports.c.id == followups.c.report_id))
                 .where(followups.c.evidence_state == "pending", followups.c.evidence_next_at <= now,
                        reports.c.purged_at.is_(None))
                 .order_by(followups.c.evidence_next_at).limit(limit))
        with self.engine.begin() as connection:
            rows = connection.execute(query).all()
            if rows:
                connection.execute(update(followups).where(followups.c.id.in_([row.id for row in rows]))
                                   .values(evidence_next_at=now + lease))
        return [(int(row.id), row.ref, row.wiki, int(row.evidence_attempts)) for row in rows]

    def one(self, followup_id: int, ref: str) -> Followup:
        with self.engine.connect() as connection:
            return one_in(connection, self.sealer, ref, followup_id)

    def save_evidence_facts(self, followup_id: int, ref: str, facts: Sequence[ResolvedLink], state: str,
                            next_attempt_at: datetime | None) -> None:
        followups = schema.followups
        with self.engine.begin() as connection:
            reseal_facts_in(connection, self.sealer, ref, followup_id, facts)
            connection.execute(update(followups).where(followups.c.id == followup_id).values(
                evidence_state=state, evidence_next_at=next_attempt_at,
                evidence_attempts=followups.c.evidence_attempts + 1))

    def delivered_to(self, followup_id: int) -> tuple[str, str, int] | None:
        """(destination, ticket id, report id) once the follow-up's own row is delivered, else None."""
        outbox = schema.outbox
        with self.engine.connect() as connection:
            row = connection.execute(select(outbox.c.destination, outbox.c.ticket_id, outbox.c.report_id).where(
                outbox.c.followup_id == followup_id, outbox.c.state == "delivered")).first()
        return (row.destination, row.ticket_id, int(row.report_id)) if row is not None and row.ticket_id else None

    def recent_times(self, report_id: int, kind: str, since: datetime) -> list[datetime]:
        """When the case's follow-ups of ``kind`` since ``since`` were added: what the daily limit counts."""
        with self.engine.connect() as connection:
            return times_since_in(connection, report_id, kind, since)
