"""Access follows the roles a user holds now: a steward who loses the group loses the cases.

Roles come from meta (the strict fake ``globaluserinfo``) at login and again every
``roles.refresh_minutes``; each request is decided with the roles the session carries then.
"""
from __future__ import annotations

from reporting.identity import session as auth
from tests.login_helpers import csrf_of, oauth_login


def test_a_steward_who_loses_the_group_gets_404_after_the_refresh(oauth_app, wiki, meta, monkeypatch):
    alice = oauth_app.test_client()
    oauth_login(alice, wiki, "Alice")
    response = alice.post("/api/v1/reports", json={
        "wiki": "en.wikipedia.org", "category": "harassment", "description": "He insults me.",
        "share_with_functionaries": True}, headers={"X-CSRF-Token": csrf_of(alice)})
    ref = response.get_json()["ref"]
    sam = oauth_app.test_client()
    oauth_login(sam, wiki, "Steward Sam")  # steward, and checkuser on de.wikipedia.org
    now = auth.clock()
    assert sam.get(f"/api/v1/queue/{ref}").status_code == 200
    assert sam.get(f"/queue/{ref}").status_code == 200
    meta.api.accounts["Steward Sam"].groups = []  # no longer a steward
    monkeypatch.setattr(auth, "clock", lambda: now + 61 * 60)  # past roles.refresh_minutes
    assert sam.get("/api/v1/me").get_json()["roles"] == ["functionary@de.wikipedia.org"]
    assert sam.get(f"/api/v1/queue/{ref}").status_code == 404
    assert sam.get(f"/queue/{ref}").status_code == 404
    assert sam.get("/api/v1/queue").get_json()["cases"] == []  # still a functionary, of another wiki
