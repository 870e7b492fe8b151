"""RFC 5322 messages for mail-ingesting desks (VRTS/Znuny by email, any mailbox).

Shared by the Maildir and SMTP connectors so both write the very same bytes:
a fixed Message-ID per report, ``Auto-Submitted: auto-generated``, a subject
free of personal data, a readable text part and the ``report.json`` part.
Routing never goes into ``X-OTRS-*``/``X-Znuny-*`` headers: desks choose the
queue by recipient address.

:func:`build_message` is the definition (an :class:`EmailMessage`).
:func:`message_bytes` is what connectors send: the same bytes the email
package would write for it, assembled directly, because the email package's
header registry costs the worker about as much CPU as the rest of a delivery.
It only does so when every header is one the package would write verbatim
(plain addresses, short ASCII text); anything else goes through
:func:`build_message`. The tests hold the two byte for byte.
"""
from __future__ import annotations

import binascii
import hashlib
import re
from datetime import UTC, datetime
from email import quoprimime
from email.generator import Generator
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime

from reporting.delivery.base import Ticket

_MAX_LINE: int = default_policy.max_line_length or 78  # 78, what EmailMessage folds and encodes to
_ATOMS = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
# A bare addr-spec, which the address parser writes back unchanged.
_PLAIN_ADDRESS = re.compile(rf"{_ATOMS}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")
_PLAIN_MESSAGE_ID = re.compile(rf"<{_ATOMS}@{_ATOMS}>")
# Printable ASCII words with single spaces and no encoded-word opener: unstructured
# text the header parser neither decodes nor refolds.
_PLAIN_TEXT = re.compile(r"[\x21-\x7e]+(?: [\x21-\x7e]+)*")


def build_message(ticket: Ticket, sender: str, recipient: str, date: datetime | None = None) -> EmailMessage:
    """Return the message for ``ticket``; identical input gives identical headers."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = ticket.subject
    message["Message-ID"] = ticket.message_id
    message["Date"] = format_datetime(date or datetime.now(UTC))
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(ticket.body, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_attachment(
        ticket.report_json,
        maintype="application",
        subtype="json",
        filename="report.json",
    )
    return message


def build_followup_message(
    ticket: Ticket, sender: str, recipient: str, text: str, date: datetime | None = None, marker: str | None = None
) -> EmailMessage:
    """A follow-up note threaded under the report's first message
    (``In-Reply-To`` and ``References`` are the report's Message-ID), with
    the ticket's ``report.json`` attached like the report's own message.

    Its Message-ID derives from the report reference and the note's marker
    (or, without one, its text), so retrying the same note repeats the same
    Message-ID and the desk can drop the copy.
    """
    digest = hashlib.sha256((marker or text).encode("utf-8")).hexdigest()[:20]
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = f"Re: {ticket.subject}"
    message["Message-ID"] = f"<report-{ticket.ref}-followup-{digest}@incident-reporting.toolforge.org>"
    message["In-Reply-To"] = ticket.message_id
    message["References"] = ticket.message_id
    message["Date"] = format_datetime(date or datetime.now(UTC))
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    # The case as it is now (report.json version 2: status history, follow-ups): mail desks
    # cannot ask the tool, so every message brings it along.
    message.add_attachment(ticket.report_json, maintype="application", subtype="json", filename="report.json")
    return message


def message_bytes(ticket: Ticket, sender: str, recipient: str, date: datetime | None = None,
                  linesep: str = "\n") -> bytes:
    """The serialized :func:`build_message`, lines ended by ``linesep`` (``"\\r\\n"`` for SMTP)."""
    data = plain_message_bytes(ticket, sender, recipient, date, linesep)
    if data is not None:
        return data
    message = build_message(ticket, sender, recipient, date)
    return message.as_bytes(policy=message.policy.clone(linesep=linesep))


def plain_message_bytes(ticket: Ticket, sender: str, recipient: str, date: datetime | None = None,
                        linesep: str = "\n") -> bytes | None:
    """:func:`message_bytes` without the email package, or None when a header
    needs its parsing, folding or encoding (then use :func:`build_message`).

    Mirrors what ``EmailMessage.set_content(..., cte="quoted-printable")``,
    ``add_attachment`` and ``BytesGenerator`` produce: the header order, the
    MIME-Version on the attachment, the random boundary that avoids the
    parts' text.
    """
    headers = [
        ("From", sender),
        ("To", recipient),
        ("Subject", ticket.subject),
        ("Message-ID", ticket.message_id),
        ("Date", format_datetime(date or datetime.now(UTC))),
        ("Auto-Submitted", "auto-generated"),
        ("X-Auto-Response-Suppress", "All"),
    ]
    if not (_PLAIN_ADDRESS.fullmatch(sender) and _PLAIN_ADDRESS.fullmatch(recipient)
            and _PLAIN_TEXT.fullmatch(ticket.subject) and _PLAIN_MESSAGE_ID.fullmatch(ticket.message_id)
            and all("=?" not in value and len(name) + 2 + len(value) <= _MAX_LINE for name, value in headers)):
        return None
    # What contentmanager's _encode_text does for an explicit quoted-printable.
    lines = ticket.body.encode("utf-8").splitlines()
    text = quoprimime.body_encode((b"\n".join(lines) + b"\n").decode("latin-1"), _MAX_LINE)
    # ... and its _encode_base64 for the attachment.
    chunk = _MAX_LINE // 4 * 3
    attachment = "".join(binascii.b2a_base64(ticket.report_json[start:start + chunk]).decode("ascii")
                         for start in range(0, len(ticket.report_json), chunk))
    nl = linesep
    parts = [
        _part(['Content-Type: text/plain; charset="utf-8"', "Content-Transfer-Encoding: quoted-printable"],
              text, nl),
        _part(["Content-Type: application/json", "Content-Transfer-Encoding: base64",
               'Content-Disposition: attachment; filename="report.json"', "MIME-Version: 1.0"], attachment, nl),
    ]
    # The generator picks the boundary avoiding the flattened parts, joined by its line separator.
    boundary = Generator._make_boundary(nl.join(parts))  # type: ignore[attr-defined]  # private, not in the stubs
    top = [f"{name}: {value}" for name, value in headers]
    top += ["MIME-Version: 1.0", f'Content-Type: multipart/mixed; boundary="{boundary}"']
    body = f"--{boundary}{nl}" + f"{nl}--{boundary}{nl}".join(parts) + f"{nl}--{boundary}--{nl}"
    return ("".join(line + nl for line in top) + nl + body).encode("ascii")


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _part(headers: list[str], payload: str, nl: str) -> str:
    """One flattened part: its headers, a blank line, the payload's lines
    re-ended with ``nl`` (the generator's ``_write_lines``)."""
    lines = _LINE_BREAK.split(payload)
    return "".join(line + nl for line in headers) + nl + "".join(line + nl for line in lines[:-1]) + lines[-1]
