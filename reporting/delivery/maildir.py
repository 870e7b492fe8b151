"""The embedded default desk: a Maildir under ``instance/``.

Lets the whole tool run with no mail server and no desk account, and lets a
developer open each delivered report as the desk would receive it. Idempotent
like every connector: the file name is derived from the report reference, so
a second delivery of the same report finds the first instead of adding one.
"""
from __future__ import annotations

import hashlib
import mailbox
import os
from dataclasses import replace
from pathlib import Path

from reporting.delivery.base import Delivered, TemporaryFailure, Ticket
from reporting.delivery.email_message import message_bytes
from reporting.private_paths import private_dir


class MaildirConnector:
    def __init__(self, path: str | os.PathLike, sender: str, recipient: str) -> None:
        self.path = Path(path)
        self.sender = sender
        self.recipient = recipient

    def _key(self, ref: str) -> str:
        return f"report-{ref}"

    def create_ticket(self, ticket: Ticket) -> Delivered:
        key = self._key(ticket.ref)
        try:
            for sub in ("tmp", "new", "cur"):
                private_dir(self.path / sub)
            existing = list((self.path / "new").glob(key + "*")) + \
                       list((self.path / "cur").glob(key + "*"))
            if existing:
                return Delivered(ticket_id=key)
            data = message_bytes(ticket, self.sender, self.recipient)
            # Maildir's own protocol: write to tmp/, then rename into new/ (atomic).
            tmp = self.path / "tmp" / key
            with open(tmp, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path / "new" / key)
        except OSError as error:
            raise TemporaryFailure(f"maildir: {error.strerror or error.__class__.__name__}") from None
        return Delivered(ticket_id=key)

    def ticket_status(self, ticket_id: str) -> str | None:
        return None

    def add_followup(self, ticket: Ticket, ticket_id: str, text: str) -> None:
        """A follow-up is one more message whose key is derived from its text,
        so repeating the same follow-up stays one message."""
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
        self.create_ticket(replace(ticket, ref=f"{ticket.ref}-followup-{digest}", body=text))

    def messages(self) -> list[mailbox.MaildirMessage]:
        """Every delivered message (tests and the developer's eyes)."""
        return list(mailbox.Maildir(self.path, create=False))
