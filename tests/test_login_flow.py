"""The OAuth login through the Flask app, against the fake Special:OAuth and meta API."""
from __future__ import annotations

import secrets

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

import reporting
from reporting import create_app
from reporting.identity import session as auth
from reporting.config import ConfigError
from reporting.storage.crypto import generate_key

from .conftest import login, make_app
from .login_helpers import (  # noqa: F401  (fixtures)
    authorize,
    callback_path,
    csrf_of,
    meta,
    oauth_app,
    oauth_login,
    oauth_settings,
    start,
    wiki,
)

PREFILLED = "/report?wiki=de.wikipedia.org&diff=55&oldid=54&user=Troll"


def try_again_link(html: str) -> str:
    return unescape(re.search(r'id="login-again"\s+href="([^"]+)"', html).group(1))


def test_full_login_returns_to_the_prefilled_form(oauth_app, wiki):
    client = oauth_app.test_client()
    response = client.get(PREFILLED)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?returnto=")
    response = client.get(response.headers["Location"])
    assert response.status_code == 302
    redirect = response.headers["Location"]
    assert parse_qs(urlsplit(redirect).query)["title"] == ["Special:OAuth/authenticate"]
    answer = client.get(callback_path(authorize(wiki, redirect, "Alice")))
    assert answer.status_code == 302 and answer.headers["Location"] == PREFILLED
    html = client.get(PREFILLED).get_data(as_text=True)
    assert 'value="de.wikipedia.org"' in html
    assert "https://de.wikipedia.org/w/index.php?diff=55&amp;oldid=54" in html
    assert ">Troll</textarea>" in html
    me = client.get("/api/v1/me").get_json()
    assert me["username"] == "Alice" and me["roles"] == []


def test_identity_keeps_only_the_allowed_facts(oauth_app, wiki):
    client = oauth_app.test_client()
    oauth_login(client, wiki, "Blocked Bob")
    with client.session_transaction() as session:
        assert session["user"] == {"username": "Blocked Bob", "central_id": 5001, "blocked": True,
                                   "editcount": 50, "registered": "20180101000000",
                                   "confirmed_email": True, "groups": ["*", "user", "autoconfirmed"],
                                   "roles": []}
        assert session["login_method"] == "oauth"
        assert "oauth_pending" not in session


def test_requests_to_wikis_carry_the_policy_user_agent(oauth_app, wiki, meta):
    oauth_login(oauth_app.test_client(), wiki, "Alice")
    expected = (f"IncidentReporting/{reporting.__version__} (https://incident-reporting.toolforge.org; "
                f"https://example.org/incident-reporting-tests) python-requests/")
    agents = {seen["user_agent"] for seen in wiki.provider.requests_seen if seen["title"] in (
        "Special:OAuth/initiate", "Special:OAuth/token", "Special:OAuth/identify")}
    agents |= {seen["user_agent"] for seen in meta.api.requests_seen}
    assert len(agents) == 1 and agents.pop().startswith(expected)


def test_the_tool_names_its_own_callback(oauth_app, wiki):
    oauth_login(oauth_app.test_client(), wiki, "Alice")
    [token] = wiki.provider._request_tokens.values()
    assert token.callback == "http://localhost/oauth-callback"


@pytest.mark.parametrize("returnto", ["//evil.example/", "https://evil.example/", "/\\evil.example",
                                      "javascript:alert(1)", "/ok\r\nLocation: https://evil.example"])
def test_returnto_never_leaves_the_tool(oauth_app, wiki, returnto):
    client = oauth_app.test_client()
    answer = oauth_login(client, wiki, "Alice", returnto=returnto)
    assert answer.status_code == 302 and answer.headers["Location"] == "/"


def test_callback_without_a_request_token_is_refused(oauth_app, wiki):
    victim, attacker = oauth_app.test_client(), oauth_app.test_client()
    # The attacker starts a login and hands the callback link to someone else.
    redirect = start(attacker, "/reports").headers["Location"]
    link = callback_path(authorize(wiki, redirect, "Alice"))
    response = victim.get(link)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "does not belong to the login started in this browser" in html
    assert try_again_link(html) == "/login?returnto=/"
    assert victim.get("/api/v1/me").status_code == 401


def test_cancelled_authorization_offers_to_try_again_with_the_same_returnto(oauth_app, wiki):
    client = oauth_app.test_client()
    redirect = start(client, PREFILLED).headers["Location"]
    token = parse_qs(urlsplit(redirect).query)["oauth_token"][0]
    # A user who cancels and comes back to the callback by hand brings no verifier.
    response = client.get(f"/oauth-callback?oauth_token={token}")
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "You did not allow this tool" in html
    assert urlsplit(try_again_link(html)).path == "/login"
    assert parse_qs(urlsplit(try_again_link(html)).query) == {"returnto": [PREFILLED]}


def test_expired_request_token(oauth_app, wiki):
    client = oauth_app.test_client()
    redirect = start(client, "/reports").headers["Location"]
    link = callback_path(authorize(wiki, redirect, "Alice"))
    wiki.provider.advance_clock(601)
    response = client.get(link)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "The login took too long" in html and try_again_link(html) == "/login?returnto=/reports"


def test_a_callback_is_single_use(oauth_app, wiki):
    client = oauth_app.test_client()
    redirect = start(client).headers["Location"]
    link = callback_path(authorize(wiki, redirect, "Alice"))
    assert client.get(link).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_of(client)})
    assert client.get(link).status_code == 400  # no pending login any more
    assert client.get("/api/v1/me").status_code == 401


@pytest.mark.parametrize("kind", ["forged-signature", "expired", "replay-previous", "wrong-nonce",
                                  "wrong-issuer", "wrong-audience", "alg-none", "missing-sub"])
def test_forged_expired_or_replayed_identity_is_refused(oauth_app, wiki, kind):
    oauth_login(oauth_app.test_client(), wiki, "Steward Sam")  # gives "replay-previous" a JWT
    client = oauth_app.test_client()
    redirect = start(client, "/reports").headers["Location"]
    link = callback_path(authorize(wiki, redirect, "Alice"))
    wiki.provider.tamper_next_identify(kind)
    response = client.get(link)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "could not be verified" in html and try_again_link(html) == "/login?returnto=/reports"
    assert client.get("/api/v1/me").status_code == 401


def test_unreachable_wiki(tmp_path, wiki, meta):
    app = make_app(tmp_path, **oauth_settings(wiki, meta, **{"oauth.index_url": "http://127.0.0.1:9/w/index.php"}))
    response = start(app.test_client(), "/reports")
    assert response.status_code == 502
    html = response.get_data(as_text=True)
    assert "The wiki could not be reached" in html and try_again_link(html) == "/login?returnto=/reports"


def test_provider_error_for_a_wrong_consumer_secret(tmp_path, wiki, meta):
    app = make_app(tmp_path, **oauth_settings(wiki, meta, **{"oauth.consumer_secret": "wrong"}))
    response = start(app.test_client())
    assert response.status_code == 502
    assert "did not accept the login request" in response.get_data(as_text=True)


def test_session_fixation_a_cookie_from_before_login_is_not_the_session_after(oauth_app, wiki):
    client = oauth_app.test_client()
    client.get("/report")  # an anonymous session, e.g. one an attacker planted
    with client.session_transaction() as session:
        session["planted"] = "by-attacker"
        session["csrf_token"] = "attacker-knows-this-token"
    before = client.get_cookie("reporting_session").value
    oauth_login(client, wiki, "Alice")
    after = client.get_cookie("reporting_session").value
    assert before != after
    with client.session_transaction() as session:
        assert "planted" not in session and session["csrf_token"] != "attacker-knows-this-token"
    attacker = oauth_app.test_client()
    attacker.set_cookie("reporting_session", before)
    assert attacker.get("/api/v1/me").status_code == 401


def test_sessions_older_than_the_lifetime_are_refused_server_side(oauth_app, wiki, monkeypatch):
    client = oauth_app.test_client()
    oauth_login(client, wiki, "Alice")
    cookie = client.get_cookie("reporting_session").value
    assert client.get("/api/v1/me").status_code == 200
    lifetime = oauth_app.permanent_session_lifetime.total_seconds()
    start_time = auth.clock()
    monkeypatch.setattr(auth, "clock", lambda: start_time + lifetime + 1)
    # The cookie itself is re-signed on every request, so only the stored login time can tell.
    replay = oauth_app.test_client()
    replay.set_cookie("reporting_session", cookie)
    assert replay.get("/api/v1/me").status_code == 401
    assert client.get("/report").headers["Location"].startswith("/login")
    monkeypatch.setattr(auth, "clock", lambda: start_time)
    assert client.get("/api/v1/me").status_code == 401  # the expired session was cleared


def test_logout_needs_csrf_and_clears_the_session(oauth_app, wiki):
    client = oauth_app.test_client()
    oauth_login(client, wiki, "Alice")
    assert client.post("/logout").status_code == 403
    assert client.get("/api/v1/me").status_code == 200
    response = client.post("/logout", data={"csrf_token": csrf_of(client)})
    assert response.status_code == 302
    assert client.get("/api/v1/me").status_code == 401


def test_roles_are_computed_at_login(oauth_app, wiki):
    client = oauth_app.test_client()
    oauth_login(client, wiki, "Steward Sam")
    assert client.get("/api/v1/me").get_json()["roles"] == ["functionary@de.wikipedia.org", "steward"]


def test_trust_and_safety_by_configured_name_or_group(tmp_path, wiki, meta):
    meta.api.accounts["Alice"].groups = ["wmf-supportsafety"]
    app = make_app(tmp_path, **oauth_settings(wiki, meta, **{
        "roles.trust_and_safety_users": "Blocked_Bob",
        "roles.trust_and_safety_groups": "wmf-supportsafety",
        "roles.functionary_groups": '{"dewiki": ["suppress"]}'}))
    for name, roles in [("Alice", ["trust-and-safety"]), ("Blocked Bob", ["trust-and-safety"]),
                        ("Steward Sam", ["steward"])]:
        client = app.test_client()
        oauth_login(client, wiki, name)
        assert client.get("/api/v1/me").get_json()["roles"] == roles, name


def test_roles_refresh_after_the_interval_and_survive_wiki_errors(oauth_app, wiki, meta, monkeypatch):
    client = oauth_app.test_client()
    oauth_login(client, wiki, "Steward Sam")
    now = auth.clock()
    roles = lambda: client.get("/api/v1/me").get_json()["roles"]  # noqa: E731
    sam = meta.api.accounts["Steward Sam"]
    sam.groups = []  # no longer a steward
    lookups = len(meta.api.requests_seen)
    monkeypatch.setattr(auth, "clock", lambda: now + 59 * 60)
    assert roles() == ["functionary@de.wikipedia.org", "steward"]  # not yet due
    assert len(meta.api.requests_seen) == lookups
    meta.api.down = True
    monkeypatch.setattr(auth, "clock", lambda: now + 61 * 60)
    assert roles() == ["functionary@de.wikipedia.org", "steward"]  # meta failed: old roles kept
    assert len(meta.api.requests_seen) == lookups + 1
    monkeypatch.setattr(auth, "clock", lambda: now + 62 * 60)
    assert roles() == ["functionary@de.wikipedia.org", "steward"]  # no retry on every request
    assert len(meta.api.requests_seen) == lookups + 1
    meta.api.down = False
    monkeypatch.setattr(auth, "clock", lambda: now + 67 * 60)
    assert roles() == ["functionary@de.wikipedia.org"]  # retried after five minutes
    assert len(meta.api.requests_seen) == lookups + 2


def test_login_succeeds_without_roles_when_meta_is_down(oauth_app, wiki, meta, monkeypatch):
    meta.api.down = True
    client = oauth_app.test_client()
    assert oauth_login(client, wiki, "Steward Sam").status_code == 302
    assert client.get("/api/v1/me").get_json()["roles"] == []
    meta.api.down = False
    now = auth.clock()
    monkeypatch.setattr(auth, "clock", lambda: now + 301)
    assert client.get("/api/v1/me").get_json()["roles"] == ["functionary@de.wikipedia.org", "steward"]


def test_roles_are_never_taken_from_the_client(oauth_app, wiki):
    client = oauth_app.test_client()
    oauth_login(client, wiki, "Alice")
    token = csrf_of(client)
    client.get("/api/v1/me?roles=steward", headers={"X-Roles": "steward"})
    client.post("/api/v1/reports", json={"wiki": "en.wikipedia.org", "category": "harassment",
                                         "roles": ["steward"]}, headers={"X-CSRF-Token": token})
    assert client.get("/api/v1/me").get_json()["roles"] == []


def test_dev_login_roles_use_the_same_rules(tmp_path):
    app = make_app(tmp_path, **{"roles.trust_and_safety_users": "Tessa"})
    cases = [("Alice", "steward, staff", ["steward", "trust-and-safety"]),
             ("Carol", "checkuser@de.wikipedia.org, sysop@en.wikipedia.org, checkuser@evil.example",
              ["functionary@de.wikipedia.org"]),
             ("Tessa", "", ["trust-and-safety"]),
             ("Dave", "sysop", [])]
    for name, groups, roles in cases:
        client = app.test_client()
        login(client, name, groups)
        assert client.get("/api/v1/me").get_json()["roles"] == roles, name


def test_oauth_callback_is_absent_without_oauth(client):
    assert client.get("/oauth-callback?oauth_verifier=x&oauth_token=y").status_code == 404


@pytest.mark.parametrize("overrides, match", [
    ({"oauth.consumer_key": "k" * 32}, "consumer_secret"),
    ({"oauth.consumer_secret": "s" * 40}, "consumer_key"),
    ({"oauth.consumer_key": "k" * 32, "oauth.consumer_secret": "s" * 40, "dev_login": True}, "dev_login"),
])
def test_half_or_conflicting_login_configuration_is_refused(tmp_path, overrides, match):
    settings = {"secret_key": secrets.token_urlsafe(32), "encryption_key": generate_key(), "instance_path": str(tmp_path),
                "dev_login": False, **overrides}
    with pytest.raises(ConfigError, match=match):
        create_app(overrides=settings, environ={})
