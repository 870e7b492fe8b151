"""The small interface every delivery connector implements.

A connector knows its desk and nothing else: it receives a fully rendered
:class:`Ticket` (English text for the desk, the versioned ``report.json``) and
turns it into a ticket, an email or a queue entry. Connectors MUST be
idempotent on :attr:`Ticket.ref`: the outbox may hand the same ticket over
again after a crash between "ticket created" and "marked delivered", and the
desk must still end up with exactly one ticket.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Ticket:
    """One report, rendered for a desk.

    ``subject`` never contains personal data (no user names, no wiki page
    titles): mail subjects and ticket titles travel through systems that log
    them. ``body`` is English plain text; ``report_json`` is the machine
    readable attachment (schema documented in ``docs/report-json.md``).
    """

    ref: str
    subject: str
    body: str
    report_json: bytes
    priority: str  # "urgent" | "high" | "normal" | "low"
    category: str
    wiki: str
    emergency: bool = False
    tags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def message_id(self) -> str:
        """The fixed RFC 5322 Message-ID of this report, reused on every retry
        so that mail desks can drop duplicates."""
        return f"<report-{self.ref}@incident-reporting.toolforge.org>"


@dataclass(frozen=True)
class Delivered:
    """What the desk told us about the ticket it created (or already had)."""

    ticket_id: str
    ticket_number: str | None = None


class DeliveryError(Exception):
    """Base of the failures a connector may raise."""


class TemporaryFailure(DeliveryError):
    """The desk may accept the ticket later (timeouts, 5xx, 429, refused
    connections). ``retry_after`` is the desk's own hint in seconds, if any."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentFailure(DeliveryError):
    """The desk rejected the ticket in a way retrying will not change
    (authentication, validation). An operator must look."""


@runtime_checkable
class Connector(Protocol):
    """A desk. Implementations raise :class:`TemporaryFailure` or
    :class:`PermanentFailure`, never anything else, for desk problems.

    Runtime-checkable so that tests can assert ``isinstance(c, Connector)``
    (which checks the method names only; ``tests/test_architecture.py``
    compares the signatures too)."""

    def create_ticket(self, ticket: Ticket) -> Delivered:
        """Create the ticket, or return the existing one for ``ticket.ref``."""
        ...

    def ticket_status(self, ticket_id: str) -> str | None:
        """The desk's status normalised to new|open|pending|solved|closed,
        or None when the desk cannot tell (e.g. plain email)."""
        ...

    def add_followup(self, ticket: Ticket, ticket_id: str, text: str, marker: str | None = None,
                     tags: tuple[str, ...] = ()) -> None:
        """Append a note (never visible to anyone but the team) to an existing ticket.

        With ``marker`` (a string unique to this note, written into ``text``)
        the note reaches the desk at most once however often it is retried:
        desks without idempotency are searched for the marker first, mail
        derives its Message-ID from it. ``tags`` are added where the desk has
        tags (Zendesk) and ignored elsewhere.
        """
        ...
