"""The tool's own queues (``local:functionaries``): reports that stay inside the tool.

A report the reporter agreed to share with their wiki's functionaries can be
routed to ``local:functionaries`` instead of an external desk. The report is
already stored in the tool's database, so "delivering" it only means ending
its outbox row (at once, in the request that stored it: :class:`reporting.intake.submit.Intake`),
and the case is ``forwarded``; the ticket id is ``local:<ref>``. The
functionaries' workspace (``/queue``, :mod:`reporting.cases.workspace`) shows
it to those :mod:`reporting.cases.access` allows. Idempotent by construction: the
same reference always gives the same ticket id and nothing is written anywhere.
"""
from __future__ import annotations

from reporting.delivery.base import Delivered, Ticket

LOCAL_QUEUES = frozenset({"functionaries"})


class LocalQueueConnector:
    """A queue inside the tool; it never fails because nothing leaves the database."""

    def __init__(self, queue: str) -> None:
        if queue not in LOCAL_QUEUES:
            raise ValueError(f"local queue {queue!r} does not exist (known: {', '.join(sorted(LOCAL_QUEUES))})")
        self.queue = queue

    def create_ticket(self, ticket: Ticket) -> Delivered:
        return Delivered(ticket_id=f"local:{ticket.ref}")

    def ticket_status(self, ticket_id: str) -> str | None:
        return None

    def add_followup(self, ticket: Ticket, ticket_id: str, text: str, marker: str | None = None,
                     tags: tuple[str, ...] = ()) -> None:
        """Follow-ups are read in the tool itself; there is no other copy to update."""
