"""Is every report on its way to a human? The verdict of ``/healthz``, from figures alone.

Pure code: the figures come from the outbox
(:meth:`reporting.storage.outbox.OutboxStore.health_figures`, or None when
the database did not answer in time); this module only judges them, so the
rules are tested as a table.

- ``error`` (HTTP 503): the database is unreachable. Nothing can be
  stored or delivered.
- ``degraded`` (HTTP 200, so Toolforge's health check does not restart a
  web container that is not the cause): an emergency has waited longer
  than ``health.emergency_wait_minutes``, any report longer than
  ``health.report_wait_minutes``, a desk refused a report for good (an
  operator must requeue it), or rows sit on a lease that ended
  :data:`EXPIRED_LEASE_GRACE_SECONDS` ago or more without an outcome (their
  claimer died and no worker has taken them over).
- ``ok`` otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass

from reporting.config import Config, Setting, parse_positive_float, register_settings
from reporting.storage.outbox import HealthFigures

register_settings(
    Setting("health.emergency_wait_minutes", parse_positive_float, 2.0,
            "Minutes an emergency report may wait undelivered before `/healthz` says `degraded`."),
    Setting("health.report_wait_minutes", parse_positive_float, 15.0,
            "Minutes any report may wait undelivered before `/healthz` says `degraded`."),
)

#: A live worker claims a row whose lease ended within seconds (it polls
#: every 2 s); a lease ended longer ago than this has nobody coming for it.
EXPIRED_LEASE_GRACE_SECONDS = 30.0

OK = "ok"
DEGRADED = "degraded"
ERROR = "error"


@dataclass(frozen=True)
class Thresholds:
    emergency_wait_seconds: float = 120.0
    report_wait_seconds: float = 900.0
    expired_lease_grace_seconds: float = EXPIRED_LEASE_GRACE_SECONDS

    @classmethod
    def from_config(cls, config: Config) -> Thresholds:
        return cls(emergency_wait_seconds=60 * float(config["health.emergency_wait_minutes"]),
                   report_wait_seconds=60 * float(config["health.report_wait_minutes"]))


@dataclass(frozen=True)
class Verdict:
    """``status`` and the codes of every reason for it (none when ``ok``)."""

    status: str
    reasons: tuple[str, ...] = ()

    @property
    def http_status(self) -> int:
        return 503 if self.status == ERROR else 200


def judge(figures: HealthFigures | None, thresholds: Thresholds) -> Verdict:
    """The verdict on ``figures`` (None: the database did not answer)."""
    if figures is None:
        return Verdict(ERROR, ("database-unreachable",))
    reasons = []
    emergency_age = figures["oldest_pending_emergency_seconds"]
    if figures["pending_emergencies"] and emergency_age > thresholds.emergency_wait_seconds:
        reasons.append("emergency-waiting")
    if figures["pending"] and figures["oldest_pending_seconds"] > thresholds.report_wait_seconds:
        reasons.append("report-waiting")
    if figures["failed"]:
        reasons.append("delivery-failed")
    if figures["expired_leases"] and figures["oldest_expired_lease_seconds"] > thresholds.expired_lease_grace_seconds:
        reasons.append("lease-expired")
    return Verdict(DEGRADED if reasons else OK, tuple(reasons))
