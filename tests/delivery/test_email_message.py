"""message_bytes writes exactly what the email package writes for build_message."""
from __future__ import annotations

import email
import email.policy
import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reporting.delivery.email_message import build_message, message_bytes, plain_message_bytes
from tests.delivery.conftest import make_ticket

SENDER = "incident-reporting@toolforge.org"
DESK = "desk@example.org"
DATE = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def reference_bytes(data: bytes, ticket, sender: str, recipient: str, date: datetime, linesep: str) -> bytes:
    """build_message flattened by the email package, with the boundary ``data`` chose."""
    boundary = re.search(rb'boundary="([^"]+)"', data).group(1).decode("ascii")
    message = build_message(ticket, sender, recipient, date)
    message.set_boundary(boundary)
    return message.as_bytes(policy=message.policy.clone(linesep=linesep))


BODIES = [
    "",
    "one line without an end",
    "Héllo wörld — ünïcode ✓ 日本語\n",
    "x" * 200 + "\n" + "y" * 76 + "\n" + "z" * 77 + "\n",
    ".a line starting with a dot\n.\nFrom the start of a line\n",
    "trailing spaces   \ntrailing tab\t\n\n\n",
    "windows\r\nline\r\nends\r\n",
    "bare\rcarriage\rreturns",
    "form\x0cfeed and \x0bvertical tab and \u2028line separator\n",
    "=3D already looks encoded =?utf-8?q?x?= \n",
    "--===============0000000000000000000==\n",
]


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("linesep", ["\n", "\r\n"])
def test_plain_bytes_equal_the_email_packages(body, linesep):
    ticket = make_ticket(body=body, report_json=json.dumps({"description": body}, ensure_ascii=False).encode())
    data = plain_message_bytes(ticket, SENDER, DESK, DATE, linesep)
    assert data is not None
    assert data == reference_bytes(data, ticket, SENDER, DESK, DATE, linesep)


@pytest.mark.parametrize("sender, recipient, subject, plain", [
    (SENDER, DESK, "Incident report IR-1 (harassment)", True),
    ("tools.incident-reporting@toolforge.org", "a.b+c@mx-1.example.org", "EMERGENCY incident report IR-1", True),
    ("Incident Reporting <incident-reporting@toolforge.org>", DESK, "Incident report", False),
    (SENDER, "désk@example.org", "Incident report", False),
    (SENDER, "a..b@example.org", "Incident report", False),
    (SENDER, "a,b@example.org", "Incident report", False),
    (SENDER, DESK, "Rapport d'incident é", False),
    (SENDER, DESK, "two  spaces", False),
    (SENDER, DESK, " leading space", False),
    (SENDER, DESK, "=?utf-8?q?encoded?=", False),
    (SENDER, DESK, "s" * (78 - len("Subject: ")), True),
    (SENDER, DESK, "s" * (79 - len("Subject: ")), False),
])
def test_headers_the_package_would_change_take_the_package(sender, recipient, subject, plain):
    ticket = make_ticket(subject=subject)
    data = plain_message_bytes(ticket, sender, recipient, DATE, "\r\n")
    assert (data is not None) == plain
    if data is not None:
        assert data == reference_bytes(data, ticket, sender, recipient, DATE, "\r\n")
    sent = message_bytes(ticket, sender, recipient, DATE, "\r\n")
    assert sent == reference_bytes(sent, ticket, sender, recipient, DATE, "\r\n")


@pytest.mark.parametrize("date", [DATE, DATE.astimezone(timezone(timedelta(hours=-5))), DATE.replace(tzinfo=None)])
def test_dates_are_written_like_the_package_does(date):
    data = plain_message_bytes(make_ticket(), SENDER, DESK, date)
    assert data == reference_bytes(data, make_ticket(), SENDER, DESK, date, "\n")


def test_the_message_keeps_its_fixed_headers_and_parts():
    ticket = make_ticket(body="Wörds of the reporter\n")
    message = email.message_from_bytes(message_bytes(ticket, SENDER, DESK), policy=email.policy.default)
    assert message["Message-ID"] == ticket.message_id
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Subject"] == ticket.subject
    text = message.get_body(("plain",))
    assert text["Content-Transfer-Encoding"] == "quoted-printable"
    assert text.get_content() == ticket.body
    [attachment] = message.iter_attachments()
    assert attachment.get_filename() == "report.json"
    assert attachment.get_content() == ticket.report_json


PLAIN_SUBJECT = st.from_regex(r"[\x21-\x7e]{1,20}( [\x21-\x7e]{1,20}){0,3}", fullmatch=True)
ADDRESS = st.from_regex(r"[a-z0-9.+_-]{1,12}@[a-z0-9-]{1,10}(\.[a-z0-9-]{1,6}){0,2}", fullmatch=True)


@settings(max_examples=300, deadline=None)
@given(body=st.text(max_size=400), subject=st.one_of(PLAIN_SUBJECT, st.text(st.characters(max_codepoint=0x17f), max_size=90)),
       sender=ADDRESS, recipient=ADDRESS, report=st.binary(max_size=300), crlf=st.booleans())
def test_any_input_gives_the_package_bytes_or_none(body, subject, sender, recipient, report, crlf):
    linesep = "\r\n" if crlf else "\n"
    ticket = make_ticket(body=body, subject=subject, report_json=report)
    try:
        build_message(ticket, sender, recipient, DATE)
    except (ValueError, UnicodeError):  # headers the package refuses (e.g. line breaks in the subject)
        return
    data = plain_message_bytes(ticket, sender, recipient, DATE, linesep)
    if data is not None:
        assert data == reference_bytes(data, ticket, sender, recipient, DATE, linesep)
