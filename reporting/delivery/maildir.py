"""The embedded default desk: a Maildir under ``instance/``.

Lets the whole tool run with no mail server and no desk account, and lets a
developer open each delivered report as the desk would receive it. Idempotent
like every connector: the file name is derived from the report reference, so
a second delivery of the same report finds the first instead of adding one.
"""
from __future__ import annotations

import glob
import hashlib
import mailbox
import os
from collections.abc import Callable
from pathlib import Path

from reporting.delivery.base import Delivered, TemporaryFailure, Ticket
from reporting.delivery.email_message import build_followup_message, message_bytes
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
        self._write(key, lambda: message_bytes(ticket, self.sender, self.recipient))
        return Delivered(ticket_id=key)

    def _write(self, key: str, data: bytes | Callable[[], bytes]) -> None:
        """Write one message under ``key`` unless a message with that key exists."""
        try:
            for sub in ("tmp", "new", "cur"):
                private_dir(self.path / sub)
            # A reader that saw the message moved it to cur/, perhaps with an info suffix (":2,S").
            if ((self.path / "new" / key).exists() or (self.path / "cur" / key).exists()
                    or any((self.path / "cur").glob(glob.escape(key) + ":*"))):
                return
            content = data() if callable(data) else data
            # Maildir's own protocol: write to tmp/, then rename into new/ (atomic).
            tmp = self.path / "tmp" / key
            with open(tmp, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path / "new" / key)
        except OSError as error:
            raise TemporaryFailure(f"maildir: {error.strerror or error.__class__.__name__}") from None

    def ticket_status(self, ticket_id: str) -> str | None:
        return None

    def add_followup(self, ticket: Ticket, ticket_id: str, text: str, marker: str | None = None,
                     tags: tuple[str, ...] = ()) -> None:
        """A follow-up is one more message whose key is derived from its marker
        (or its text), so repeating the same follow-up stays one message."""
        digest = hashlib.sha256((marker or text).encode("utf-8")).hexdigest()[:16]
        message = build_followup_message(ticket, self.sender, self.recipient, text, marker=marker)
        self._write(f"{self._key(ticket.ref)}-followup-{digest}", message.as_bytes())

    def messages(self) -> list[mailbox.MaildirMessage]:
        """Every delivered message (tests and the developer's eyes)."""
        return list(mailbox.Maildir(self.path, create=False))
