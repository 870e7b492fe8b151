"""Eligibility: everyone may report; rate limits keep floods out."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import update

from reporting.storage.crypto import Sealer, generate_key
from reporting.intake.eligibility import is_new_account, rate_limit_refusal, seconds_until_allowed
from reporting.storage import schema
from reporting.intake.references import new_reference
from reporting.intake.submission import Submission
from reporting.intake.submission import Reporter
from reporting.storage import Stores
from reporting.storage.database import utcnow

from .conftest import csrf_from, login, make_app
from .login_helpers import csrf_of, meta, oauth_app, oauth_login, oauth_settings, wiki  # noqa: F401

NOW = datetime(2025, 3, 10, 12, 0, 0)
REPORT = {"wiki": "en.wikipedia.org", "category": "harassment", "reported_users": ["Troll"],
          "evidence": ["https://en.wikipedia.org/w/index.php?diff=123"], "description": "Insults again"}
EMERGENCY = {**REPORT, "category": "threat-of-violence"}


@pytest.mark.parametrize("registered, editcount, new", [
    ("20250310110000", 5, True),     # an hour old
    ("20250309120001", 5, True),     # just under a day
    ("20250309115959", 5, False),    # just over a day
    ("20100101000000", 0, True),     # old, but never edited
    ("20100101000000", None, False),  # edit count unknown (development login)
    (None, 3, False),                # accounts from before 2005 have no registration date
    ("garbage", 3, False),
])
def test_new_accounts(registered, editcount, new):
    assert is_new_account(registered, editcount, NOW) is new


@pytest.mark.parametrize("ages_hours, limit, expected", [
    ([], 3, None),
    ([1, 2], 3, None),
    ([1, 2, 3], 3, 21 * 3600),          # the oldest (3 h ago) leaves the window in 21 h
    ([23.5, 1, 2], 3, 30 * 60),
    ([5, 4, 3, 2, 1], 3, 21 * 3600),    # five in the window: the third oldest must leave
    ([0], 1, 24 * 3600),
])
def test_seconds_until_allowed(ages_hours, limit, expected):
    recent = [NOW - timedelta(hours=h) for h in ages_hours]
    assert seconds_until_allowed(recent, limit, NOW) == expected


@pytest.mark.parametrize("seconds, key, params", [
    (1, "reporting-rate-limited-minutes", (1,)),
    (61, "reporting-rate-limited-minutes", (2,)),
    (3599, "reporting-rate-limited-minutes", (60,)),
    (3600, "reporting-rate-limited-hours", (1,)),
    (86400, "reporting-rate-limited-hours", (24,)),
])
def test_refusal_wording(seconds, key, params):
    refusal = rate_limit_refusal(seconds)
    assert (refusal.status, refusal.code, refusal.message_key, refusal.params, refusal.retry_after) == \
        (429, "rate-limited", key, params, seconds)


def test_store_counts_the_reporters_non_emergency_reports_of_the_last_24_hours(database_url):
    store = Stores.open(database_url, Sealer(generate_key()))
    store.migrate()
    try:
        def file(username, hours_ago, category="harassment"):
            submission = Submission(wiki="en.wikipedia.org", category=category, reported_users=(),
                                    evidence=(), description="", share_with_functionaries=False)
            store.reports.create(new_reference(), submission, Reporter(username), "en", "maildir:/x",
                                now=NOW - timedelta(hours=hours_ago))
        file("Alice", 30)                       # outside the window
        file("Alice", 20)
        file("Alice", 2)
        file("Alice", 1, "self-harm")           # emergency: never counted
        file("Bob", 1)
        assert store.reports.recent_times("Alice", since=NOW - timedelta(hours=24)) == \
            [NOW - timedelta(hours=20), NOW - timedelta(hours=2)]
        assert store.reports.recent_times("Carol", since=NOW - timedelta(hours=24)) == []
    finally:
        store.engine.dispose()


def post_api(client, token, body):
    return client.post("/api/v1/reports", json=body, headers={"X-CSRF-Token": token})


def test_api_answers_429_with_retry_after_and_a_localized_message(tmp_path):
    app = make_app(tmp_path, **{"rate_limit.per_day": 2})
    client = app.test_client()
    token = login(client, "Alice")
    assert [post_api(client, token, REPORT).status_code for _ in range(2)] == [201, 201]
    response = post_api(client, token, REPORT)
    assert response.status_code == 429
    retry_after = int(response.headers["Retry-After"])
    assert 24 * 3600 - 60 <= retry_after <= 24 * 3600
    [error] = response.get_json()["errors"]
    assert error["code"] == "rate-limited"
    # (The wording of "24 hours" is PLURAL's job; the message names the hours.)
    assert "this tool accepts only a few reports" in error["message"] and "24" in error["message"]
    assert len(client.get("/api/v1/reports").get_json()["reports"]) == 2


def test_emergencies_are_never_limited(tmp_path):
    app = make_app(tmp_path, **{"rate_limit.per_day": 1})
    client = app.test_client()
    token = login(client, "Alice")
    assert post_api(client, token, REPORT).status_code == 201
    assert post_api(client, token, REPORT).status_code == 429
    assert [post_api(client, token, EMERGENCY).status_code for _ in range(3)] == [201, 201, 201]
    # ... and do not use up the limit either: still exactly one non-emergency report counted.
    assert post_api(client, token, REPORT).status_code == 429


def test_the_form_is_shown_again_with_what_was_typed(tmp_path):
    app = make_app(tmp_path, **{"rate_limit.per_day": 1})
    client = app.test_client()
    login(client, "Alice")

    def submit(description):
        token = csrf_from(client.get("/report").get_data(as_text=True))
        return client.post("/report", data={"csrf_token": token, "wiki": "en.wikipedia.org",
                                            "category": "harassment", "reported_users": "Troll",
                                            "evidence": "https://en.wikipedia.org/w/index.php?diff=9",
                                            "description": description})

    assert submit("first").status_code == 303
    response = submit("Second report, typed with care: <ÄÖÜ>")
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 23 * 3600
    html = response.get_data(as_text=True)
    refusal = html.split('id="form-refusal"', 1)[1].split("</div>", 1)[0]
    assert "this tool accepts only a few reports" in refusal and "24" in refusal
    assert "Second report, typed with care: &lt;ÄÖÜ&gt;</textarea>" in html
    assert 'value="en.wikipedia.org"' in html and ">Troll</textarea>" in html


def test_blocked_and_brand_new_users_can_report_and_the_report_records_it(oauth_app, wiki):
    expected = {"Blocked Bob": (True, 50, True), "Newbie": (False, 0, False)}
    for username, (blocked, editcount, confirmed) in expected.items():
        client = oauth_app.test_client()
        oauth_login(client, wiki, username)
        response = post_api(client, csrf_of(client), REPORT)
        assert response.status_code == 201, response.get_json()
        report = oauth_app.extensions["reporting"].stores.reports.of_reporter(response.get_json()["ref"], username)
        reporter = report.reporter
        assert (reporter.blocked, reporter.editcount, reporter.confirmed_email) == (blocked, editcount, confirmed)
        assert reporter.central_id in (5001, 7001) and reporter.registered


def test_new_accounts_have_the_stricter_limit(tmp_path, wiki, meta):
    app = make_app(tmp_path, **oauth_settings(wiki, meta, **{"rate_limit.per_day": 5,
                                                             "rate_limit.new_account_per_day": 2}))
    limits = {}
    for username in ("Newbie", "Alice"):
        client = app.test_client()
        oauth_login(client, wiki, username)
        token = csrf_of(client)
        statuses = [post_api(client, token, REPORT).status_code for _ in range(6)]
        limits[username] = statuses.count(201)
        assert statuses[limits[username]:] == [429] * (6 - limits[username])
    assert limits == {"Newbie": 2, "Alice": 5}


def test_the_limit_counts_from_the_database_not_the_session(tmp_path):
    app = make_app(tmp_path, **{"rate_limit.per_day": 1})
    first, second = app.test_client(), app.test_client()
    assert post_api(first, login(first, "Alice"), REPORT).status_code == 201
    # Logging in again (a fresh session) does not reset the count.
    assert post_api(second, login(second, "Alice"), REPORT).status_code == 429
    # A report from more than 24 hours ago no longer counts.
    store = app.extensions["reporting"].stores
    with store.engine.begin() as connection:
        connection.execute(update(schema.reports).values(created_at=utcnow() - timedelta(hours=25)))
    assert post_api(second, login(second, "Alice"), REPORT).status_code == 201
