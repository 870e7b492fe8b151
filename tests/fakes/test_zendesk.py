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
