"""Reports: the sealed content, the routing metadata, the evidence facts.

What the reporter typed is sealed (:mod:`reporting.storage.crypto`) before
it reaches SQLAlchemy and opened only for callers that asked for one
report; the reporter is found through a keyed hash of their name.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, and_, exists, select, text, update
from sqlalchemy.exc import IntegrityError

from reporting.cases.statuses import Status
from reporting.evidence.types import ResolvedLink
from reporting.intake.submission import Reporter, Submission
from reporting.storage import schema
from reporting.storage.audit import record_in
from reporting.storage.crypto import Sealer
from reporting.storage.database import LockWaitTimeout, flush_overwritten_pages, skips_locked_rows, utcnow
from reporting.storage.followup_rows import purge_in as purge_followups_in
from reporting.storage.outbox import OutboxKind, OutboxState, enqueue_alert_in, enqueue_in
from reporting.storage.records import Report, ReportSummary, report_from_row, summary_from_row
from reporting.storage.submission_keys import SealedKey, SubmissionKeys, SubmissionKeyTaken
from reporting.storage.submission_keys import record_in as record_key_in
from reporting.storage.timeline import purge_in as purge_timeline_in

log = logging.getLogger(__name__)

_reports = schema.reports
_PURGED_CONTENT = {"reported_users": [], "evidence": [], "description": "", "evidence_facts": [],
                   "reporter": {"username": ""}}


@dataclass(frozen=True)
class ReporterHistory:
    """What an admission check counts: the reporter's recent reports, read in
    the new report's own transaction while no other report of theirs can be
    created (:meth:`ReportStore.create_checked`)."""

    reports: list[datetime]  # creation times of non-emergency reports since ``day_since``
    emergencies: list[datetime]  # creation times of emergency reports since ``emergency_since``
    alerted: bool  # Trust & Safety was alerted about this reporter since ``emergency_since``


@dataclass(frozen=True)
class Admission:
    """An admission check's verdict on a report it lets in. ``deliver_later``:
    the worker delivers it, in the normal lane, never the request;
    ``alert``: tell Trust & Safety (an outbox row of kind ``alert``)."""

    deliver_later: bool = False
    alert: bool = False


@dataclass(frozen=True)
class AdmissionCheck:
    """``decide`` sees the :class:`ReporterHistory` and returns an
    :class:`Admission`, or raises to refuse: nothing is stored then, and
    the exception reaches the caller of :meth:`ReportStore.create_checked`."""

    day_since: datetime
    emergency_since: datetime
    decide: Callable[[ReporterHistory], Admission]


@dataclass(frozen=True)
class Stored:
    report_id: int
    admission: Admission


#: The MariaDB lock that serialises one reporter's submissions. Lock names are
#: server-wide (ToolsDB is shared) and at most 64 characters: a SHA-256 of the
#: database's name and the reporter's keyed hash is both unique and short enough.
_LOCK_NAME = "SHA2(CONCAT(DATABASE(), ':reporter:', :reporter_hash), 256)"
_GET_LOCK = text(f"SELECT GET_LOCK({_LOCK_NAME}, :seconds)")
_RELEASE_LOCK = text(f"SELECT RELEASE_LOCK({_LOCK_NAME})")


class ReportStore:
    def __init__(self, engine: Engine, sealer: Sealer, lock_seconds: float = 8.0) -> None:
        self.engine = engine
        self.sealer = sealer
        self._skip_locked = skips_locked_rows(engine)
        self._named_locks = engine.dialect.name in ("mysql", "mariadb")
        self.lock_seconds = lock_seconds

    def create(self, ref: str, submission: Submission, reporter: Reporter, reporter_lang: str,
               destination: str, now: datetime | None = None, key: SealedKey | None = None) -> int:
        """Write the report, its outbox row and its first audit entry in ONE transaction.

        Either all exist or none does: a report is never stored without the
        row that makes the worker deliver it. With ``key`` (an idempotency
        key, :mod:`reporting.storage.submission_keys`) its row is written in
        the same transaction; if another request stored a report under that
        key first, nothing is stored and :class:`SubmissionKeyTaken` is raised.
        """
        return self.create_checked(ref, submission, reporter, reporter_lang, destination, now, key).report_id

    def create_checked(self, ref: str, submission: Submission, reporter: Reporter, reporter_lang: str,
                       destination: str, now: datetime | None = None, key: SealedKey | None = None,
                       check: AdmissionCheck | None = None) -> Stored:
        """:meth:`create`, with the reporter's limits checked in the same serialised step.

        Counting and inserting in separate transactions let parallel submits
        all count the same "9 of 10" and all insert. Here one reporter's
        creates run one at a time (:meth:`_serialised`): inside it the key is
        looked up (a repeat is answered as a repeat, even when the limit is
        used up), then ``check`` counts what is committed, then the rows are
        written. Other reporters are not held up on MariaDB; SQLite has one
        writer at a time anyway.
        """
        now = now or utcnow()
        sealed = self.sealer.seal({**submission.sealed_fields(), "reporter": reporter.as_dict(),
                                   "evidence_facts": []}, ref)
        try:
            return self._insert(ref, submission, reporter, reporter_lang, destination, now, sealed, key, check)
        except IntegrityError:
            if key is not None and SubmissionKeys(self.engine, self.sealer).exists(key):
                raise SubmissionKeyTaken() from None
            raise

    @contextmanager
    def _serialised(self, reporter_hash: str) -> Iterator[Connection]:
        """One transaction during which no other report of this reporter is created.

        SQLite: the engine begins every transaction with ``BEGIN IMMEDIATE``,
        one writer at a time. MariaDB: a named lock per reporter (``GET_LOCK``
        is not transactional), taken by the transaction's first statement and
        released on the same connection after the commit (released before it,
        the next request would count without this report). Waiting is bounded (``lock_seconds``,
        below the connection's read timeout): then :class:`LockWaitTimeout`,
        which callers treat as "the database is unavailable".
        """
        if not self._named_locks:
            with self.engine.begin() as connection:
                yield connection
            return
        names = {"reporter_hash": reporter_hash}
        with self.engine.connect() as connection:
            try:
                with connection.begin():
                    # The transaction's first statement: under READ COMMITTED each later statement
                    # reads what was committed when it runs, so the count sees the previous holder's report.
                    got = connection.execute(_GET_LOCK, {**names, "seconds": self.lock_seconds}).scalar()
                    if got != 1:
                        raise LockWaitTimeout(
                            f"a submission of the same reporter held the lock for {self.lock_seconds} s")
                    yield connection
            finally:
                try:
                    connection.execute(_RELEASE_LOCK, names)
                    connection.rollback()
                except Exception:
                    # The lock dies with the session: never hand a connection holding it back to the pool.
                    log.warning("could not release a reporter lock; dropping the connection", exc_info=True)
                    connection.invalidate()

    @staticmethod
    def _history(connection: Connection, check: AdmissionCheck, hashes: list[str]) -> ReporterHistory:
        mine = _reports.c.reporter_hash.in_(hashes)
        since = min(check.day_since, check.emergency_since)
        rows = connection.execute(select(_reports.c.created_at, _reports.c.severity)
                                  .where(mine, _reports.c.created_at >= since)
                                  .order_by(_reports.c.created_at)).all()
        outbox = schema.outbox
        alerted = connection.execute(select(exists().where(
            outbox.c.kind == OutboxKind.ALERT, outbox.c.created_at >= check.emergency_since,
            outbox.c.report_id.in_(select(_reports.c.id).where(mine, _reports.c.created_at >= check.emergency_since)))
        )).scalar()
        return ReporterHistory(
            reports=[row.created_at for row in rows
                     if row.severity != "emergency" and row.created_at >= check.day_since],
            emergencies=[row.created_at for row in rows
                         if row.severity == "emergency" and row.created_at >= check.emergency_since],
            alerted=bool(alerted))

    def _insert(self, ref: str, submission: Submission, reporter: Reporter, reporter_lang: str,
                destination: str, now: datetime, sealed: bytes, key: SealedKey | None,
                check: AdmissionCheck | None) -> Stored:
        reporter_hash = self.sealer.index_hash(reporter.username)
        with self._serialised(reporter_hash) as connection:
            if key is not None and connection.execute(select(schema.submission_keys.c.report_id).where(
                    and_(schema.submission_keys.c.reporter_hash == key.reporter_hash,
                         schema.submission_keys.c.key_hash == key.key_hash))).first() is not None:
                raise SubmissionKeyTaken()
            admission = Admission()
            if check is not None:
                admission = check.decide(self._history(connection, check, self.sealer.index_hashes(reporter.username)))
            report_id = int(connection.execute(_reports.insert().values(  # type: ignore[index]
                ref=ref,
                created_at=now,
                updated_at=now,
                wiki=submission.wiki,
                category=submission.category,
                severity=submission.severity,
                status=Status.RECEIVED,
                share_with_functionaries=submission.share_with_functionaries,
                reporter_hash=reporter_hash,
                reporter_lang=reporter_lang,
                sealed=sealed,
                # Links are resolved after the report is safe; until then the
                # worker may pick them up (e.g. if this process dies).
                evidence_state="pending" if submission.evidence else "none",
                evidence_attempts=0,
                evidence_next_at=now if submission.evidence else None,
            )).inserted_primary_key[0])
            emergency = submission.severity == "emergency"
            enqueue_in(connection, report_id, destination, emergency and not admission.deliver_later, now)
            record_in(connection, report_id, "reporter", "submitted", now=now)
            if admission.alert:
                enqueue_alert_in(connection, report_id, destination, now)
                record_in(connection, report_id, "system", "emergency-ceiling", now=now)
            if key is not None:
                record_key_in(connection, report_id, key, now)
        return Stored(report_id, admission)

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
                # The reporter's name stays (sealed): the keyed hash that finds their
                # cases can then be made again under a new key (``reporting rekey``).
                self._reseal(connection, report_id, lambda content: {
                    **_PURGED_CONTENT, "reporter": {"username": content["reporter"]["username"]}})
                purge_timeline_in(connection, report_id)
                purge_followups_in(connection, self.sealer, ref, report_id)
                connection.execute(update(_reports).where(_reports.c.id == report_id).values(
                    purged_at=now, evidence_state="none", evidence_next_at=None))
                record_in(connection, report_id, "system", "purged", now=now)
        if rows:
            flush_overwritten_pages(self.engine)
        return len(rows)
