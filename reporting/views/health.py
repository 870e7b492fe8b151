"""``/healthz``: what Toolforge's health check and operators ask.

Anyone gets the status word: ``ok``, ``degraded`` (HTTP 200) or ``error``
(HTTP 503); see :mod:`reporting.delivery.health` for when. The figures
behind it (how many reports wait, how many emergencies, for how long) say
something about the people who report, so they are shown only to the
trust-and-safety role and to monitors that send the operator token from
the configuration (``health.token``) as ``Authorization: Bearer <token>``.

The answer never waits for report work: the database half runs in
:class:`reporting.delivery.health_probe.HealthProbe`, bounded, on a
connection of its own.
"""
from __future__ import annotations

import hmac
from typing import Any, NotRequired, TypedDict

from flask import Blueprint, jsonify, request

from reporting.config import Setting, register_settings
from reporting.delivery.health import Thresholds, judge
from reporting.delivery.health_probe import HealthProbe
from reporting.identity.roles import TRUST_AND_SAFETY
from reporting.identity.session import current_user
from reporting.storage.outbox import HealthFigures

MIN_TOKEN_CHARS = 20


def parse_token(value: Any) -> str:
    token = str(value).strip()
    if len(token) < MIN_TOKEN_CHARS:
        raise ValueError(f"expected at least {MIN_TOKEN_CHARS} characters (a random string)")
    return token


register_settings(
    Setting("health.token", parse_token, None,
            "Operator token: `/healthz` shows the figures behind its status to requests with "
            "`Authorization: Bearer <token>` (at least 20 characters; the trust-and-safety role sees them "
            "without).", secret=True),
)


class HealthThresholds(TypedDict):
    emergency_wait_seconds: float
    report_wait_seconds: float
    expired_lease_grace_seconds: float


class HealthAnswer(TypedDict):
    """The body of ``/healthz``; everything but ``status`` only for the privileged."""

    status: str
    reasons: NotRequired[list[str]]
    database: NotRequired[bool]
    outbox: NotRequired[HealthFigures | None]
    thresholds: NotRequired[HealthThresholds]


def _bearer_matches(token: str | None) -> bool:
    given = request.headers.get("Authorization", "")
    if not token or not given.startswith("Bearer "):
        return False
    return hmac.compare_digest(given[len("Bearer "):].strip().encode("utf-8"), token.encode("utf-8"))


def may_see_figures(token: str | None) -> bool:
    """The operator token (compared in constant time), or the trust-and-safety role."""
    if _bearer_matches(token):
        return True
    user = current_user()
    return user is not None and TRUST_AND_SAFETY in user.roles


def create_blueprint(probe: HealthProbe, thresholds: Thresholds, token: str | None) -> Blueprint:
    bp = Blueprint("health", __name__)

    @bp.get("/healthz")
    def healthz() -> Any:
        figures = probe.figures()
        verdict = judge(figures, thresholds)
        answer: HealthAnswer = {"status": verdict.status}
        if may_see_figures(token):
            answer = {"status": verdict.status, "reasons": list(verdict.reasons), "database": figures is not None,
                      "outbox": figures,
                      "thresholds": {"emergency_wait_seconds": thresholds.emergency_wait_seconds,
                                     "report_wait_seconds": thresholds.report_wait_seconds,
                                     "expired_lease_grace_seconds": thresholds.expired_lease_grace_seconds}}
        return jsonify(answer), verdict.http_status, {"Cache-Control": "no-store"}

    return bp
