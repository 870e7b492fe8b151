"""A strict local Znuny GenericInterface REST web service.

It follows Znuny's own code (Kernel/GenericInterface/Transport/HTTP/REST.pm
and Operation/Ticket/*.pm) where the connector depends on it:

* routing: the path after ``.../Webservice/<Name>`` is matched against the
  configured ``"METHOD /route"`` per operation (``:Name`` placeholders); an
  unmatched request is HTTP 500 with the plain-text "Error while determine
  Operation" message;
* data: for GET only the query string counts (the body is ignored); otherwise
  the JSON body, with route placeholders overriding body keys; undecodable
  JSON is HTTP 500;
* auth inside the data: ``UserLogin``/``Password`` or ``SessionID``; failures
  are HTTP 200 ``{"Error": {"ErrorCode": "<Op>.AuthFail", ...}}``;
* TicketCreate validates Ticket (Title, Queue, State, Priority, CustomerUser),
  Article (Subject, Body, ContentType, CommunicationChannel, SenderType,
  IsVisibleForCustomer), DynamicField (known names) and Attachment (base64
  Content, ContentType, Filename) with ``MissingParameter``/``InvalidParameter``;
* TicketSearch: ``Title`` with ``*`` wildcards (case-insensitive, like
  Znuny's LIKE) and ``DynamicField_<Name>`` given as ``{"Equals": value}``
  (a plain string is ignored, exactly like Znuny does);
* TicketGet takes one ``TicketID``, a comma-separated list (split like
  Znuny's ``split /\\s*,\\s*/``) or an array; every id must be an integer and
  readable, else the whole request fails (``WrongStructure``,
  ``AccessDenied``). It returns ``{"Ticket": [...]}`` with ``Changed`` (to the
  second), ``DynamicField`` when ``DynamicFields=1``, and ``Article`` when
  ``AllArticles=1`` (filtered by ``ArticleSenderType``, ordered by
  ``ArticleOrder``, cut by ``ArticleLimit``), each article with
  ``ArticleID``, ``SenderType``, ``IsVisibleForCustomer`` (0/1), ``Subject``,
  ``Body``, ``CreateTime``;
* route placeholders are URI-unescaped (``/Ticket/501%2C502``), as REST.pm does;
* TicketSearch also finds by ``TicketNumber``;
* TicketUpdate appends an Article.

What agents do: :meth:`FakeZnuny.set_state`, :meth:`FakeZnuny.agent_article`
(a reply visible to the customer, or an internal note), :meth:`FakeZnuny.merge`
(state ``merged`` and Znuny's merge article, naming both ticket numbers).

Fault switches come from :class:`FakeHTTPServer` (``fail_with`` for HTTP 500
faults or HTTP 200 error bodies, ``hang``, ``drop``, ``lose_response``) plus
:meth:`FakeZnuny.expire_sessions`.
"""
from __future__ import annotations

import base64
import binascii
import itertools
import json
import re
import secrets
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from .http_server import FakeHTTPServer, Request, Response

WEBSERVICE_PATH = "/otrs/nph-genericinterface.pl/Webservice/IncidentReporting"
DEFAULT_ROUTES = {
    "SessionCreate": "POST /Session",
    "TicketCreate": "POST /Ticket",
    "TicketGet": "GET /Ticket/:TicketID",
    "TicketSearch": "GET /Ticket",
    "TicketUpdate": "PATCH /Ticket/:TicketID",
}
STATES = {
    "new": "new", "open": "open", "closed successful": "closed", "closed unsuccessful": "closed",
    "pending reminder": "pending reminder", "pending auto close+": "pending auto", "pending auto close-": "pending auto",
    "merged": "merged", "removed": "removed",
}
PRIORITIES = {"1 very low", "2 low", "3 normal", "4 high", "5 very high"}
CHANNELS = {"Email", "Phone", "Internal"}
SENDER_TYPES = {"agent", "system", "customer"}


def error(code: str, message: str) -> dict[str, Any]:
    return {"Error": {"ErrorCode": code, "ErrorMessage": message}}


def _now() -> str:
    """Znuny's time stamps: the server's local time to the second (UTC here)."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


class FakeZnuny(FakeHTTPServer):
    def __init__(self, users: Mapping[str, str] | None = None, queues: set[str] | None = None,
                 dynamic_fields: set[str] | None = None, routes: Mapping[str, str] | None = None,
                 webservice_path: str = WEBSERVICE_PATH) -> None:
        super().__init__()
        self.users = dict(users or {"reporting-bot": "agent-password"})
        self.queues = set(queues or {"Trust and Safety"})
        self.dynamic_fields = set(dynamic_fields or {"IncidentReportRef"})
        self.routes = {operation: route.split(" ", 1) for operation, route in {**DEFAULT_ROUTES, **(routes or {})}.items()}
        self.webservice_path = webservice_path
        self.sessions: dict[str, str] = {}
        self.sessions_created = 0
        self.tickets: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(501)
        self._article_ids = itertools.count(9001)
        self._data_lock = threading.Lock()

    @property
    def url(self) -> str:
        return self.base_url + self.webservice_path

    @property
    def tickets_created(self) -> int:
        return len(self.tickets)

    def expire_sessions(self) -> None:
        self.sessions.clear()

    def set_state(self, ticket_id: int, state: str) -> None:
        with self._data_lock:
            self.tickets[ticket_id]["State"] = state
            self.tickets[ticket_id]["StateType"] = STATES[state]
            self.tickets[ticket_id]["Changed"] = _now()

    def agent_article(self, ticket_id: int, body: str, visible_for_customer: bool = True) -> str:
        """An agent writes on a ticket: to the customer (visible) or an internal note."""
        return self._append_article(ticket_id, {
            "CommunicationChannel": "Email" if visible_for_customer else "Internal", "SenderType": "agent",
            "IsVisibleForCustomer": int(visible_for_customer), "Subject": "Re: your report", "Body": body,
            "ContentType": "text/plain; charset=utf-8"})

    def merge(self, ticket_id: int, into_ticket_id: int) -> None:
        """What TicketMerge does to the merged ticket: state ``merged`` and a merge
        article (an agent's, visible for the customer) naming both ticket numbers."""
        merged, main = self.tickets[ticket_id], self.tickets[into_ticket_id]
        self._append_article(ticket_id, {
            "CommunicationChannel": "Internal", "SenderType": "agent", "IsVisibleForCustomer": 1,
            "Subject": "Ticket Merged", "ContentType": "text/plain; charset=ascii",
            "Body": f"Merged Ticket {merged['TicketNumber']} to {main['TicketNumber']}."})
        self.set_state(ticket_id, "merged")

    def _append_article(self, ticket_id: int, article: dict[str, Any]) -> str:
        with self._data_lock:
            stored = dict(article, ArticleID=str(next(self._article_ids)), CreateTime=_now())
            self.tickets[ticket_id]["Articles"].append(stored)
            self.tickets[ticket_id]["Changed"] = _now()
        return stored["ArticleID"]

    # -- transport (REST.pm) -------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        if not request.path.startswith(self.webservice_path + "/"):
            return Response(404, b"Not Found", {"Content-Type": "text/plain"})
        route_path = request.path[len(self.webservice_path):]
        operation, uri_data = self._match(request.method, route_path)
        if operation is None:
            return Response(500, f"HTTP::REST Error while determine Operation for request URI '{route_path}'.".encode(),
                            {"Content-Type": "text/plain"})
        data: Any = {}
        for key, value in request.query:
            if key in data:
                data[key] = (data[key] if isinstance(data[key], list) else [data[key]]) + [value]
            else:
                data[key] = value
        data.update(uri_data)
        if request.method != "GET" and request.body:
            try:
                decoded = json.loads(request.body.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                return Response(500, b"Error while decoding request content.", {"Content-Type": "text/plain"})
            if not isinstance(decoded, dict) or not decoded:
                return Response(500, b"Unsupported request content structure.", {"Content-Type": "text/plain"})
            data = {**decoded, **uri_data}
        result = getattr(self, "_op_" + operation)(data)
        return Response.json(200, result)

    def _match(self, method: str, path: str) -> tuple[str | None, dict[str, str]]:
        for operation in sorted(self.routes):
            route_method, route = self.routes[operation]
            if route_method != method:
                continue
            pattern = re.sub(r":([^/]+)", r"(?P<\1>[^/]+)", route)
            match = re.fullmatch(pattern, path)
            if match:
                return operation, {key: unquote(value) for key, value in match.groupdict().items()}
        return None, {}

    # -- auth ------------------------------------------------------------------------------
    def _auth(self, data: dict[str, Any]) -> str | None:
        session_id = data.get("SessionID")
        if session_id:
            return self.sessions.get(session_id)
        login, password = data.get("UserLogin"), data.get("Password")
        if login and password is not None and self.users.get(login) == password:
            return login
        return None

    # -- operations ------------------------------------------------------------------------
    def _op_SessionCreate(self, data: dict[str, Any]) -> dict[str, Any]:
        if not data.get("UserLogin") or not data.get("Password"):
            return error("SessionCreate.MissingParameter", "SessionCreate: UserLogin or CustomerUserLogin and Password are required!")
        if self.users.get(data["UserLogin"]) != data["Password"]:
            return error("SessionCreate.AuthFail", "SessionCreate: Authorization failing!")
        session_id = secrets.token_hex(16)
        self.sessions[session_id] = data["UserLogin"]
        self.sessions_created += 1
        return {"SessionID": session_id}

    def _op_TicketCreate(self, data: dict[str, Any]) -> dict[str, Any]:
        if not data.get("UserLogin") and not data.get("SessionID"):
            return error("TicketCreate.MissingParameter", "TicketCreate: UserLogin, CustomerUserLogin or SessionID is required!")
        if self._auth(data) is None:
            return error("TicketCreate.AuthFail", "TicketCreate: User could not be authenticated!")
        for needed in ("Ticket", "Article"):
            if not isinstance(data.get(needed), dict) or not data[needed]:
                return error("TicketCreate.MissingParameter", f"TicketCreate: {needed} parameter is missing or not valid!")
        problem = self._check_ticket(data["Ticket"]) or self._check_article("TicketCreate", data["Article"])
        if problem:
            return problem
        fields = data.get("DynamicField", [])
        fields = [fields] if isinstance(fields, dict) else fields
        if not isinstance(fields, list):
            return error("TicketCreate.MissingParameter", "TicketCreate: DynamicField parameter is missing or not valid!")
        for field in fields:
            if not isinstance(field, dict) or field.get("Name") not in self.dynamic_fields or "Value" not in field:
                return error("TicketCreate.InvalidParameter", "TicketCreate: DynamicField->Name parameter is invalid!")
        attachments = data.get("Attachment", [])
        attachments = [attachments] if isinstance(attachments, dict) else attachments
        if not isinstance(attachments, list):
            return error("TicketCreate.MissingParameter", "TicketCreate: Attachment parameter is missing or not valid!")
        for attachment in attachments:
            problem = self._check_attachment(attachment)
            if problem:
                return problem
        with self._data_lock:
            ticket_id = next(self._ids)
            ticket = dict(data["Ticket"])
            ticket.update({
                "TicketID": str(ticket_id),
                "TicketNumber": f"2026010110{ticket_id:06d}",
                "StateType": STATES[ticket["State"]],
                "CustomerUserID": ticket.pop("CustomerUser"),
                "DynamicFields": {f["Name"]: f["Value"] for f in fields},
                "Articles": [dict(data["Article"], ArticleID=str(next(self._article_ids)), Attachment=attachments,
                                  CreateTime=_now())],
                "Created": _now(),
                "Changed": _now(),
            })
            self.tickets[ticket_id] = ticket
        return {"TicketID": ticket["TicketID"], "TicketNumber": ticket["TicketNumber"], "ArticleID": ticket["Articles"][0]["ArticleID"]}

    def _check_ticket(self, ticket: dict[str, Any]) -> dict[str, Any] | None:
        for needed in ("Title", "CustomerUser"):
            if not ticket.get(needed):
                return error("TicketCreate.MissingParameter", f"TicketCreate: Ticket->{needed} parameter is missing!")
        if "@" not in str(ticket["CustomerUser"]):
            return error("TicketCreate.InvalidParameter", "TicketCreate: Ticket->CustomerUser parameter is invalid!")
        for needed, known in (("Queue", self.queues), ("State", STATES), ("Priority", PRIORITIES)):
            if not ticket.get(needed) and not ticket.get(needed + "ID"):
                return error("TicketCreate.MissingParameter", f"TicketCreate: Ticket->{needed}ID or Ticket->{needed} parameter is required!")
            if ticket.get(needed) not in known:
                return error("TicketCreate.InvalidParameter", f"TicketCreate: Ticket->{needed} parameter is invalid!")
        return None

    @staticmethod
    def _check_article(operation: str, article: dict[str, Any]) -> dict[str, Any] | None:
        for needed in ("Subject", "Body"):
            if not article.get(needed):
                return error(f"{operation}.MissingParameter", f"{operation}: Article->{needed} parameter is missing!")
        if not article.get("ContentType") and not (article.get("MimeType") and article.get("Charset")):
            return error(f"{operation}.MissingParameter", f"{operation}: Article->ContentType or MimeType and Charset is required!")
        if article.get("CommunicationChannel", "Internal") not in CHANNELS:
            return error(f"{operation}.InvalidParameter", f"{operation}: Article->CommunicationChannel is invalid!")
        if article.get("SenderType", "agent") not in SENDER_TYPES:
            return error(f"{operation}.InvalidParameter", f"{operation}: Article->SenderType is invalid!")
        if article.get("IsVisibleForCustomer", 1) not in (0, 1, "0", "1"):
            return error(f"{operation}.InvalidParameter", f"{operation}: Article->IsVisibleForCustomer is invalid!")
        return None

    @staticmethod
    def _check_attachment(attachment: Any) -> dict[str, Any] | None:
        if not isinstance(attachment, dict):
            return error("TicketCreate.InvalidParameter", "TicketCreate: Ticket->Attachment parameter is invalid!")
        for needed in ("Content", "ContentType", "Filename"):
            if not attachment.get(needed):
                return error("TicketCreate.MissingParameter", f"TicketCreate: Attachment->{needed} parameter is missing!")
        try:
            base64.b64decode(attachment["Content"], validate=True)
        except (binascii.Error, ValueError):
            return error("TicketCreate.InvalidParameter", "TicketCreate: Attachment->Content is not base64!")
        return None

    def _op_TicketGet(self, data: dict[str, Any]) -> dict[str, Any]:
        if self._auth(data) is None:
            return error("TicketGet.AuthFail", "TicketGet: Authorization failing!")
        raw = data.get("TicketID")
        if not raw:
            return error("TicketGet.MissingParameter", "TicketGet: TicketID parameter is missing!")
        if isinstance(raw, str):
            ids = re.split(r"\s*,\s*", raw)
        elif isinstance(raw, list) and raw:
            ids = [str(value) for value in raw]
        else:
            return error("TicketGet.WrongStructure", "TicketGet: Structure for TicketID is not correct!")
        if not all(re.fullmatch(r"[1-9]\d*", value) for value in ids):
            return error("TicketGet.WrongStructure", "TicketGet: Invalid ticket ID parameter(s) found!")
        if any(int(value) not in self.tickets for value in ids):
            return error("TicketGet.AccessDenied", "TicketGet: User does not have access to the ticket!")
        sender_types = data.get("ArticleSenderType") or []
        sender_types = [sender_types] if isinstance(sender_types, str) else sender_types
        limit = int(data.get("ArticleLimit") or 0)
        shown_tickets = []
        with self._data_lock:
            for value in ids:
                ticket = self.tickets[int(value)]
                shown = {key: item for key, item in ticket.items() if key not in ("Articles", "DynamicFields")}
                if str(data.get("DynamicFields", "0")) == "1" and ticket["DynamicFields"]:
                    shown["DynamicField"] = [{"Name": name, "Value": item}
                                             for name, item in sorted(ticket["DynamicFields"].items())]
                if str(data.get("AllArticles", "0")) == "1":
                    articles = [self._shown_article(a) for a in ticket["Articles"]
                                if not sender_types or a.get("SenderType", "agent") in sender_types]
                    if data.get("ArticleOrder") == "DESC":
                        articles.reverse()
                    if limit:
                        articles = articles[:limit]
                    if articles:
                        shown["Article"] = articles
                shown_tickets.append(shown)
        return {"Ticket": shown_tickets}

    @staticmethod
    def _shown_article(article: dict[str, Any]) -> dict[str, Any]:
        """An article as TicketGet shows it (ArticleGet's fields; no attachments unless asked)."""
        shown = {key: value for key, value in article.items() if key != "Attachment"}
        shown["IsVisibleForCustomer"] = int(article.get("IsVisibleForCustomer", 1))
        shown.setdefault("SenderType", "agent")
        return shown

    def _op_TicketSearch(self, data: dict[str, Any]) -> dict[str, Any]:
        if self._auth(data) is None:
            return error("TicketSearch.AuthFail", "TicketSearch: Authorization failing!")
        found = list(self.tickets.values())
        number = data.get("TicketNumber")
        if isinstance(number, str) and number:
            found = [t for t in found if t["TicketNumber"] == number]
        title = data.get("Title")
        if isinstance(title, str) and title:
            pattern = re.compile("".join(".*" if c == "*" else re.escape(c) for c in title), re.IGNORECASE)
            found = [t for t in found if pattern.fullmatch(t["Title"])]
        for key, value in data.items():
            match = re.fullmatch(r"DynamicField_([A-Za-z0-9]+)", key)
            if not match or match.group(1) not in self.dynamic_fields or not isinstance(value, dict) or not value:
                continue  # Znuny skips fields given without an operator hash
            if "Equals" in value:
                found = [t for t in found if t["DynamicFields"].get(match.group(1)) == value["Equals"]]
        if not found:
            return {}
        return {"TicketID": [t["TicketID"] for t in sorted(found, key=lambda t: -int(t["TicketID"]))]}

    def _op_TicketUpdate(self, data: dict[str, Any]) -> dict[str, Any]:
        if self._auth(data) is None:
            return error("TicketUpdate.AuthFail", "TicketUpdate: Authorization failing!")
        ticket_id = data.get("TicketID")
        if not ticket_id or not str(ticket_id).isdigit():
            return error("TicketUpdate.MissingParameter", "TicketUpdate: TicketID or TicketNumber is required!")
        ticket = self.tickets.get(int(ticket_id))
        if ticket is None:
            return error("TicketUpdate.AccessDenied", "TicketUpdate: User does not have access to the ticket!")
        article = data.get("Article")
        if article is None and data.get("Ticket") is None:
            return error("TicketUpdate.MissingParameter", "TicketUpdate: Ticket or Article is required!")
        result = {"TicketID": ticket["TicketID"], "TicketNumber": ticket["TicketNumber"]}
        if article is not None:
            if not isinstance(article, dict):
                return error("TicketUpdate.InvalidParameter", "TicketUpdate: Article parameter is invalid!")
            problem = self._check_article("TicketUpdate", article)
            if problem:
                return problem
            result["ArticleID"] = self._append_article(int(ticket_id), article)
        return result
