"""Rows of ``followups``: what the reporter added to a case, sealed like the report.

Plain functions inside the caller's transaction, shared by the follow-up
store (which writes a follow-up with its outbox row) and the outbox (which
opens the follow-up it delivers). A follow-up's ``text`` is the reporter's
words (for a withdrawal: the optional reason); ``evidence`` the links as
given and ``evidence_facts`` what the wikis said about them.
"""
from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select, update

from reporting.evidence.types import ResolvedLink
from reporting.storage import schema
from reporting.storage.crypto import Sealer

_followups = schema.followups
_PURGED = {"text": "", "evidence": [], "evidence_facts": []}


class FollowupKind:
    FOLLOWUP = "followup"
    WITHDRAWAL = "withdrawal"


@dataclass(frozen=True)
class Followup:
    id: int
    report_id: int
    created_at: datetime
    kind: str
    marker: str
    text: str
    evidence: tuple[str, ...] = ()
    evidence_facts: tuple[ResolvedLink, ...] = ()
    evidence_state: str = "none"  # none | resolved | pending | gave-up


def new_marker(ref: str) -> str:
    """A mark unique to one follow-up, written into the note the desk gets.

    Desks without idempotency (Zendesk comments, Znuny articles) are searched
    for it before the note is added, so a retry after a crash never adds it
    twice. It carries the case reference so agents see which case it is.
    """
    return f"{ref}-F{secrets.token_hex(6).upper()}"


def insert_in(connection: Connection, sealer: Sealer, ref: str, report_id: int, kind: str, text: str,
              evidence: Sequence[str], facts: Sequence[ResolvedLink], *, now: datetime,
              evidence_state: str = "none", evidence_next_at: datetime | None = None) -> tuple[int, str]:
    """Store one follow-up; return its id and marker."""
    marker = new_marker(ref)
    sealed = sealer.seal({"text": text, "evidence": list(evidence), "evidence_facts": list(facts)}, ref)
    followup_id = connection.execute(_followups.insert().values(
        report_id=report_id, created_at=now, kind=kind, marker=marker, sealed=sealed, evidence_state=evidence_state,
        evidence_attempts=0, evidence_next_at=evidence_next_at)).inserted_primary_key[0]  # type: ignore[index]
    return int(followup_id), marker


def reseal_facts_in(connection: Connection, sealer: Sealer, ref: str, followup_id: int,
                    facts: Sequence[ResolvedLink]) -> None:
    """Replace a follow-up's evidence facts (the rest of its content stays)."""
    content = sealer.open(connection.execute(select(_followups.c.sealed).where(_followups.c.id == followup_id))
                          .scalar_one(), ref)
    connection.execute(update(_followups).where(_followups.c.id == followup_id)
                       .values(sealed=sealer.seal({**content, "evidence_facts": list(facts)}, ref)))


def _from_row(sealer: Sealer, ref: str, row) -> Followup:
    content = sealer.open(row.sealed, ref)
    return Followup(id=int(row.id), report_id=int(row.report_id), created_at=row.created_at, kind=row.kind,
                    marker=row.marker, text=content["text"], evidence=tuple(content["evidence"]),
                    evidence_facts=tuple(content["evidence_facts"]), evidence_state=row.evidence_state)


def one_in(connection: Connection, sealer: Sealer, ref: str, followup_id: int) -> Followup:
    row = connection.execute(select(_followups).where(_followups.c.id == followup_id)).one()
    return _from_row(sealer, ref, row)


def of_report_in(connection: Connection, sealer: Sealer, ref: str, report_id: int) -> list[Followup]:
    """A case's follow-ups and withdrawal, oldest first."""
    rows = connection.execute(select(_followups).where(_followups.c.report_id == report_id)
                              .order_by(_followups.c.created_at, _followups.c.id))
    return [_from_row(sealer, ref, row) for row in rows]


def times_since_in(connection: Connection, report_id: int, kind: str, since: datetime) -> list[datetime]:
    """Creation times of a case's follow-ups of ``kind`` since ``since``, oldest first."""
    rows = connection.execute(select(_followups.c.created_at).where(
        _followups.c.report_id == report_id, _followups.c.kind == kind, _followups.c.created_at >= since)
        .order_by(_followups.c.created_at))
    return list(rows.scalars())


def exists_in(connection: Connection, report_id: int, kind: str) -> bool:
    count = connection.execute(select(func.count()).where(_followups.c.report_id == report_id,
                                                          _followups.c.kind == kind)).scalar()
    return bool(count)


def purge_in(connection: Connection, sealer: Sealer, ref: str, report_id: int) -> None:
    """Wipe what the reporter added (retention); the rows stay for the timeline."""
    connection.execute(update(_followups).where(_followups.c.report_id == report_id)
                       .values(sealed=sealer.seal(_PURGED, ref), evidence_state="none", evidence_next_at=None))
