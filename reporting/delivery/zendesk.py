"""Zendesk: reports become private tickets through the Support API.

Idempotency has two layers. The ticket carries the report reference as
``external_id`` and the connector looks it up before creating, which covers
any delay between attempts; the ``Idempotency-Key`` header covers the race in
which a create succeeded but its response was lost and the lookup does not
see the ticket yet. The request body is serialised deterministically because
Zendesk rejects a repeated key with a different body.

Notes added later (follow-ups, withdrawals) have no idempotency at Zendesk
(``Idempotency-Key`` covers ticket creation only): each carries a marker,
and the ticket's comments are searched for it before the note is added.

The status sync reads tickets with ``show_many`` (up to 100 a request) and
the public comments of tickets that changed (:class:`DeskReader`).
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

import requests

from reporting.delivery.base import Delivered, PermanentFailure, TemporaryFailure, Ticket
from reporting.delivery.desk_reading import DeskMessage, DeskTicket
from reporting.delivery.http import json_object, send, short
from reporting.retry_after import parse_retry_after

PRIORITIES = frozenset({"urgent", "high", "normal", "low"})
STATUS_MAP = {
    "new": "new",
    "open": "open",
    "pending": "pending",
    "hold": "pending",
    "solved": "solved",
    "closed": "closed",
}
#: Ticket ids per ``show_many`` request (Zendesk's limit).
SHOW_MANY_LIMIT = 100
COMMENTS_PER_PAGE = 100
#: Pages of comments read at most per ticket (10,000 comments): a bound, not a limit anyone meets.
MAX_COMMENT_PAGES = 100


class ZendeskConnector:
    """A Zendesk account reached with an API token (basic auth
    ``{email}/token:{api_token}``)."""

    def __init__(
        self,
        base_url: str,
        email: str,
        api_token: str,
        group_id: int | None = None,
        tags: tuple[str, ...] | list[str] = (),
        custom_field_ref_id: int | None = None,
        timeout: float = 10.0,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.group_id = group_id
        self.tags = tuple(tags)
        self.custom_field_ref_id = custom_field_ref_id
        self.timeout = timeout
        self.session = session or requests.Session()
        self._auth = (f"{email}/token", api_token)

    # -- Connector -----------------------------------------------------------------
    def create_ticket(self, ticket: Ticket) -> Delivered:
        existing = self._find_by_reference(ticket.ref)
        if existing is not None:
            return existing
        response = self._request(
            "POST",
            "/api/v2/tickets",
            data=self._create_body(ticket),
            headers={"Content-Type": "application/json", "Idempotency-Key": f"incident-report-{ticket.ref}"},
            check=False,
        )
        if response.status_code == 400 and _error_code(response) == "IdempotentRequestError":
            # The key was used with another body: a ticket for this reference
            # was (being) created by an earlier attempt.
            existing = self._find_by_reference(ticket.ref)
            if existing is not None:
                return existing
            raise TemporaryFailure("Zendesk reports an earlier attempt for this reference that is not visible yet")
        self._raise_for_status(response)
        created = json_object(response).get("ticket")
        if not isinstance(created, dict) or not _is_id(created.get("id")):
            raise TemporaryFailure("Zendesk answered without a ticket id")
        return Delivered(ticket_id=str(created["id"]))

    def ticket_status(self, ticket_id: str) -> str | None:
        response = self._request("GET", f"/api/v2/tickets/{_ticket_id(ticket_id)}")
        shown = json_object(response).get("ticket")
        if not isinstance(shown, dict):
            raise TemporaryFailure("Zendesk answered without the ticket")
        status = shown.get("status")
        return STATUS_MAP.get(status) if isinstance(status, str) else None

    def add_followup(self, ticket: Ticket, ticket_id: str, text: str, marker: str | None = None,
                     tags: tuple[str, ...] = ()) -> None:
        ticket_id = _ticket_id(ticket_id)
        if marker is not None and any(marker in str(comment.get("body", "")) for comment in self._comments(ticket_id)):
            return  # an earlier attempt added it; its answer was lost
        update: dict[str, Any] = {"comment": {"body": text, "public": False}}
        if tags:
            update["additional_tags"] = _tags(tags)
        self._request(
            "PUT",
            f"/api/v2/tickets/{ticket_id}",
            data=json.dumps({"ticket": update}, sort_keys=True).encode("utf-8"),
            headers={"Content-Type": "application/json"},
        )

    # -- DeskReader ----------------------------------------------------------------
    batch_size = SHOW_MANY_LIMIT

    def read_tickets(self, ticket_ids: Sequence[str]) -> dict[str, DeskTicket]:
        ids = list(dict.fromkeys(_ticket_id(ticket_id) for ticket_id in ticket_ids))
        found: dict[str, DeskTicket] = {}
        for start in range(0, len(ids), SHOW_MANY_LIMIT):
            chunk = ids[start:start + SHOW_MANY_LIMIT]
            response = self._request("GET", "/api/v2/tickets/show_many", params={"ids": ",".join(chunk)})
            listed = json_object(response).get("tickets")
            if not isinstance(listed, list):
                raise TemporaryFailure("Zendesk answered show_many without a ticket list")
            for shown in listed:
                if not isinstance(shown, dict) or not _is_id(shown.get("id")) or str(shown["id"]) not in chunk:
                    continue
                tags = shown["tags"] if isinstance(shown.get("tags"), list) else []
                custom = shown.get("custom_status_id")
                found[str(shown["id"])] = DeskTicket(
                    ticket_id=str(shown["id"]), state=str(shown.get("status") or ""),
                    tags=tuple(str(tag) for tag in tags), custom_status=str(custom) if _is_id(custom) else None,
                    marker=str(shown["updated_at"]) if shown.get("updated_at") else None)
        return found

    def may_have_replies(self, ticket: DeskTicket) -> bool:
        # Zendesk: "new" means no agent has updated the ticket, and an update never returns it to "new".
        return ticket.state != "new"

    def replies(self, ticket_id: str) -> list[DeskMessage]:
        return [DeskMessage(desk_id=str(comment["id"]), body=str(comment.get("body") or ""))
                for comment in self._comments(_ticket_id(ticket_id))
                if comment.get("public") is True and _is_id(comment.get("id"))]

    def merged_into(self, ticket: DeskTicket) -> str | None:
        return None  # a merged Zendesk ticket is closed; the sync reads it like any closed ticket

    def _comments(self, ticket_id: str) -> Iterator[dict[str, Any]]:
        """Every comment of a ticket, oldest first, following Zendesk's pages
        (only pages of this very ticket on this very desk: credentials never
        follow a link elsewhere)."""
        path = f"/api/v2/tickets/{ticket_id}/comments"
        url, params = self.base_url + path, {"per_page": str(COMMENTS_PER_PAGE)}
        for _ in range(MAX_COMMENT_PAGES):
            response = send(self.session, "GET", url, timeout=self.timeout, auth=self._auth, params=params)
            self._raise_for_status(response)
            data = json_object(response)
            comments = data.get("comments")
            if not isinstance(comments, list):
                raise TemporaryFailure("Zendesk answered without a comment list")
            yield from (comment for comment in comments if isinstance(comment, dict))
            next_page = data.get("next_page")
            if not isinstance(next_page, str) or not next_page:
                return
            if not any(next_page.startswith(self.base_url + path + suffix) for suffix in ("?", ".json?")):
                raise TemporaryFailure("Zendesk pointed the next page of comments elsewhere")
            url, params = next_page, {}
        raise TemporaryFailure(f"ticket {ticket_id} has more than {MAX_COMMENT_PAGES} pages of comments")

    # -- helpers -------------------------------------------------------------------
    def _create_body(self, ticket: Ticket) -> bytes:
        if ticket.priority not in PRIORITIES:
            raise PermanentFailure(f"priority {ticket.priority!r} is not a Zendesk priority")
        payload: dict[str, object] = {
            "subject": ticket.subject,
            "comment": {"body": ticket.body, "public": False},
            "priority": ticket.priority,
            "type": "incident",
            "tags": _tags(self.tags + ticket.tags),
            "external_id": ticket.ref,
        }
        if self.group_id is not None:
            payload["group_id"] = self.group_id
        if self.custom_field_ref_id is not None:
            payload["custom_fields"] = [{"id": self.custom_field_ref_id, "value": ticket.ref}]
        return json.dumps({"ticket": payload}, sort_keys=True, separators=(",", ":")).encode("utf-8")

    def _find_by_reference(self, ref: str) -> Delivered | None:
        response = self._request("GET", "/api/v2/tickets", params={"external_id": ref})
        listed = json_object(response).get("tickets")
        if not isinstance(listed, list):
            raise TemporaryFailure("Zendesk answered the lookup without a ticket list")
        tickets = [t for t in listed if isinstance(t, dict) and t.get("external_id") == ref and _is_id(t.get("id"))]
        if not tickets:
            return None
        return Delivered(ticket_id=str(min(int(t["id"]) for t in tickets)))

    def _request(self, method: str, path: str, check: bool = True, **kwargs) -> requests.Response:
        response = send(self.session, method, self.base_url + path, timeout=self.timeout, auth=self._auth, **kwargs)
        if check:
            self._raise_for_status(response)
        return response

    @staticmethod
    def _raise_for_status(response: requests.Response) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        detail = f"Zendesk answered HTTP {status}"
        code = _error_code(response)
        if code:
            detail += f" ({short(code)})"
        if status == 429 or status == 409 or status >= 500:
            raise TemporaryFailure(detail, retry_after=retry_after)
        if 300 <= status < 400:
            location = short(response.headers.get("Location", "?"))
            raise PermanentFailure(f"{detail}: redirect to {location}; check the base URL")
        raise PermanentFailure(detail)


def _error_code(response: requests.Response) -> str | None:
    try:
        data = response.json()
    except ValueError:
        return None
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return data["error"]
    return None


def _is_id(value: object) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return value > 0
    return isinstance(value, str) and value.isdigit()


def _ticket_id(ticket_id: str) -> str:
    if not re.fullmatch(r"[0-9]+", str(ticket_id)):
        raise PermanentFailure(f"{ticket_id!r} is not a Zendesk ticket id")
    return str(ticket_id)


def _tags(tags: tuple[str, ...]) -> list[str]:
    """Zendesk splits tags on whitespace; keep each one whole and drop repeats."""
    result: list[str] = []
    for tag in tags:
        tag = re.sub(r"\s+", "_", tag.strip())
        if tag and tag not in result:
            result.append(tag)
    return result
