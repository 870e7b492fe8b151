"""Reports: the sealed content, the routing metadata, the evidence facts.

What the reporter typed is sealed (:mod:`reporting.storage.crypto`) before
it reaches SQLAlchemy and opened only for callers that asked for one
report; the reporter is found through a keyed hash of their name.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.exc import IntegrityError

from reporting.cases.statuses import Status
from reporting.evidence.types import ResolvedLink
from reporting.intake.submission import Reporter, Submission
from reporting.storage import schema
from reporting.storage.audit import record_in
from reporting.storage.crypto import Sealer
from reporting.storage.database import flush_overwritten_pages, skips_locked_rows, utcnow
from reporting.storage.followup_rows import purge_in as purge_followups_in
from reporting.storage.outbox import OutboxState, enqueue_in
from reporting.storage.records import Report, ReportSummary, report_from_row, summary_from_row
from reporting.storage.submission_keys import SealedKey, SubmissionKeys, SubmissionKeyTaken
from reporting.storage.submission_keys import record_in as record_key_in
from reporting.storage.timeline import purge_in as purge_timeline_in

_reports = schema.reports
_PURGED_CONTENT = {"reported_users": [], "evidence": [], "description": "", "evidence_facts": [],
                   "reporter": {"username": ""}}


class ReportStore:
    def __init__(self, engine: Engine, sealer: Sealer) -> None:
        self.engine = engine
        self.sealer = sealer
        self._skip_locked = skips_locked_rows(engine)

    def create(self, ref: str, submission: Submission, reporter: Reporter, reporter_lang: str,
               destination: str, now: datetime | None = None, key: SealedKey | None = None) -> int:
        """Write the report, its outbox row and its first audit entry in ONE transaction.

        Either all exist or none does: a report is never stored without the
        row that makes the worker deliver it. With ``key`` (an idempotency
        key, :mod:`reporting.storage.submission_keys`) its row is written in
        the same transaction; if another request stored a report under that
        key first, nothing is stored and :class:`SubmissionKeyTaken` is raised.
        """
        now = now or utcnow()
        sealed = self.sealer.seal({**submission.sealed_fields(), "reporter": reporter.as_dict(),
                                   "evidence_facts": []}, ref)
        try:
            return self._insert(ref, submission, reporter, reporter_lang, destination, now, sealed, key)
        except IntegrityError:
            if key is not None and SubmissionKeys(self.engine, self.sealer).exists(key):
                raise SubmissionKeyTaken() from None
            raise

    def _insert(self, ref: str, submission: Submission, reporter: Reporter, reporter_lang: str,
                destination: str, now: datetime, sealed: bytes, key: SealedKey | None) -> int:
        with self.engine.begin() as connection:
            report_id = int(connection.execute(_reports.insert().values(  # type: ignore[index]
                ref=ref,
                created_at=now,
                updated_at=now,
                wiki=submission.wiki,
                category=submission.category,
                severity=submission.severity,
                status=Status.RECEIVED,
                share_with_functionaries=submission.share_with_functionaries,
                reporter_hash=self.sealer.index_hash(reporter.username),
                reporter_lang=reporter_lang,
                sealed=sealed,
                # Links are resolved after the report is safe; until then the
                # worker may pick them up (e.g. if this process dies).
                evidence_state="pending" if submission.evidence else "none",
                evidence_attempts=0,
                evidence_next_at=now if submission.evidence else None,
            )).inserted_primary_key[0])
            enqueue_in(connection, report_id, destination, submission.severity == "emergency", now)
            record_in(connection, report_id, "reporter", "submitted", now=now)
            if key is not None:
                record_key_in(connection, report_id, key, now)
        return report_id

    def list_of(self, username: str) -> list[ReportSummary]:
        """The reporter's own reports, newest first; nothing is decrypted."""
        query = (select(_reports.c.ref, _reports.c.created_at, _reports.c.updated_at, _reports.c.wiki,
                        _reports.c.category, _reports.c.severity, _reports.c.status)
                 .where(_reports.c.reporter_hash.in_(self.sealer.index_hashes(username)))
                 .order_by(_reports.c.created_at.desc(), _reports.c.id.desc()))
        with self.engine.connect() as connection:
            return [summary_from_row(row) for row in connection.execute(query)]

    def of_reporter(self, ref: str, username: str) -> Report | None:
        """The report ``ref`` if ``username`` filed it, else None.

        Callers MUST answer "not found" for None whatever the reason, so
        that nobody can learn whether someone else's reference exists.
        """
        query = select(_reports).where(
            _reports.c.ref == ref, _reports.c.reporter_hash.in_(self.sealer.index_hashes(username)))
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return report_from_row(self.sealer, row) if row is not None else None

    def by_id(self, report_id: int) -> Report:
        """For the tool's own jobs (delivery, evidence), which act for no user."""
        with self.engine.connect() as connection:
            row = connection.execute(select(_reports).where(_reports.c.id == report_id)).one()
        return report_from_row(self.sealer, row)

    def recent_times(self, username: str, since: datetime) -> list[datetime]:
        """Creation times of ``username``'s non-emergency reports since ``since``,
        oldest first: what the daily rate limit counts (emergencies never count)."""
        query = (select(_reports.c.created_at)
                 .where(_reports.c.reporter_hash.in_(self.sealer.index_hashes(username)),
                        _reports.c.created_at >= since, _reports.c.severity != "emergency")
                 .order_by(_reports.c.created_at))
        with self.engine.connect() as connection:
            return list(connection.execute(query).scalars())

    # -- evidence facts ----------------------------------------------------

    def _reseal(self, connection: Connection, report_id: int, change: Callable[[dict], dict]) -> None:
        """Open a report's content, change it, seal it again (inside ``connection``'s transaction)."""
        row = connection.execute(select(_reports.c.ref, _reports.c.sealed).where(_reports.c.id == report_id)).one()
        content = change(self.sealer.open(row.sealed, row.ref))
        connection.execute(update(_reports).where(_reports.c.id == report_id)
                           .values(sealed=self.sealer.seal(content, row.ref)))

    def save_evidence_facts(self, report_id: int, facts: list[ResolvedLink], state: str,
                            next_attempt_at: datetime | None, now: datetime | None = None) -> None:
        """Store what the wikis said about the evidence (sealed like the rest)."""
        with self.engine.begin() as connection:
            self._reseal(connection, report_id, lambda content: {**content, "evidence_facts": facts})
            connection.execute(update(_reports).where(_reports.c.id == report_id).values(
                evidence_state=state, evidence_next_at=next_attempt_at,
                evidence_attempts=_reports.c.evidence_attempts + 1))
            record_in(connection, report_id, "system", f"evidence:{state}", now=now)

    def claim_pending_evidence(self, now: datetime | None = None, limit: int = 10,
                               lease: timedelta = timedelta(minutes=10)) -> list[tuple[int, int]]:
        """Claim reports whose links are due for another try: (report id, attempts so far).

        Like outbox claims, a claim is a lease (``evidence_next_at`` moves
        past it), so several worker processes never resolve the same report
        at once, and a dead worker's claim simply comes due again.
        """
        now = now or utcnow()
        query = (select(_reports.c.id, _reports.c.evidence_attempts)
                 .where(_reports.c.evidence_state == "pending", _reports.c.evidence_next_at <= now,
                        _reports.c.purged_at.is_(None))
                 .order_by(_reports.c.evidence_next_at).limit(limit))
        if self._skip_locked:
            query = query.with_for_update(skip_locked=True)
        with self.engine.begin() as connection:
            rows = connection.execute(query).all()
            if rows:
                connection.execute(update(_reports).where(_reports.c.id.in_([row.id for row in rows]))
                                   .values(evidence_next_at=now + lease))
        return [(int(row.id), int(row.evidence_attempts)) for row in rows]

    # -- retention ---------------------------------------------------------

    def purge_expired(self, cutoff: datetime, now: datetime | None = None) -> int:
        """Wipe the sealed content of reports untouched since ``cutoff``.

        Only reports the desk has (any status after ``received``, no
        undelivered outbox row: neither the report nor a follow-up or
        withdrawal still on its way) are purged: retention never destroys
        something nobody has seen. Every change of a case (a status, a message,
        a follow-up, the withdrawal) restarts its clock. The case itself stays
        (reference, category, status, the timeline's entries) so its reporter
        still finds it, marked as purged; the messages and follow-ups go with
        the report's content.
        """
        now = now or utcnow()
        undelivered = select(schema.outbox.c.report_id).where(schema.outbox.c.state != OutboxState.DELIVERED)
        query = select(_reports.c.id, _reports.c.ref).where(
            _reports.c.status != Status.RECEIVED, _reports.c.updated_at < cutoff, _reports.c.purged_at.is_(None),
            _reports.c.id.not_in(undelivered))
        with self.engine.connect() as connection:
            rows = [(int(row.id), row.ref) for row in connection.execute(query)]
        for report_id, ref in rows:
            with self.engine.begin() as connection:
                self._reseal(connection, report_id, lambda content: dict(_PURGED_CONTENT))
                purge_timeline_in(connection, report_id)
                purge_followups_in(connection, self.sealer, ref, report_id)
                connection.execute(update(_reports).where(_reports.c.id == report_id).values(
                    purged_at=now, evidence_state="none", evidence_next_at=None))
                record_in(connection, report_id, "system", "purged", now=now)
        if rows:
            flush_overwritten_pages(self.engine)
        return len(rows)
