"""A strict local Zendesk: the parts of the Support API the connector uses.

Implemented as documented (REFERENCE.md §6, §11): ``POST /api/v2/tickets`` with
``Idempotency-Key`` (a repeat returns the first result with
``x-idempotency-lookup: hit``; the same key with another body is 400
``IdempotentRequestError``), ``GET /api/v2/tickets/{id}``,
``GET /api/v2/tickets?external_id=``, ``PUT /api/v2/tickets/{id}`` with a
comment (``public`` true or false), ``status`` and ``additional_tags``;
``GET /api/v2/tickets/show_many?ids=1,2,3`` (at most 100 integer ids, else
400; unknown ids are left out) and ``GET /api/v2/tickets/{id}/comments``
(``per_page`` at most 100, ``page``, with ``next_page`` links). Tickets carry
``updated_at`` to the second, as Zendesk's do, moved by every change.
Requests without API-token basic auth (``{email}/token:{token}``) get 401;
malformed tickets get 400/422 like the real one; unknown routes 404.

Usage::

    with FakeZendesk(email="bot@example.org", api_token="t0k", groups={42}) as desk:
        connector = ZendeskConnector(desk.base_url, ...)
        desk.rate_limit(retry_after=7)     # next request: 429 + Retry-After
        desk.tickets_created               # how many tickets exist
        desk.set_status(1001, "pending")   # what an agent does
        desk.agent_comment(1001, "Which page?", public=True)
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from .http_server import FakeHTTPServer, Request, Response

PRIORITIES = {"urgent", "high", "normal", "low"}
TYPES = {"problem", "incident", "question", "task"}
STATUSES = {"new", "open", "pending", "hold", "solved", "closed"}
TICKET_KEYS = {"subject", "comment", "requester", "priority", "type", "tags", "external_id", "custom_fields", "group_id", "status"}
COMMENT_KEYS = {"body", "html_body", "public"}
_TICKET_PATH = re.compile(r"/api/v2/tickets/(\d+)(?:\.json)?")
_COMMENTS_PATH = re.compile(r"/api/v2/tickets/(\d+)/comments(?:\.json)?")
_SHOW_MANY_PATH = re.compile(r"/api/v2/tickets/show_many(?:\.json)?")
UPDATE_KEYS = {"comment", "status", "priority", "tags", "additional_tags"}
SHOW_MANY_LIMIT = 100
#: The user ids of the API agent (the tool) and of the human agent the tests act as.
API_USER_ID = 9001
AGENT_USER_ID = 7001


def _now() -> str:
    """Zendesk's timestamps: ISO 8601 in UTC, to the second."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

#: The agent whose API token the tests' desk accepts.
AGENT_EMAIL = "reports@example.org"
AGENT_TOKEN = "zd-token"


class FakeZendesk(FakeHTTPServer):
    def __init__(self, email: str = "reports@example.org", api_token: str = "secret-token", groups: set[int] | None = None,
                 custom_fields: set[int] | None = None) -> None:
        super().__init__()
        self.email = email
        self.api_token = api_token
        self.groups = set(groups or set())
        self.custom_fields = set(custom_fields or set())
        self.tickets: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self._idempotency: dict[str, tuple[str, Response]] = {}
        self._next_id = 1001
        self._next_comment_id = 50001
        self.idempotent_replays = 0
        self._data_lock = threading.Lock()

    # -- test helpers ------------------------------------------------------------
    @property
    def tickets_created(self) -> int:
        return len(self.tickets)

    def rate_limit(self, retry_after: int, times: int = 1, method: str | None = None) -> None:
        self.fail_with(429, {"error": "TooManyRequests", "description": "Rate limit exceeded"}, {"Retry-After": str(retry_after)},
                       times, method=method)

    def set_status(self, ticket_id: int, status: str) -> None:
        assert status in STATUSES
        with self._data_lock:
            self.tickets[ticket_id]["status"] = status
            self.tickets[ticket_id]["updated_at"] = _now()

    def agent_comment(self, ticket_id: int, body: str, public: bool = True) -> int:
        """An agent writes on a ticket: a reply to the requester (public) or an internal note."""
        with self._data_lock:
            return self._add_comment(ticket_id, {"body": body, "public": public}, AGENT_USER_ID)

    def add_tags(self, ticket_id: int, *tags: str) -> None:
        with self._data_lock:
            ticket = self.tickets[ticket_id]
            ticket["tags"] = sorted(set(ticket["tags"]) | set(tags))
            ticket["updated_at"] = _now()

    def set_custom_status(self, ticket_id: int, custom_status_id: int) -> None:
        with self._data_lock:
            self.tickets[ticket_id]["custom_status_id"] = custom_status_id
            self.tickets[ticket_id]["updated_at"] = _now()

    def comments_of(self, ticket_id: int) -> list[dict[str, Any]]:
        return list(self.comments[ticket_id])

    def _add_comment(self, ticket_id: int, comment: dict[str, Any], author_id: int) -> int:
        """Call with ``_data_lock`` held."""
        comment_id = self._next_comment_id
        self._next_comment_id += 1
        self.comments[ticket_id].append({
            "id": comment_id, "type": "Comment", "body": comment["body"], "html_body": f"<p>{comment['body']}</p>",
            "public": comment.get("public", True), "author_id": author_id, "created_at": _now()})
        self.tickets[ticket_id]["updated_at"] = _now()
        return comment_id

    # -- protocol ----------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        if not self._authenticated(request):
            return Response.json(401, {"error": "Couldn't authenticate you"}, {"WWW-Authenticate": 'Basic realm="Web Password"'})
        path = request.path
        if _SHOW_MANY_PATH.fullmatch(path):
            return self._show_many(request) if request.method == "GET" else Response.json(405, {"error": "MethodNotAllowed"})
        comments = _COMMENTS_PATH.fullmatch(path)
        if comments:
            if request.method != "GET":
                return Response.json(405, {"error": "MethodNotAllowed"})
            return self._comments(int(comments.group(1)), request)
        if path in ("/api/v2/tickets", "/api/v2/tickets.json"):
            if request.method == "POST":
                return self._create(request)
            if request.method == "GET":
                return self._list(request)
            return Response.json(405, {"error": "MethodNotAllowed"})
        match = _TICKET_PATH.fullmatch(path)
        if match:
            ticket_id = int(match.group(1))
            if request.method == "GET":
                return self._show(ticket_id)
            if request.method == "PUT":
                return self._update(ticket_id, request)
            return Response.json(405, {"error": "MethodNotAllowed"})
        return Response.json(404, {"error": "InvalidEndpoint", "description": "Not found"})

    def _authenticated(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return False
        return decoded == f"{self.email}/token:{self.api_token}"

    def _json_body(self, request: Request) -> tuple[Any, Response | None]:
        if not request.headers.get("content-type", "").startswith("application/json"):
            return None, Response.json(415, {"error": "UnsupportedMediaType", "description": "Content-Type must be application/json"})
        try:
            return json.loads(request.body.decode("utf-8")), None
        except (ValueError, UnicodeDecodeError):
            return None, Response.json(400, {"error": "Unprocessable Entity", "description": "Request body is not valid JSON"})

    @staticmethod
    def _invalid(field: str, description: str) -> Response:
        return Response.json(422, {"error": "RecordInvalid", "description": "Record validation errors",
                                   "details": {field: [{"description": description}]}})

    def _validate_comment(self, comment: Any) -> Response | None:
        if not isinstance(comment, dict):
            return self._invalid("comment", "Comment must be an object")
        unknown = set(comment) - COMMENT_KEYS
        if unknown:
            return self._invalid("comment", f"Unknown comment keys: {sorted(unknown)}")
        if not isinstance(comment.get("body"), str) or not comment["body"].strip():
            return self._invalid("comment", "Comment body: cannot be blank")
        if "public" in comment and not isinstance(comment["public"], bool):
            return self._invalid("comment", "public must be a boolean")
        return None

    def _validate_ticket(self, ticket: Any) -> Response | None:
        if not isinstance(ticket, dict):
            return Response.json(400, {"error": "InvalidInput", "description": "ticket must be an object"})
        unknown = set(ticket) - TICKET_KEYS
        if unknown:
            return self._invalid("base", f"Unknown ticket keys: {sorted(unknown)}")
        if "comment" not in ticket:
            return self._invalid("description", "Description: cannot be blank")
        problem = self._validate_comment(ticket["comment"])
        if problem:
            return problem
        if "subject" in ticket and not isinstance(ticket["subject"], str):
            return self._invalid("subject", "Subject must be a string")
        if "priority" in ticket and ticket["priority"] not in PRIORITIES:
            return self._invalid("priority", f"Priority: {ticket['priority']!r} is not valid")
        if "type" in ticket and ticket["type"] not in TYPES:
            return self._invalid("type", f"Type: {ticket['type']!r} is not valid")
        if "status" in ticket and ticket["status"] not in STATUSES:
            return self._invalid("status", "Status is not valid")
        if "tags" in ticket and (not isinstance(ticket["tags"], list)
                                 or not all(isinstance(t, str) and t and not re.search(r"\s", t) for t in ticket["tags"])):
            return self._invalid("tags", "Tags must be a list of strings without whitespace")
        if "external_id" in ticket and not isinstance(ticket["external_id"], str):
            return self._invalid("external_id", "external_id must be a string")
        if "group_id" in ticket and ticket["group_id"] not in self.groups:
            return self._invalid("group_id", "Group: is invalid")
        if "custom_fields" in ticket:
            fields = ticket["custom_fields"]
            if not isinstance(fields, list) or not all(isinstance(f, dict) and set(f) == {"id", "value"} for f in fields):
                return self._invalid("custom_fields", "custom_fields must be a list of {id, value}")
            if any(f["id"] not in self.custom_fields for f in fields):
                return self._invalid("custom_fields", "Unknown ticket field id")
        if "requester" in ticket:
            requester = ticket["requester"]
            if not isinstance(requester, dict) or "email" not in requester:
                return self._invalid("requester", "Requester: email is required")
        return None

    def _create(self, request: Request) -> Response:
        data, problem = self._json_body(request)
        if problem:
            return problem
        key = request.headers.get("idempotency-key")
        fingerprint = hashlib.sha256(request.body).hexdigest()
        with self._data_lock:
            if key is not None and key in self._idempotency:
                first_fingerprint, first_response = self._idempotency[key]
                if first_fingerprint != fingerprint:
                    return Response.json(400, {"error": "IdempotentRequestError",
                                               "description": "Request parameters do not match the original request for this idempotency key"})
                self.idempotent_replays += 1
                return Response(first_response.status, first_response.body, {**first_response.headers, "x-idempotency-lookup": "hit"})
            if not isinstance(data, dict) or set(data) != {"ticket"}:
                return Response.json(400, {"error": "InvalidInput", "description": "Body must be {\"ticket\": {...}}"})
            problem = self._validate_ticket(data["ticket"])
            if problem:
                return problem
            ticket_data = data["ticket"]
            ticket_id = self._next_id
            self._next_id += 1
            ticket = {
                "id": ticket_id,
                "created_at": _now(),
                "updated_at": _now(),
                "url": f"{self.base_url}/api/v2/tickets/{ticket_id}.json",
                "subject": ticket_data.get("subject"),
                "description": ticket_data["comment"]["body"],
                "status": ticket_data.get("status", "new"),
                "priority": ticket_data.get("priority"),
                "type": ticket_data.get("type"),
                "tags": sorted(set(ticket_data.get("tags", []))),
                "external_id": ticket_data.get("external_id"),
                "group_id": ticket_data.get("group_id"),
                "custom_fields": ticket_data.get("custom_fields", []),
            }
            self.tickets[ticket_id] = ticket
            self.comments[ticket_id] = []
            self._add_comment(ticket_id, ticket_data["comment"], API_USER_ID)
            response = Response.json(201, {"ticket": ticket}, {"Location": ticket["url"]})
            if key is not None:
                self._idempotency[key] = (fingerprint, response)
                response = Response(response.status, response.body, {**response.headers, "x-idempotency-lookup": "miss"})
            return response

    def _list(self, request: Request) -> Response:
        params = dict(request.query)
        tickets = list(self.tickets.values())
        if "external_id" in params:
            tickets = [t for t in tickets if t["external_id"] == params["external_id"]]
        return Response.json(200, {"tickets": tickets, "count": len(tickets), "next_page": None, "previous_page": None})

    def _show(self, ticket_id: int) -> Response:
        if ticket_id not in self.tickets:
            return Response.json(404, {"error": "RecordNotFound", "description": "Not found"})
        return Response.json(200, {"ticket": self.tickets[ticket_id]})

    def _update(self, ticket_id: int, request: Request) -> Response:
        if ticket_id not in self.tickets:
            return Response.json(404, {"error": "RecordNotFound", "description": "Not found"})
        data, problem = self._json_body(request)
        if problem:
            return problem
        if not isinstance(data, dict) or set(data) != {"ticket"} or not isinstance(data["ticket"], dict):
            return Response.json(400, {"error": "InvalidInput", "description": "Body must be {\"ticket\": {...}}"})
        update = data["ticket"]
        unknown = set(update) - UPDATE_KEYS
        if unknown:
            return self._invalid("base", f"Unknown ticket keys: {sorted(unknown)}")
        if "comment" in update:
            problem = self._validate_comment(update["comment"])
            if problem:
                return problem
        if "status" in update and update["status"] not in STATUSES:
            return self._invalid("status", "Status is not valid")
        for key in ("tags", "additional_tags"):
            if key in update and (not isinstance(update[key], list) or not all(
                    isinstance(t, str) and t and not re.search(r"\s", t) for t in update[key])):
                return self._invalid(key, "Tags must be a list of strings without whitespace")
        with self._data_lock:
            ticket = self.tickets[ticket_id]
            if "comment" in update:
                self._add_comment(ticket_id, update["comment"], API_USER_ID)
            for key in ("status", "priority", "tags"):
                if key in update:
                    ticket[key] = update[key]
            if "additional_tags" in update:
                ticket["tags"] = sorted(set(ticket["tags"]) | set(update["additional_tags"]))
            ticket["updated_at"] = _now()
        return Response.json(200, {"ticket": ticket, "audit": {"ticket_id": ticket_id}})

    def _show_many(self, request: Request) -> Response:
        params = dict(request.query)
        raw = params.get("ids", "")
        ids = [part.strip() for part in raw.split(",")] if raw else []
        if not ids or not all(part.isdigit() for part in ids):
            return Response.json(400, {"error": "InvalidValue", "description": "ids must be a comma-separated list of ticket ids"})
        if len(ids) > SHOW_MANY_LIMIT:
            return Response.json(400, {"error": "InvalidValue", "description": f"Too many ids (maximum {SHOW_MANY_LIMIT})"})
        with self._data_lock:
            tickets = [dict(self.tickets[int(part)]) for part in dict.fromkeys(ids) if int(part) in self.tickets]
        return Response.json(200, {"tickets": tickets, "count": len(tickets), "next_page": None, "previous_page": None})

    def _comments(self, ticket_id: int, request: Request) -> Response:
        if ticket_id not in self.tickets:
            return Response.json(404, {"error": "RecordNotFound", "description": "Not found"})
        params = dict(request.query)
        try:
            per_page, page = int(params.get("per_page", "100")), int(params.get("page", "1"))
        except ValueError:
            return Response.json(400, {"error": "InvalidPaginationParameter", "description": "page and per_page are numbers"})
        if not 1 <= per_page <= 100 or page < 1:
            return Response.json(400, {"error": "InvalidPaginationParameter", "description": "per_page is 1 to 100"})
        with self._data_lock:
            comments = list(self.comments[ticket_id])
        shown = comments[(page - 1) * per_page:page * per_page]
        path = f"{self.base_url}/api/v2/tickets/{ticket_id}/comments.json?"
        next_page = path + urlencode({"page": page + 1, "per_page": per_page}) if page * per_page < len(comments) else None
        previous = path + urlencode({"page": page - 1, "per_page": per_page}) if page > 1 else None
        return Response.json(200, {"comments": shown, "count": len(comments), "next_page": next_page,
                                   "previous_page": previous})


def standard_desk() -> FakeZendesk:
    """The desk the Zendesk tests use: :data:`AGENT_EMAIL`'s token, group 360001, custom field 77."""
    return FakeZendesk(email=AGENT_EMAIL, api_token=AGENT_TOKEN, groups={360001}, custom_fields={77})
