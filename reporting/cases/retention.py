"""Retention: the content of a case is wiped ``retention_days`` after its last change.

The case itself stays (reference, category, status), so its reporter still
finds it, marked as purged; only reports a desk has are ever purged.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from reporting.storage.database import utcnow
from reporting.storage.reports import ReportStore

log = logging.getLogger(__name__)


def purge_expired_reports(reports: ReportStore, retention_days: int) -> int:
    """Purge what is past retention now; return how many reports were purged."""
    purged = reports.purge_expired(utcnow() - timedelta(days=retention_days))
    if purged:
        log.info("retention: purged the content of %d reports", purged)
    return purged
