"""The strict local Zendesk (tests/fakes/zendesk.py) refuses what Zendesk refuses.

These pin the fake itself, driven over HTTP without the connector, so that the
connector tests in tests/delivery/test_zendesk.py mean something.
"""
from __future__ import annotations

import json

import pytest
import requests

from tests.fakes.zendesk import AGENT_EMAIL, AGENT_TOKEN, standard_desk

EMAIL, TOKEN = AGENT_EMAIL, AGENT_TOKEN


@pytest.fixture
def desk():
    with standard_desk() as fake:
        yield fake


def test_fake_rejects_the_same_key_with_another_body(desk):
    """The fake is strict about Idempotency-Key like Zendesk; the connector,
    on that answer, finds the earlier ticket by reference (tests/delivery/test_zendesk.py)."""
    auth = (f"{EMAIL}/token", TOKEN)
    headers = {"Idempotency-Key": "k1", "Content-Type": "application/json"}
    first = requests.post(desk.base_url + "/api/v2/tickets", auth=auth, headers=headers,
                          data=json.dumps({"ticket": {"comment": {"body": "a"}}}), timeout=2)
    again = requests.post(desk.base_url + "/api/v2/tickets", auth=auth, headers=headers,
                          data=json.dumps({"ticket": {"comment": {"body": "a"}}}), timeout=2)
    other = requests.post(desk.base_url + "/api/v2/tickets", auth=auth, headers=headers,
                          data=json.dumps({"ticket": {"comment": {"body": "b"}}}), timeout=2)
    assert first.status_code == 201 and first.headers["x-idempotency-lookup"] == "miss"
    assert again.status_code == 201 and again.headers["x-idempotency-lookup"] == "hit"
    assert again.json() == first.json()
    assert other.status_code == 400 and other.json()["error"] == "IdempotentRequestError"
    assert desk.tickets_created == 1


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("POST", "/api/v2/tickets", {"ticket": {"subject": "no comment"}}),
        ("POST", "/api/v2/tickets", {"ticket": {"comment": {"body": "x"}, "priority": "critical"}}),
        ("POST", "/api/v2/tickets", {"ticket": {"comment": {"body": "x"}, "tags": ["two words"]}}),
        ("POST", "/api/v2/tickets", {"ticket": {"comment": {"body": "x"}, "colour": "red"}}),
        ("POST", "/api/v2/tickets", {"tickets": [{"comment": {"body": "x"}}]}),
    ],
)
def test_fake_rejects_malformed_tickets(desk, method, path, body):
    response = requests.request(method, desk.base_url + path, auth=(f"{EMAIL}/token", TOKEN), json=body, timeout=2)
    assert response.status_code in (400, 422)
    assert desk.tickets_created == 0


@pytest.mark.parametrize(
    "auth",
    [None, (EMAIL, TOKEN), (f"{EMAIL}/token", "wrong"), ("other@example.org/token", TOKEN)],
)
def test_fake_requires_token_auth(desk, auth):
    response = requests.post(desk.base_url + "/api/v2/tickets", auth=auth, json={"ticket": {"comment": {"body": "x"}}}, timeout=2)
    assert response.status_code == 401


def test_fake_rejects_unknown_routes(desk):
    response = requests.get(desk.base_url + "/api/v2/users", auth=(f"{EMAIL}/token", TOKEN), timeout=2)
    assert response.status_code == 404


# -- reading tickets back (REFERENCE.md §11) ---------------------------------------------------------


def _ticket(desk, body="report") -> int:
    response = requests.post(desk.base_url + "/api/v2/tickets", auth=(f"{EMAIL}/token", TOKEN),
                             json={"ticket": {"comment": {"body": body, "public": False}}}, timeout=2)
    return response.json()["ticket"]["id"]


def _get(desk, path, **params):
    return requests.get(desk.base_url + path, auth=(f"{EMAIL}/token", TOKEN), params=params, timeout=2)


def test_show_many_returns_the_known_tickets_of_at_most_100_ids(desk):
    first, second = _ticket(desk), _ticket(desk)
    response = _get(desk, "/api/v2/tickets/show_many", ids=f"{first},999999,{second}")
    assert response.status_code == 200
    tickets = response.json()["tickets"]
    assert [t["id"] for t in tickets] == [first, second]
    assert all(t["status"] == "new" and t["updated_at"].endswith("Z") for t in tickets)
    assert _get(desk, "/api/v2/tickets/show_many", ids=",".join(str(n) for n in range(1, 101))).status_code == 200
    for ids in (",".join(str(n) for n in range(1, 102)), "1,two", "", "1;2"):
        assert _get(desk, "/api/v2/tickets/show_many", ids=ids).status_code == 400, ids
    assert requests.get(desk.base_url + f"/api/v2/tickets/show_many?ids={first}", timeout=2).status_code == 401


def test_comments_carry_the_public_flag_and_page_like_zendesk(desk):
    ticket = _ticket(desk)
    desk.agent_comment(ticket, "internal", public=False)
    for number in range(3):
        desk.agent_comment(ticket, f"reply {number}")
    first = _get(desk, f"/api/v2/tickets/{ticket}/comments", per_page=2).json()
    assert [(c["body"], c["public"]) for c in first["comments"]] == [("report", False), ("internal", False)]
    assert first["count"] == 5 and first["next_page"].startswith(desk.base_url + f"/api/v2/tickets/{ticket}/comments")
    second = requests.get(first["next_page"], auth=(f"{EMAIL}/token", TOKEN), timeout=2).json()
    assert [c["body"] for c in second["comments"]] == ["reply 0", "reply 1"]
    assert {"id", "body", "public", "author_id", "created_at"} <= set(second["comments"][0])
    assert _get(desk, f"/api/v2/tickets/{ticket}/comments", per_page=101).status_code == 400
    assert _get(desk, "/api/v2/tickets/424242/comments").status_code == 404


def test_updates_take_comments_statuses_and_additional_tags_only(desk):
    ticket = _ticket(desk)
    auth = (f"{EMAIL}/token", TOKEN)
    url = desk.base_url + f"/api/v2/tickets/{ticket}"
    before = desk.tickets[ticket]["updated_at"]
    ok = requests.put(url, auth=auth, json={"ticket": {"comment": {"body": "note", "public": False},
                                                       "additional_tags": ["withdrawn-by-reporter"]}}, timeout=2)
    assert ok.status_code == 200 and "withdrawn-by-reporter" in desk.tickets[ticket]["tags"]
    assert desk.tickets[ticket]["updated_at"] >= before
    for bad in ({"comment": {"body": "x", "public": "no"}}, {"additional_tags": ["two words"]},
                {"status": "archived"}, {"assignee": "me"}, {"comment": {"body": "  "}}):
        assert requests.put(url, auth=auth, json={"ticket": bad}, timeout=2).status_code == 422, bad
    assert len(desk.comments_of(ticket)) == 2
