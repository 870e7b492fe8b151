"""Zendesk: reports become private tickets through the Support API.

Idempotency has two layers. The ticket carries the report reference as
``external_id`` and the connector looks it up before creating, which covers
any delay between attempts; the ``Idempotency-Key`` header covers the race in
which a create succeeded but its response was lost and the lookup does not
see the ticket yet. The request body is serialised deterministically because
Zendesk rejects a repeated key with a different body.
"""
from __future__ import annotations

import json
import re

import requests

from reporting.delivery.base import Delivered, PermanentFailure, TemporaryFailure, Ticket
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

    def add_followup(self, ticket: Ticket, ticket_id: str, text: str) -> None:
        body = {"ticket": {"comment": {"body": text, "public": False}}}
        self._request(
            "PUT",
            f"/api/v2/tickets/{_ticket_id(ticket_id)}",
            data=json.dumps(body, sort_keys=True).encode("utf-8"),
            headers={"Content-Type": "application/json"},
        )

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
