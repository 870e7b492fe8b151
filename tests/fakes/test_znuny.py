"""The strict local Znuny web service (tests/fakes/znuny.py) answers like Znuny's REST transport.

These pin the fake itself, mostly driven over HTTP without the connector, so
that the connector tests in tests/delivery/test_znuny.py mean something.
"""
from __future__ import annotations

import json

import pytest
import requests

from reporting.delivery.znuny import ZnunyConnector
from tests.delivery.conftest import make_ticket
from tests.fakes.znuny import FakeZnuny

USER, PASSWORD, QUEUE = "reporting-bot", "agent-password", "Trust and Safety"


@pytest.fixture
def desk():
    with FakeZnuny(users={USER: PASSWORD}, queues={QUEUE}) as fake:
        yield fake


@pytest.fixture
def ticket():
    return make_ticket()


def connector(desk: FakeZnuny) -> ZnunyConnector:
    return ZnunyConnector(base_url=desk.url, user_login=USER, password=PASSWORD, queue=QUEUE, timeout=0.5)


def _post(desk: FakeZnuny, path: str, body: object) -> dict:
    response = requests.post(desk.url + path, data=json.dumps(body), headers={"Content-Type": "application/json"}, timeout=2)
    assert response.status_code == 200
    return response.json()


def _valid_create(session_id: str) -> dict:
    return {
        "SessionID": session_id,
        "Ticket": {"Title": "t", "Queue": QUEUE, "State": "new", "Priority": "3 normal", "CustomerUser": "a@example.org"},
        "Article": {"Subject": "s", "Body": "b", "ContentType": "text/plain; charset=utf-8"},
    }


@pytest.mark.parametrize(
    "change, code",
    [
        (lambda b: b.pop("SessionID"), "TicketCreate.MissingParameter"),
        (lambda b: b.update(SessionID="bogus"), "TicketCreate.AuthFail"),
        (lambda b: b.pop("Article"), "TicketCreate.MissingParameter"),
        (lambda b: b["Ticket"].pop("Title"), "TicketCreate.MissingParameter"),
        (lambda b: b["Ticket"].pop("Queue"), "TicketCreate.MissingParameter"),
        (lambda b: b["Ticket"].update(Priority="urgent"), "TicketCreate.InvalidParameter"),
        (lambda b: b["Article"].pop("ContentType"), "TicketCreate.MissingParameter"),
        (lambda b: b.update(DynamicField=[{"Name": "Unknown", "Value": "x"}]), "TicketCreate.InvalidParameter"),
        (lambda b: b.update(Attachment=[{"Content": "***", "ContentType": "a/b", "Filename": "f"}]), "TicketCreate.InvalidParameter"),
    ],
)
def test_fake_rejects_bad_creates_with_http_200_errors(desk, change, code):
    session_id = _post(desk, "/Session", {"UserLogin": USER, "Password": PASSWORD})["SessionID"]
    body = _valid_create(session_id)
    assert "TicketID" in _post(desk, "/Ticket", body)
    body = _valid_create(session_id)
    change(body)
    assert _post(desk, "/Ticket", body)["Error"]["ErrorCode"] == code
    assert desk.tickets_created == 1


def test_fake_ignores_get_bodies_and_plain_dynamic_field_values(desk, ticket):
    connector(desk).create_ticket(ticket)
    session_id = _post(desk, "/Session", {"UserLogin": USER, "Password": PASSWORD})["SessionID"]
    with_body = requests.get(desk.url + "/Ticket/501", data=json.dumps({"SessionID": session_id}), timeout=2)
    assert with_body.json()["Error"]["ErrorCode"] == "TicketGet.AuthFail"
    plain = requests.get(desk.url + "/Ticket", params={"SessionID": session_id, "DynamicField_IncidentReportRef": "nope"}, timeout=2)
    assert plain.json() == {"TicketID": ["501"]}


def test_fake_answers_unknown_routes_like_the_rest_transport(desk):
    response = requests.delete(desk.url + "/Ticket/1", timeout=2)
    assert response.status_code == 500 and b"determine Operation" in response.content
