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


# -- reading tickets back (REFERENCE.md §11) ---------------------------------------------------------


def _session(desk) -> str:
    return _post(desk, "/Session", {"UserLogin": USER, "Password": PASSWORD})["SessionID"]


def _get(desk, path, **params) -> dict:
    response = requests.get(desk.url + path, params=params, timeout=2)
    assert response.status_code == 200
    return response.json()


def test_ticketget_takes_a_comma_separated_list_or_nothing(desk, ticket):
    first = connector(desk).create_ticket(ticket).ticket_id
    second = connector(desk).create_ticket(make_ticket(ref="IR-2026-0002")).ticket_id
    session = _session(desk)
    for ids in (f"{first},{second}", f"{first} , {second}", f"{first}%2C{second}"):
        path = "/Ticket/" + ids.replace(" ", "%20")
        shown = requests.get(desk.url + path, params={"SessionID": session}, timeout=2).json()["Ticket"]
        assert [t["TicketID"] for t in shown] == [first, second], ids
        assert all("Changed" in t and "Article" not in t for t in shown)
    assert _get(desk, f"/Ticket/{first},x", SessionID=session)["Error"]["ErrorCode"] == "TicketGet.WrongStructure"
    assert _get(desk, f"/Ticket/{first},0", SessionID=session)["Error"]["ErrorCode"] == "TicketGet.WrongStructure"
    # One unreadable ticket fails the whole list, as Znuny checks every permission first.
    assert _get(desk, f"/Ticket/{first},424242", SessionID=session)["Error"]["ErrorCode"] == "TicketGet.AccessDenied"
    assert _get(desk, f"/Ticket/{first}")["Error"]["ErrorCode"] == "TicketGet.AuthFail"


def test_articles_show_sender_type_and_visibility(desk, ticket):
    ticket_id = int(connector(desk).create_ticket(ticket).ticket_id)
    desk.agent_article(ticket_id, "internal note", visible_for_customer=False)
    desk.agent_article(ticket_id, "Dear reporter")
    session = _session(desk)
    [shown] = _get(desk, f"/Ticket/{ticket_id}", SessionID=session, AllArticles=1)["Ticket"]
    assert [(a["SenderType"], a["IsVisibleForCustomer"], a["Body"][:13]) for a in shown["Article"]] == [
        ("system", 0, ticket.body[:13]), ("agent", 0, "internal note"), ("agent", 1, "Dear reporter")]
    [agent] = _get(desk, f"/Ticket/{ticket_id}", SessionID=session, AllArticles=1, ArticleSenderType="agent",
                   ArticleOrder="DESC", ArticleLimit=1)["Ticket"]
    assert [a["Body"] for a in agent["Article"]] == ["Dear reporter"]
    assert all("Attachment" not in a for a in shown["Article"])


def test_merge_leaves_state_merged_and_a_note_naming_both_numbers(desk, ticket):
    merged = int(connector(desk).create_ticket(ticket).ticket_id)
    main = int(connector(desk).create_ticket(make_ticket(ref="IR-2026-0002")).ticket_id)
    desk.merge(merged, into_ticket_id=main)
    session = _session(desk)
    [shown] = _get(desk, f"/Ticket/{merged}", SessionID=session, AllArticles=1)["Ticket"]
    assert (shown["State"], shown["StateType"]) == ("merged", "merged")
    note = shown["Article"][-1]
    assert (note["SenderType"], note["IsVisibleForCustomer"]) == ("agent", 1)
    assert desk.tickets[merged]["TicketNumber"] in note["Body"] and desk.tickets[main]["TicketNumber"] in note["Body"]
    found = _get(desk, "/Ticket", SessionID=session, TicketNumber=desk.tickets[main]["TicketNumber"])
    assert found == {"TicketID": [str(main)]}
