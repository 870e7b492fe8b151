"""SmtpConnector against a real SMTP server on 127.0.0.1 (aiosmtpd)."""
from __future__ import annotations

import json
import time

import pytest

from reporting.delivery.base import PermanentFailure, TemporaryFailure
from reporting.delivery.smtp import SmtpConnector
from tests.fakes.http_server import free_port
from tests.fakes.smtp import FakeSmtp

SENDER = "tools.incident-reporting@toolforge.org"
DESK = "emergency@example.org"


@pytest.fixture
def relay():
    with FakeSmtp() as server:
        yield server


def connector(server: FakeSmtp, **changes) -> SmtpConnector:
    options = dict(host="127.0.0.1", port=server.port, sender=SENDER, recipient=DESK, timeout=0.5)
    options.update(changes)
    return SmtpConnector(**options)


def test_message_reaches_the_desk_with_fixed_headers_and_both_parts(relay, ticket):
    delivered = connector(relay).create_ticket(ticket)

    assert len(relay.received) == 1
    received = relay.received[0]
    assert received.mail_from == SENDER and received.rcpt_tos == [DESK]
    message = received.message
    assert delivered.ticket_id == ticket.message_id == message["Message-ID"]
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Subject"] == ticket.subject
    assert not [key for key in message.keys() if key.lower().startswith(("x-otrs", "x-znuny"))]
    text = message.get_body(("plain",))
    assert text.get_content().replace("\r\n", "\n") == ticket.body
    attachments = list(message.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["report.json"]
    assert json.loads(attachments[0].get_content()) == json.loads(ticket.report_json)


def test_retry_after_lost_reply_resends_the_same_message_id(relay, ticket):
    relay.lose_response()
    with pytest.raises(TemporaryFailure):
        connector(relay).create_ticket(ticket)
    connector(relay).create_ticket(ticket)
    assert [r.message["Message-ID"] for r in relay.received] == [ticket.message_id] * 2


def test_status_is_unknown_for_email(relay, ticket):
    assert connector(relay).ticket_status(ticket.message_id) is None


def test_followup_is_threaded_under_the_report(relay, ticket):
    connector(relay).add_followup(ticket, ticket.message_id, "The reporter added a link.")
    message = relay.received[0].message
    assert message["In-Reply-To"] == ticket.message_id
    assert message["References"] == ticket.message_id
    assert message["Subject"] == f"Re: {ticket.subject}"
    assert message["Message-ID"] != ticket.message_id
    assert message.get_body(preferencelist=("plain",)).get_content().strip() == "The reporter added a link."
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "report.json" and attachment.get_content() == ticket.report_json


@pytest.mark.parametrize(
    "stage, reply, failure",
    [
        ("RCPT", "550 5.1.1 no such mailbox", PermanentFailure),
        ("RCPT", "451 4.3.0 greylisted", TemporaryFailure),
        ("DATA", "554 5.6.0 rejected", PermanentFailure),
        ("DATA", "452 4.3.1 insufficient storage", TemporaryFailure),
    ],
)
def test_smtp_replies_are_classified(relay, ticket, stage, reply, failure):
    relay.reply(stage, reply)
    with pytest.raises(failure):
        connector(relay).create_ticket(ticket)
    assert relay.received == []


def test_unknown_recipient_is_permanent(ticket):
    with FakeSmtp(known_recipients={"someone-else@example.org"}) as server:
        with pytest.raises(PermanentFailure, match="550"):
            connector(server).create_ticket(ticket)


@pytest.mark.parametrize("stage", ["RCPT", "DATA"])
def test_hanging_server_times_out_quickly(relay, ticket, stage):
    relay.hang(stage, 3)
    started = time.monotonic()
    with pytest.raises(TemporaryFailure):
        connector(relay).create_ticket(ticket)
    assert time.monotonic() - started < 2


def test_connection_refused_is_temporary(ticket):
    with pytest.raises(TemporaryFailure):
        SmtpConnector("127.0.0.1", free_port(), SENDER, DESK, timeout=0.5).create_ticket(ticket)


def test_starttls_and_auth(ticket):
    with FakeSmtp(tls=True, credentials=("tool", "s3cret")) as server:
        connector(server, starttls=True, username="tool", password="s3cret",
                  ssl_context=server.client_context).create_ticket(ticket)
        assert server.auth_attempts == ["tool"]
        assert len(server.received) == 1


def test_wrong_password_is_permanent(ticket):
    with FakeSmtp(tls=True, credentials=("tool", "s3cret")) as server:
        with pytest.raises(PermanentFailure, match="535"):
            connector(server, starttls=True, username="tool", password="wrong",
                      ssl_context=server.client_context).create_ticket(ticket)
        assert server.received == []


def test_untrusted_certificate_is_permanent(ticket):
    with FakeSmtp(tls=True) as server:
        with pytest.raises(PermanentFailure, match="certificate"):
            connector(server, starttls=True).create_ticket(ticket)
        assert server.received == []


def test_starttls_required_by_server_but_not_used_is_permanent(ticket):
    with FakeSmtp(tls=True) as server:
        with pytest.raises(PermanentFailure, match="530"):
            connector(server).create_ticket(ticket)


def test_starttls_configured_but_not_offered_is_permanent(relay, ticket):
    with pytest.raises(PermanentFailure, match="STARTTLS"):
        connector(relay, starttls=True).create_ticket(ticket)


@pytest.mark.parametrize(
    "options",
    [dict(username="tool", password="pw"), dict(username="tool"), dict(password="pw", starttls=True)],
)
def test_credentials_need_starttls_and_both_parts(options):
    with pytest.raises(ValueError):
        SmtpConnector("127.0.0.1", 25, SENDER, DESK, **options)
