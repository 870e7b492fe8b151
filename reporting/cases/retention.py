"""Retention: the content of a case is wiped ``retention_days`` after its last change.

The case itself stays (reference, category, status), so its reporter still
finds it, marked as purged; only reports a desk has are ever purged. The
audit log is kept per person for as long: older entries become monthly
counts per action, and suspensions that ended that long ago are forgotten.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from reporting.storage.audit_review import AuditReview
from reporting.storage.database import utcnow
from reporting.storage.misuse import MisuseStore
from reporting.storage.reports import ReportStore

log = logging.getLogger(__name__)


def purge_expired_reports(reports: ReportStore, retention_days: int) -> int:
    """Purge what is past retention now; return how many reports were purged."""
    purged = reports.purge_expired(utcnow() - timedelta(days=retention_days))
    if purged:
        log.info("retention: purged the content of %d reports", purged)
    return purged


def forget_old_oversight_records(audit: AuditReview, misuse: MisuseStore, retention_days: int) -> tuple[int, int]:
    """Aggregate audit entries past retention and forget long-ended suspensions; return both counts."""
    cutoff = utcnow() - timedelta(days=retention_days)
    aggregated = audit.aggregate_before(cutoff)
    forgotten = misuse.purge_ended(cutoff)
    if aggregated or forgotten:
        log.info("retention: %d audit entries aggregated, %d ended suspensions forgotten", aggregated, forgotten)
    return aggregated, forgotten
