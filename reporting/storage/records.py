"""What the stores hand out: a report's summary, the opened report, a claimed delivery.

Rows become records here, in one place, so every store opens sealed
content the same way.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reporting.evidence.types import ResolvedLink
from reporting.intake.submission import Reporter
from reporting.storage.crypto import Sealer


@dataclass(frozen=True)
class ReportSummary:
    """What "My reports" lists: routing metadata only, readable without decryption."""

    ref: str
    created_at: datetime
    updated_at: datetime
    wiki: str
    category: str
    severity: str
    status: str


@dataclass(frozen=True)
class Report:
    """One report with its opened (decrypted) content."""

    id: int
    summary: ReportSummary
    share_with_functionaries: bool
    reporter_lang: str
    reporter: Reporter
    reported_users: tuple[str, ...]
    evidence: tuple[str, ...]
    description: str
    evidence_facts: tuple[ResolvedLink, ...] = ()
    evidence_state: str = "none"
    purged: bool = False

    def __getattr__(self, name: str) -> Any:
        # ref, wiki, category, ... read through to the summary.
        return getattr(self.summary, name)


@dataclass(frozen=True)
class OutboxItem:
    """A claimed delivery: its claimer owns it until the lease ends.

    ``open_report`` opens the report that the claim read in its own
    transaction, so a delivery needs no transaction of its own to read it.
    It decrypts only when called: a report that cannot be opened then fails
    inside the delivery, which retries it like any other failure.
    """

    id: int
    report_id: int
    ref: str
    destination: str
    priority: int
    attempts: int
    open_report: Callable[[], Report] = field(repr=False, compare=False, kw_only=True)
    # "report" (create the ticket), "followup" or "withdrawal" (a note on it, ``followup_id``).
    kind: str = field(default="report", kw_only=True)
    followup_id: int | None = field(default=None, kw_only=True)


def summary_from_row(row: Any) -> ReportSummary:
    return ReportSummary(ref=row.ref, created_at=row.created_at, updated_at=row.updated_at, wiki=row.wiki,
                         category=row.category, severity=row.severity, status=row.status)


def report_from_row(sealer: Sealer, row: Any) -> Report:
    """Open a ``reports`` row (all columns)."""
    content = sealer.open(row.sealed, row.ref)
    return Report(
        id=int(row.id),
        summary=summary_from_row(row),
        share_with_functionaries=bool(row.share_with_functionaries),
        reporter_lang=row.reporter_lang,
        reporter=Reporter(**content["reporter"]),
        reported_users=tuple(content["reported_users"]),
        evidence=tuple(content["evidence"]),
        description=content["description"],
        evidence_facts=tuple(content.get("evidence_facts", ())),
        evidence_state=row.evidence_state,
        purged=row.purged_at is not None,
    )
