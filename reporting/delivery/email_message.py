"""RFC 5322 messages for mail-ingesting desks (VRTS/Znuny by email, any mailbox).

Shared by the Maildir and SMTP connectors so both write the very same bytes:
a fixed Message-ID per report, ``Auto-Submitted: auto-generated``, a subject
free of personal data, a readable text part and the ``report.json`` part.
Routing never goes into ``X-OTRS-*``/``X-Znuny-*`` headers: desks choose the
queue by recipient address.
"""
from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime
from datetime import datetime, timezone

from .base import Ticket


def build_message(ticket: Ticket, sender: str, recipient: str, date: datetime | None = None) -> EmailMessage:
    """Return the message for ``ticket``; identical input gives identical headers."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = ticket.subject
    message["Message-ID"] = ticket.message_id
    message["Date"] = format_datetime(date or datetime.now(timezone.utc))
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
