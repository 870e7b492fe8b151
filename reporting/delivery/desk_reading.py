"""Reading tickets back from a desk: the small interface the status sync uses.

Only desks with an API can be read (Zendesk, Znuny); mail desks cannot be
polled, so their connectors do not implement :class:`DeskReader`. A reader
reports what the desk says in the desk's own terms (its state names, tags,
change marks); turning that into a case's status is the case lifecycle's
job (:mod:`reporting.cases.desk_states`), configurable per destination.

Readers raise :class:`reporting.delivery.base.TemporaryFailure` (with the
desk's ``Retry-After``) or ``PermanentFailure`` like every connector.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class DeskTicket:
    """One ticket as the desk describes it."""

    ticket_id: str
    state: str  # Zendesk ``status``, Znuny ``State``
    state_type: str | None = None  # Znuny ``StateType`` (new, open, closed, pending reminder, ..., merged)
    tags: tuple[str, ...] = ()  # Zendesk tags
    custom_status: str | None = None  # Zendesk ``custom_status_id``
    marker: str | None = None  # the last change: Zendesk ``updated_at``, Znuny ``Changed``
    number: str | None = None  # Znuny ``TicketNumber``

    @property
    def merged(self) -> bool:
        return self.state_type == "merged" or self.state == "merged"


@dataclass(frozen=True)
class DeskMessage:
    """A message the team wrote for the requester (never an internal note)."""

    desk_id: str  # the comment or article id
    body: str


@runtime_checkable
class DeskReader(Protocol):
    #: How many tickets one :meth:`read_tickets` request may ask for.
    batch_size: int

    def read_tickets(self, ticket_ids: Sequence[str]) -> dict[str, DeskTicket]:
        """The tickets among ``ticket_ids`` the desk shows, by id, in as few
        requests as the desk allows (at most ``batch_size`` ids each)."""
        ...

    def may_have_replies(self, ticket: DeskTicket) -> bool:
        """Whether the team may have written to the requester on ``ticket``
        (a Zendesk ticket still ``new`` has had no agent update, so its
        comments need not be read)."""
        ...

    def replies(self, ticket_id: str) -> list[DeskMessage]:
        """The team's messages meant for the requester, oldest first:
        Zendesk public comments, Znuny articles by an agent visible to the
        customer. Internal notes are never returned."""
        ...

    def merged_into(self, ticket: DeskTicket) -> str | None:
        """The id of the ticket a merged ``ticket`` was merged into, if the desk tells."""
        ...
