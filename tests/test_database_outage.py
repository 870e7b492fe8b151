"""The database goes away: honest 503s within the time limits, nothing acknowledged lost, nothing twice.

MariaDB sits behind a TCP proxy (tests/fakes/tcp_proxy.py) that the tests
switch to refusing connections (the database is down) or to a black hole
(a network split: connections held open, nothing answered), the two
failures that used to block every web thread or end in HTTP 500. SQLite's
counterpart is its write lock held by someone else for longer than the
busy timeout. Every wait is bounded by the configured timeouts (1 s here),
so each test takes seconds.
"""
from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path

import pymysql
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from reporting.storage import schema
from reporting.storage.database import is_unavailable
from tests.conftest import MARIADB, health_of, login, make_app, mariadb_database
from tests.delivery.outbox_helpers import ZENDESK_EMAIL, ZENDESK_TOKEN
from tests.fakes.tcp_proxy import TcpProxy
from tests.fakes.zendesk import FakeZendesk

TIMEOUT = 1.0
# Gone through the proxy's black hole, a request waits for the pooled
# connection's check and then for one new connection: two timeouts.
SUBMIT_BOUND = 2 * TIMEOUT + 1.5
HEALTH_BOUND = 2.0

REPORT = {"wiki": "en.wikipedia.org", "category": "harassment", "reported_users": ["Troll"],
          "evidence": [], "description": "They keep insulting me on my talk page."}
FORM = {"wiki": "en.wikipedia.org", "category": "hounding", "reported_users": "Follower",
        "evidence": "", "description": "Someone follows me to every article I edit, typed in the form."}
SUBMISSION_ID = re.compile(r'name="submission_id" value="([^"]+)"')


def timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def api_submit(client, token, body=REPORT, key: str | None = None):
    headers = {"X-CSRF-Token": token, **({"Idempotency-Key": key} if key else {})}
    return client.post("/api/v1/reports", json=body, headers=headers)


def report_count(app) -> int:
    engine = app.extensions["reporting"].stores.engine
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(schema.reports)).scalar()


def assert_unavailable_api(response):
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.headers["Retry-After"].isdigit()
    [error] = response.get_json()["errors"]
    assert error["code"] == "unavailable" and "emergency@wikimedia.org" in error["message"]


@pytest.fixture
def mariadb_url():
    yield from mariadb_database()


@pytest.fixture
def proxy():
    with TcpProxy(MARIADB["port"]) as proxy:
        yield proxy


@pytest.fixture
def desk():
    with FakeZendesk(email=ZENDESK_EMAIL, api_token=ZENDESK_TOKEN) as fake:
        yield fake


def proxied_app(tmp_path: Path, mariadb_url: str, proxy: TcpProxy, desk: FakeZendesk):
    url = str(make_url(mariadb_url).set(port=proxy.port).render_as_string(hide_password=False))
    return make_app(tmp_path, url, **{
        "database.timeout_seconds": TIMEOUT, "database.connect_timeout_seconds": TIMEOUT,
        "delivery.default": f"zendesk+http://127.0.0.1:{desk.port}", "delivery.synchronous": True,
        "delivery.zendesk_email": ZENDESK_EMAIL, "delivery.zendesk_api_token": ZENDESK_TOKEN})


def test_a_black_holed_database_answers_503_in_time_and_a_retry_with_the_same_key_is_one_report(
        tmp_path, mariadb_url, proxy, desk):
    app = proxied_app(tmp_path, mariadb_url, proxy, desk)
    client = app.test_client()
    token = login(client, "Alice")
    acknowledged = api_submit(client, token, key="before-the-split")
    assert acknowledged.status_code == 201 and acknowledged.get_json()["status"] == "forwarded"
    form_page = client.get("/report").get_data(as_text=True)
    submission_id = SUBMISSION_ID.search(form_page).group(1)

    proxy.black_hole()
    (status, health), elapsed = timed(lambda: health_of(client))
    assert elapsed <= HEALTH_BOUND and status == 503
    assert health["status"] == "error" and health["database"] is False and health["reasons"] == ["database-unreachable"]
    anonymous, elapsed = timed(lambda: app.test_client().get("/healthz"))
    assert elapsed <= HEALTH_BOUND and anonymous.status_code == 503 and anonymous.get_json() == {"status": "error"}

    response, elapsed = timed(lambda: api_submit(client, token, key="split-1"))
    assert elapsed <= SUBMIT_BOUND, f"the submit waited {elapsed:.1f} s"
    assert_unavailable_api(response)
    # The form: shown again with everything typed, its submission id and a calm message.
    page, elapsed = timed(lambda: client.post("/report", data={**FORM, "submission_id": submission_id,
                                                               "csrf_token": token, "action": "send"}))
    assert elapsed <= SUBMIT_BOUND and page.status_code == 503 and page.headers["Retry-After"].isdigit()
    html = page.get_data(as_text=True)
    assert 'id="form-unavailable"' in html and FORM["description"] in html and "Follower" in html
    assert SUBMISSION_ID.search(html).group(1) == submission_id
    # Other pages: a calm 503 page.
    mine = client.get("/reports")
    assert mine.status_code == 503 and "emergency@wikimedia.org" in mine.get_data(as_text=True)

    proxy.forward()  # the split heals
    retried = api_submit(client, token, key="split-1")
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers  # first stored now
    again = api_submit(client, token, key="split-1")
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["ref"] == retried.get_json()["ref"]
    assert again.headers["Location"] == retried.headers["Location"]
    sent = client.post("/report", data={**FORM, "submission_id": submission_id, "csrf_token": token,
                                        "action": "send"})
    assert sent.status_code == 303
    twice = client.post("/report", data={**FORM, "submission_id": submission_id, "csrf_token": token,
                                         "action": "send"})
    assert twice.status_code == 303 and twice.headers["Location"] == sent.headers["Location"]

    # Split again, this time right after the report's COMMIT reached the database.
    proxy.black_hole(after=b"COMMIT")
    lost_answer, elapsed = timed(lambda: api_submit(client, token, key="split-2"))
    assert elapsed <= SUBMIT_BOUND
    assert_unavailable_api(lost_answer)
    proxy.forward()
    assert report_count(app) == 4, "the report was committed although its client never heard"
    replayed = api_submit(client, token, key="split-2")
    assert replayed.status_code == 201 and replayed.headers["Idempotent-Replayed"] == "true"
    assert report_count(app) == 4

    # Nothing acknowledged is lost, nothing is there twice, and the desk has one ticket per report.
    acknowledged_refs = {acknowledged.get_json()["ref"], retried.get_json()["ref"], replayed.get_json()["ref"],
                         sent.headers["Location"].split("/reports/")[1].split("?")[0]}
    listed = {report["ref"]: report["status"] for report in client.get("/api/v1/reports").get_json()["reports"]}
    assert set(listed) == acknowledged_refs and set(listed.values()) == {"forwarded"}
    assert sorted(ticket["external_id"] for ticket in desk.tickets.values()) == sorted(acknowledged_refs)
    status, health = health_of(client)
    assert status == 200 and health["status"] == "ok"


def test_a_refused_database_answers_503_at_once_everywhere(tmp_path, mariadb_url, proxy, desk):
    app = proxied_app(tmp_path, mariadb_url, proxy, desk)
    client = app.test_client()
    token = login(client, "Alice")
    proxy.refuse()
    (status, health), elapsed = timed(lambda: health_of(client))
    assert status == 503 and health["status"] == "error" and elapsed < 1.0
    response, elapsed = timed(lambda: api_submit(client, token, key="refused"))
    assert_unavailable_api(response)
    assert elapsed < 1.0, "a refused connection needs no timeout"
    form = client.get("/report")  # the form still opens, and says that sending will fail for now
    assert form.status_code == 503 and 'id="form-unavailable"' in form.get_data(as_text=True)
    arabic = client.get("/report?uselang=ar").get_data(as_text=True)
    assert 'dir="rtl"' in arabic and "لا تستطيع الأداة الوصول إلى قاعدة بياناتها" in arabic
    client.get("/report?uselang=en")
    page = client.get("/reports")
    assert page.status_code == 503 and page.headers["Retry-After"].isdigit()
    assert "reporting-error-unavailable" in client.get("/reports?uselang=qqx").get_data(as_text=True)
    proxy.forward()
    assert api_submit(client, token, key="refused").status_code == 201
    assert health_of(client)[1]["status"] == "ok"


def test_a_sqlite_database_locked_longer_than_the_timeout_answers_503_and_health_still_reads(tmp_path):
    app = make_app(tmp_path, **{"database.timeout_seconds": 0.5})
    client = app.test_client()
    token = login(client, "Alice")
    holder = sqlite3.connect(Path(app.instance_path) / "reports.sqlite3", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # someone holds the write lock
        response, elapsed = timed(lambda: api_submit(client, token, key="locked"))
        assert_unavailable_api(response)
        assert elapsed < 2.0
        (status, health), elapsed = timed(lambda: health_of(client))
        assert status == 200 and health["status"] == "ok" and elapsed < 1.0  # reads need no write lock
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    first = api_submit(client, token, key="locked")
    assert first.status_code == 201
    assert api_submit(client, token, key="locked").get_json()["ref"] == first.get_json()["ref"]
    assert report_count(app) == 1


@pytest.mark.parametrize(("error", "unavailable"), [
    (OperationalError("SELECT 1", {}, sqlite3.OperationalError("database is locked")), True),
    (OperationalError("SELECT 1", {}, sqlite3.OperationalError("unable to open database file")), True),
    (OperationalError("SELECT 1", {}, sqlite3.OperationalError("no such table: reports")), False),
    (OperationalError("SELECT 1", {}, pymysql.err.OperationalError(2003, "Can't connect")), True),
    (OperationalError("SELECT 1", {}, pymysql.err.OperationalError(2013, "Lost connection")), True),
    (OperationalError("SELECT 1", {}, pymysql.err.OperationalError(1205, "Lock wait timeout")), True),
    (OperationalError("SELECT 1", {}, pymysql.err.OperationalError(1054, "Unknown column")), False),
    (IntegrityError("INSERT", {}, pymysql.err.IntegrityError(1062, "Duplicate entry")), False),
    (OperationalError("SELECT 1", {}, pymysql.err.InterfaceError(0, "")), True),
    (PoolTimeoutError("QueuePool limit reached"), True),
    (ValueError("a bug"), False),
])
def test_which_errors_mean_the_database_is_unavailable(error, unavailable):
    assert is_unavailable(error) is unavailable


def test_once_the_report_is_stored_a_failing_delivery_attempt_still_gives_the_receipt(tmp_path, monkeypatch):
    app = make_app(tmp_path)  # the embedded default delivers in the request
    components = app.extensions["reporting"]

    def database_gone(report_id, *args, **kwargs):
        raise OperationalError("UPDATE outbox", {}, sqlite3.OperationalError("database is locked"))

    monkeypatch.setattr(components.immediate, "deliver", database_gone)
    client = app.test_client()
    token = login(client, "Alice")
    response = api_submit(client, token, key="stored")
    assert response.status_code == 201 and response.get_json()["status"] == "received"
    assert report_count(app) == 1  # the worker delivers it
