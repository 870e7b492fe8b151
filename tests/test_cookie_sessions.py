"""The session cookie read from memory is read as Flask reads it (reporting/views/sessions.py).

Remembering a checked cookie must not let anything through that checking it again would refuse:
a changed or foreign cookie, one past the session lifetime; and one request's changes to its
session never show in another's.
"""
from __future__ import annotations

import time

from reporting.views.sessions import MAX_KEPT_HEADER, CookieSessions
from tests.conftest import login, make_app

COOKIE = "reporting_session"


def cookie_of(client) -> str:
    return client.get_cookie(COOKIE).value


def test_a_remembered_cookie_still_opens_its_session_and_a_changed_one_does_not(tmp_path):
    app = make_app(tmp_path)
    assert isinstance(app.session_interface, CookieSessions)
    client = app.test_client()
    login(client, "Alice")
    for _ in range(3):
        assert client.get("/api/v1/me").get_json()["username"] == "Alice"
    value = cookie_of(client)
    other = app.test_client()
    other.set_cookie(COOKIE, value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert other.get("/api/v1/me").status_code == 401
    foreign = make_app(tmp_path / "other").test_client()  # another secret key
    foreign.set_cookie(COOKIE, value)
    assert foreign.get("/api/v1/me").status_code == 401


def test_a_long_cookie_header_opens_its_session_every_time_without_being_kept(tmp_path):
    """Other cookies besides the session's make the header long: verified on every request, not
    remembered (the cache is keyed by the whole header and must stay small)."""
    app = make_app(tmp_path)
    client = app.test_client()
    login(client, "Alice")
    client.set_cookie("other", "x" * MAX_KEPT_HEADER)
    kept = len(app.session_interface._verified)
    for _ in range(2):
        assert client.get("/api/v1/me").get_json()["username"] == "Alice"
    assert len(app.session_interface._verified) == kept
    assert all(len(header) <= MAX_KEPT_HEADER for header in app.session_interface._verified)
    client.delete_cookie("other")
    assert client.get("/api/v1/me").get_json()["username"] == "Alice"
    assert f"{COOKIE}={cookie_of(client)}" in app.session_interface._verified  # a short one is kept


def test_a_remembered_cookie_expires_with_the_session_lifetime(tmp_path, monkeypatch):
    app = make_app(tmp_path, session_lifetime_hours=1)
    client = app.test_client()
    login(client, "Alice")
    assert client.get("/api/v1/me").status_code == 200  # checked, and remembered
    later = time.time() + 2 * 3600
    monkeypatch.setattr(time, "time", lambda: later)
    assert client.get("/api/v1/me").status_code == 401


def test_one_request_s_changes_stay_in_its_own_session(tmp_path):
    app = make_app(tmp_path)
    first = app.test_client()
    login(first, "Alice")
    value = cookie_of(first)
    second = app.test_client()
    second.set_cookie(COOKIE, value)  # the same cookie, in another browser tab or process
    assert first.get("/report?uselang=ar").status_code == 200  # changes the first client's session
    assert 'lang="ar"' in first.get("/report").get_data(as_text=True)
    assert 'lang="en"' in second.get("/report").get_data(as_text=True)


def test_static_files_never_carry_the_cookie(tmp_path):
    app = make_app(tmp_path)
    client = app.test_client()
    login(client, "Alice")
    page = client.get("/report").get_data(as_text=True)
    asset = page.split('rel="stylesheet" href="')[1].split('"')[0]
    response = client.get(asset)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers and "Cookie" not in response.headers.get("Vary", "")
