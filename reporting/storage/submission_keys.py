"""Idempotency keys of submissions: the same submission sent twice is one report.

A client that did not hear the answer to a submit (a timeout, a 503 while
the database was unreachable, a double click) cannot know whether the
report was stored. It sends the same key again: if a report was stored
under it, that report is the answer, and nothing is stored twice.

The key row is written in the report's own transaction
(:meth:`reporting.storage.reports.ReportStore.create` calls
:func:`record_in`), so a key names a stored report or nothing. Two requests
racing with one key are decided by the primary key (reporter, key): the
second transaction fails as a whole and raises :class:`SubmissionKeyTaken`.

Only keyed hashes are stored (:meth:`reporting.storage.crypto.Sealer.keyed_hashes`):
of the reporter, of the key, and of the body, whose hash tells a repeat of
the same body from a different one. Rows are kept :data:`KEEP` and then
purged by the worker's housekeeping.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, delete, select

from reporting.storage import schema
from reporting.storage.crypto import Sealer
from reporting.storage.database import utcnow

KEEP = timedelta(hours=24)

_keys = schema.submission_keys
_KEY_PURPOSE = "submission-key"
_BODY_PURPOSE = "submission-body"


class SubmissionKeyTaken(Exception):
    """Another request stored a report under the same key first; ask :meth:`SubmissionKeys.find`."""


@dataclass(frozen=True)
class SealedKey:
    """The hashes a key row stores."""

    reporter_hash: str
    key_hash: str
    body_hash: str


@dataclass(frozen=True)
class EarlierSubmission:
    """The report stored under a key, and whether it was sent with the same body."""

    report_id: int
    ref: str
    severity: str
    status: str
    same_body: bool


def canonical_body(body: Mapping[str, Any]) -> str:
    """One text per body whatever the order of its keys."""
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def record_in(connection: Connection, report_id: int, sealed: SealedKey, now: datetime) -> None:
    """Write the key row inside the caller's transaction (the report's own)."""
    connection.execute(_keys.insert().values(
        reporter_hash=sealed.reporter_hash, key_hash=sealed.key_hash, body_hash=sealed.body_hash,
        report_id=report_id, created_at=now))


class SubmissionKeys:
    def __init__(self, engine: Engine, sealer: Sealer) -> None:
        self.engine = engine
        self.sealer = sealer

    def seal(self, username: str, key: str, body: Mapping[str, Any]) -> SealedKey:
        """The row to store for ``username``'s ``key`` sent with ``body`` (hashes under the newest key)."""
        return SealedKey(reporter_hash=self.sealer.index_hash(username),
                         key_hash=self.sealer.keyed_hashes(_KEY_PURPOSE, key)[0],
                         body_hash=self.sealer.keyed_hashes(_BODY_PURPOSE, canonical_body(body))[0])

    def find(self, username: str, key: str, body: Mapping[str, Any]) -> EarlierSubmission | None:
        """The report ``username`` stored under ``key``, if any (found across key rotations)."""
        reports = schema.reports
        query = (select(_keys.c.body_hash, _keys.c.report_id, reports.c.ref, reports.c.severity, reports.c.status)
                 .join(reports, reports.c.id == _keys.c.report_id)
                 .where(_keys.c.reporter_hash.in_(self.sealer.index_hashes(username)),
                        _keys.c.key_hash.in_(self.sealer.keyed_hashes(_KEY_PURPOSE, key)))
                 .limit(1))
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        if row is None:
            return None
        same = row.body_hash in self.sealer.keyed_hashes(_BODY_PURPOSE, canonical_body(body))
        return EarlierSubmission(report_id=int(row.report_id), ref=row.ref, severity=row.severity,
                                 status=row.status, same_body=same)

    def exists(self, sealed: SealedKey) -> bool:
        with self.engine.connect() as connection:
            return connection.execute(select(_keys.c.report_id).where(
                _keys.c.reporter_hash == sealed.reporter_hash, _keys.c.key_hash == sealed.key_hash)).first() is not None

    def purge(self, now: datetime | None = None) -> int:
        """Forget keys older than :data:`KEEP`; return how many."""
        cutoff = (now or utcnow()) - KEEP
        with self.engine.begin() as connection:
            return connection.execute(delete(_keys).where(_keys.c.created_at < cutoff)).rowcount
