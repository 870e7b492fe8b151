"""``/healthz`` tells the truth, quickly, and shows its figures only to those who may see them.

The verdict rules are a table over figures (reporting/delivery/health.py);
the situations are produced for real on SQLite and MariaDB and read back
through the endpoint. The database being down or black-holed is in
tests/test_database_outage.py.
"""
from __future__ import annotations

import threading
import time
from contextlib import ExitStack
from datetime import timedelta

import pytest

from reporting.delivery.health import Thresholds, Verdict, judge
from reporting.delivery.health_probe import HealthProbe
from reporting.intake.references import new_reference
from reporting.intake.submission import Reporter
from reporting.storage.database import utcnow
from tests.conftest import HEALTH_TOKEN, health_of, login, make_app
from tests.delivery.outbox_helpers import submission

QUIET = {"pending": 0, "failed": 0, "retrying": 0, "oldest_pending_seconds": 0.0, "pending_emergencies": 0,
         "oldest_pending_emergency_seconds": 0.0, "expired_leases": 0, "oldest_expired_lease_seconds": 0.0}


def figures(**changes):
    return {**QUIET, **changes}


@pytest.mark.parametrize(("situation", "verdict"), [
    (None, Verdict("error", ("database-unreachable",))),
    (figures(), Verdict("ok")),
    (figures(pending=3, oldest_pending_seconds=899), Verdict("ok")),
    (figures(pending=3, oldest_pending_seconds=901), Verdict("degraded", ("report-waiting",))),
    (figures(pending=1, oldest_pending_seconds=119, pending_emergencies=1, oldest_pending_emergency_seconds=119),
     Verdict("ok")),
    (figures(pending=1, oldest_pending_seconds=121, pending_emergencies=1, oldest_pending_emergency_seconds=121),
     Verdict("degraded", ("emergency-waiting",))),
    (figures(pending=2, oldest_pending_seconds=1000, pending_emergencies=1, oldest_pending_emergency_seconds=1000),
     Verdict("degraded", ("emergency-waiting", "report-waiting"))),
    (figures(failed=1), Verdict("degraded", ("delivery-failed",))),
    (figures(pending=4, oldest_pending_seconds=60, retrying=4), Verdict("ok")),  # a desk blip: retries take it
    (figures(pending=1, oldest_pending_seconds=60, expired_leases=1, oldest_expired_lease_seconds=29), Verdict("ok")),
    (figures(pending=1, oldest_pending_seconds=60, expired_leases=1, oldest_expired_lease_seconds=31),
     Verdict("degraded", ("lease-expired",))),
    (figures(pending=2, oldest_pending_seconds=950, failed=1, pending_emergencies=1,
             oldest_pending_emergency_seconds=950, expired_leases=1, oldest_expired_lease_seconds=300),
     Verdict("degraded", ("emergency-waiting", "report-waiting", "delivery-failed", "lease-expired"))),
])
def test_the_verdict_on_figures(situation, verdict):
    assert judge(situation, Thresholds()) == verdict
    assert verdict.http_status == (503 if verdict.status == "error" else 200)


def test_thresholds_come_from_the_configuration(tmp_path):
    app = make_app(tmp_path, **{"health.emergency_wait_minutes": 0.5, "health.report_wait_minutes": 1})
    _, body = health_of(app.test_client())
    assert body["thresholds"]["emergency_wait_seconds"] == 30 and body["thresholds"]["report_wait_seconds"] == 60


# -- who sees what ---------------------------------------------------------------------------------


def test_anonymous_callers_and_reporters_get_the_status_word_only(tmp_path):
    app = make_app(tmp_path, **{"delivery.synchronous": False})
    store = app.extensions["reporting"].stores
    store.reports.create(new_reference(), submission("self-harm"), Reporter("R"), "en", "maildir:x")
    anonymous = app.test_client().get("/healthz")
    assert anonymous.get_json() == {"status": "ok"} and anonymous.headers["Cache-Control"] == "no-store"
    reporter = app.test_client()
    login(reporter, "Alice")
    assert reporter.get("/healthz").get_json() == {"status": "ok"}
    for wrong in ("Bearer not-the-token-but-long-enough", f"Basic {HEALTH_TOKEN}", f"Bearer {HEALTH_TOKEN}x", ""):
        assert app.test_client().get("/healthz", headers={"Authorization": wrong}).get_json() == {"status": "ok"}


def test_trust_and_safety_and_the_operator_token_see_the_figures(tmp_path):
    app = make_app(tmp_path, **{"delivery.synchronous": False})
    store = app.extensions["reporting"].stores
    store.reports.create(new_reference(), submission("self-harm"), Reporter("R"), "en", "maildir:x")
    staff = app.test_client()
    login(staff, "Trusty", groups="staff")  # the default trust-and-safety group
    for status, body in (health_of(staff, token=None), health_of(app.test_client())):
        assert status == 200 and body["status"] == "ok" and body["database"] is True and body["reasons"] == []
        assert body["outbox"]["pending"] == 1 and body["outbox"]["pending_emergencies"] == 1


def test_without_a_configured_token_no_bearer_opens_the_figures(tmp_path):
    app = make_app(tmp_path, **{"health.token": None})
    assert health_of(app.test_client())[1] == {"status": "ok"}
    assert app.test_client().get("/healthz", headers={"Authorization": "Bearer "}).get_json() == {"status": "ok"}


def test_a_short_operator_token_is_refused_at_start(tmp_path):
    from reporting.config import ConfigError

    with pytest.raises(ConfigError, match="health.token"):
        make_app(tmp_path, **{"health.token": "short"})


# -- the situations, on both databases ---------------------------------------------------------------


@pytest.fixture
def app(tmp_path, database_url):
    app = make_app(tmp_path, database_url, **{"delivery.synchronous": False})
    # These tests are about the verdict on the figures; how long the probe waits for a database
    # that stalls has tests of its own (below). On a busy CI machine a fresh MariaDB connection
    # once took over the 1.5 s the probe allows, which turned "ok" into "error".
    app.extensions["reporting"].health.wait_seconds = 15.0
    return app


def store_report(app, category="harassment", minutes_ago=0.0):
    store = app.extensions["reporting"].stores
    now = utcnow() - timedelta(minutes=minutes_ago)
    report_id = store.reports.create(new_reference(), submission(category), Reporter("R"), "en", "maildir:x", now=now)
    return store, report_id


def test_an_emergency_waiting_over_two_minutes_degrades(app):
    store_report(app, "threat-of-violence", minutes_ago=1.5)
    assert health_of(app.test_client())[1]["status"] == "ok"
    store_report(app, "threat-of-violence", minutes_ago=2.5)
    status, body = health_of(app.test_client())
    assert status == 200 and body["status"] == "degraded" and body["reasons"] == ["emergency-waiting"]
    assert body["outbox"]["pending_emergencies"] == 2 and 145 < body["outbox"]["oldest_pending_emergency_seconds"] < 200
    assert app.test_client().get("/healthz").get_json() == {"status": "degraded"}


def test_a_report_waiting_over_fifteen_minutes_degrades(app):
    store_report(app, minutes_ago=14)
    assert health_of(app.test_client())[1]["status"] == "ok"
    store_report(app, minutes_ago=16)
    status, body = health_of(app.test_client())
    assert status == 200 and body["reasons"] == ["report-waiting"] and body["outbox"]["pending"] == 2


def test_a_permanently_failed_row_degrades_until_it_is_delivered(app):
    store, report_id = store_report(app)
    item = store.outbox.claim_report(report_id)
    store.outbox.mark_failed(item, "HTTP 401 from the desk")
    status, body = health_of(app.test_client())
    assert status == 200 and body["reasons"] == ["delivery-failed"] and body["outbox"]["failed"] == 1


def test_rows_on_an_expired_lease_degrade_and_retrying_rows_are_counted(app):
    store, report_id = store_report(app, minutes_ago=3)
    # Claimed a minute ago for one second by a worker that then died.
    assert store.outbox.claim_due(now=utcnow() - timedelta(seconds=61), limit=1, lease=timedelta(seconds=1))
    status, body = health_of(app.test_client())
    assert body["reasons"] == ["lease-expired"]
    assert body["outbox"]["expired_leases"] == 1 and 55 < body["outbox"]["oldest_expired_lease_seconds"] < 120
    # Another worker takes it over and the desk fails: the row is retrying, which is no alarm by itself.
    [item] = store.outbox.claim_due(limit=1)
    store.outbox.mark_retry(item, "HTTP 503 from the desk", utcnow() + timedelta(seconds=30))
    status, body = health_of(app.test_client())
    assert body["status"] == "ok" and body["outbox"]["retrying"] == 1 and body["outbox"]["expired_leases"] == 0


def test_health_does_not_wait_for_a_connection_the_tool_s_own_work_holds(app):
    """Every pooled connection busy (report work): health reads on its own connection."""
    engine = app.extensions["reporting"].stores.engine
    with ExitStack() as held:
        for _ in range(engine.pool.size() + engine.pool._max_overflow):  # type: ignore[attr-defined]
            held.enter_context(engine.connect())
        started = time.monotonic()
        status, body = health_of(app.test_client())
        assert status == 200 and body["status"] == "ok" and time.monotonic() - started < 1.0


# -- the probe ----------------------------------------------------------------------------------------


def test_the_probe_runs_one_check_at_a_time_and_waits_a_bounded_time():
    release = threading.Event()
    calls = []

    def slow_check():
        calls.append(1)
        release.wait(10)
        return figures()

    probe = HealthProbe(slow_check, wait_seconds=0.3)
    answers: list = []
    askers = [threading.Thread(target=lambda: answers.append(probe.figures())) for _ in range(5)]
    started = time.monotonic()
    for asker in askers:
        asker.start()
    for asker in askers:
        asker.join(5)
    assert answers == [None] * 5 and time.monotonic() - started < 1.5
    assert len(calls) == 1 and probe.checks_started == 1, "requests joined the check in flight"
    assert probe.figures() is None and len(calls) == 1  # still the same, stuck check
    release.set()
    time.sleep(0.05)
    assert probe.figures() == figures() and probe.checks_started == 2


def test_a_failing_check_means_error():
    def broken():
        raise OSError("connection refused")

    probe = HealthProbe(broken, wait_seconds=1)
    assert probe.figures() is None
    assert judge(probe.figures(), Thresholds()).status == "error"
