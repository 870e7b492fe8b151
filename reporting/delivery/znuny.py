"""Znuny/OTRS (VRTS) through the GenericInterface REST transport.

Znuny offers no idempotency, so the connector deduplicates itself: every ticket
carries the report reference in a dynamic field (``IncidentReportRef`` by
default), and each create is preceded by a search whose candidates are
confirmed with ``TicketGet`` by that field. A create whose response was lost is
therefore found on the retry instead of being made twice.

How the search is expressed depends on the route the admin configured for
``TicketSearch``. Znuny ignores a GET body and its query string cannot carry
the ``{"Equals": ...}`` operator a dynamic-field search needs (a flat
``DynamicField_X=v`` is silently dropped, which would match every ticket). So:

* a GET route (the shipped example ``GET /Ticket``) searches the title, which
  always contains the reference (``Title=*<ref>*``), then confirms by field;
* any other method sends ``{"DynamicField_<field>": {"Equals": ref}}`` as JSON.

Agents may rename titles; with a GET search route a retry after such a rename
could miss the ticket, so prefer a POST route (``route.TicketSearch=POST
/TicketSearch``) where the admin can add one.

Notes added later (follow-ups, withdrawals) are articles; Znuny has no
idempotency, so each note carries a marker and the ticket's system articles
are searched for it before the note is added.

The status sync reads tickets with ``TicketGet`` (a comma-separated
``TicketID`` list, ``get_batch`` ids a request) and, for tickets that
changed, their agent articles visible to the customer (:class:`DeskReader`).
A merged ticket is followed to the ticket it was merged into: Znuny writes
both ticket numbers into the merge article, and ``TicketSearch`` finds the
target by its number.

Errors: Znuny answers most failures with HTTP 200 and ``{"Error": {...}}``.
Authentication and validation codes are permanent, others temporary; HTTP 500
``faultcode`` answers are temporary, except the transport's "could not
determine the operation" (the route is not configured: an operator must fix
it).
"""
from __future__ import annotations

import base64
import re
import threading
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import requests

from reporting.delivery.base import Delivered, PermanentFailure, TemporaryFailure, Ticket
from reporting.delivery.desk_reading import DeskMessage, DeskTicket
from reporting.delivery.destinations import ZNUNY_DEFAULT_ROUTES, parse_znuny_route
from reporting.delivery.http import json_body, send, short
from reporting.retry_after import parse_retry_after

PRIORITY_NAMES = {"urgent": "5 very high", "high": "4 high", "normal": "3 normal", "low": "2 low"}
DEFAULT_CUSTOMER_USER = "tools.incident-reporting@toolforge.org"
# Error code suffixes that retrying cannot fix.
_PERMANENT_ERRORS = ("AuthFail", "AccessDenied", "MissingParameter", "InvalidParameter", "WrongStructure",
                     "NotValidTicketID", "InvalidConfiguration", "NotAuthorized", "NotAuthenticated")
_STATE_NAMES = {"closed successful": "solved", "closed unsuccessful": "closed", "merged": "closed", "removed": "closed"}
_STATE_TYPES = {"new": "new", "open": "open", "pending reminder": "pending", "pending auto": "pending",
                "closed": "closed", "merged": "closed", "removed": "closed"}
# A reference is unique; a search returning more candidates than this ignores its filter.
_MAX_CANDIDATES = 10
# TicketGet answers for a whole list or not at all; these mean "one of these tickets is not readable".
_UNREADABLE_TICKET = ("AccessDenied", "NotValidTicketID", "NotTicketData")
DEFAULT_GET_BATCH = 20


def normalize_state(state: str | None, state_type: str | None) -> str | None:
    """Map a Znuny state (and its state type) to new|open|pending|solved|closed."""
    if state in _STATE_NAMES:
        return _STATE_NAMES[state]
    if state_type in _STATE_TYPES:
        return _STATE_TYPES[state_type]
    if state and state.startswith("pending"):
        return "pending"
    return _STATE_TYPES.get(state or "")


class ZnunyError(Exception):
    """An ``{"Error": {...}}`` answer, before classification."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    def as_failure(self) -> TemporaryFailure | PermanentFailure:
        text = f"Znuny error {short(self.code)}: {short(self.message)}"
        if self.code.rsplit(".", 1)[-1] in _PERMANENT_ERRORS:
            return PermanentFailure(text)
        return TemporaryFailure(text)


class ZnunyConnector:
    """One queue of a Znuny web service, reached as an agent."""

    def __init__(
        self,
        base_url: str,
        user_login: str,
        password: str,
        queue: str,
        routes: Mapping[str, str] | None = None,
        reference_field: str = "IncidentReportRef",
        timeout: float = 10.0,
        session: requests.Session | None = None,
        customer_user: str | None = None,
        get_batch: int = DEFAULT_GET_BATCH,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.user_login = user_login
        self.password = password
        self.queue = queue
        self.reference_field = reference_field
        self.timeout = timeout
        self.session = session or requests.Session()
        self.customer_user = customer_user or DEFAULT_CUSTOMER_USER
        merged = dict(ZNUNY_DEFAULT_ROUTES)
        for operation, value in (routes or {}).items():
            if operation not in ZNUNY_DEFAULT_ROUTES:
                raise ValueError(f"unknown Znuny operation {operation!r}")
            merged[operation] = value
        self.routes = {operation: parse_znuny_route(value) for operation, value in merged.items()}
        self._session_id: str | None = None
        self._session_lock = threading.Lock()
        self.batch_size = max(1, get_batch)

    # -- Connector -----------------------------------------------------------------
    def create_ticket(self, ticket: Ticket) -> Delivered:
        existing = self._find_by_reference(ticket.ref)
        if existing is not None:
            return existing
        if ticket.priority not in PRIORITY_NAMES:
            raise PermanentFailure(f"priority {ticket.priority!r} has no Znuny priority")
        data = {
            "Ticket": {
                "Title": ticket_title(ticket),
                "Queue": self.queue,
                "State": "new",
                "Priority": PRIORITY_NAMES[ticket.priority],
                "CustomerUser": self.customer_user,
            },
            "Article": self._article(ticket.subject, ticket.body),
            "DynamicField": [{"Name": self.reference_field, "Value": ticket.ref}],
            "Attachment": [{
                "Content": base64.b64encode(ticket.report_json).decode("ascii"),
                "ContentType": "application/json; charset=utf-8",
                "Filename": "report.json",
            }],
        }
        result = self._call_with_session("TicketCreate", data)
        if "TicketID" not in result:
            raise TemporaryFailure("Znuny answered TicketCreate without a TicketID")
        number = result.get("TicketNumber")
        return Delivered(ticket_id=str(result["TicketID"]), ticket_number=str(number) if number is not None else None)

    def ticket_status(self, ticket_id: str) -> str | None:
        found = self._get(ticket_id)
        return normalize_state(found.get("State"), found.get("StateType"))

    def add_followup(self, ticket: Ticket, ticket_id: str, text: str, marker: str | None = None,
                     tags: tuple[str, ...] = ()) -> None:
        ticket_id = _ticket_id(ticket_id)
        if marker is not None:
            for article in self._articles(ticket_id, "system"):
                if marker in str(article.get("Body", "")) or marker in str(article.get("Subject", "")):
                    return  # an earlier attempt added it; its answer was lost
        self._call_with_session("TicketUpdate", {"Article": self._article(f"Follow-up: {ticket.subject}", text)},
                                {"TicketID": ticket_id})

    # -- DeskReader ----------------------------------------------------------------
    def read_tickets(self, ticket_ids: Sequence[str]) -> dict[str, DeskTicket]:
        ids = list(dict.fromkeys(_ticket_id(ticket_id) for ticket_id in ticket_ids))
        found: dict[str, DeskTicket] = {}
        for start in range(0, len(ids), self.batch_size):
            for shown in self._get_many(ids[start:start + self.batch_size]):
                ticket_id = str(shown.get("TicketID", ""))
                if ticket_id in ids:
                    found[ticket_id] = DeskTicket(
                        ticket_id=ticket_id, state=str(shown.get("State") or ""),
                        state_type=str(shown["StateType"]) if shown.get("StateType") else None,
                        marker=str(shown["Changed"]) if shown.get("Changed") else None,
                        number=str(shown["TicketNumber"]) if shown.get("TicketNumber") else None)
        return found

    def may_have_replies(self, ticket: DeskTicket) -> bool:
        # A merged ticket's last article is Znuny's merge note (visible to the customer, naming ticket
        # numbers); nothing after the merge is written there.
        return not ticket.merged

    def replies(self, ticket_id: str) -> list[DeskMessage]:
        return [DeskMessage(desk_id=str(article["ArticleID"]), body=str(article.get("Body") or ""))
                for article in self._articles(_ticket_id(ticket_id), "agent")
                if article.get("SenderType") == "agent" and str(article.get("IsVisibleForCustomer")) == "1"
                and article.get("ArticleID")]

    def merged_into(self, ticket: DeskTicket) -> str | None:
        """Read the merge note (the newest agent article): the ticket number in it
        that is not the merged ticket's own is the target's; search for it."""
        if not ticket.merged:
            return None
        articles = self._articles(_ticket_id(ticket.ticket_id), "agent", newest_only=True)
        numbers = [number for article in articles for number in re.findall(r"\d{5,}", str(article.get("Body", "")))
                   if number != ticket.number]
        if not numbers:
            return None
        result = self._call_with_session("TicketSearch", {"TicketNumber": numbers[-1]})
        candidates = result.get("TicketID") or []
        if isinstance(candidates, (str, int)):
            candidates = [candidates]
        if not isinstance(candidates, list) or len(candidates) != 1 or not str(candidates[0]).isdigit():
            return None
        return str(candidates[0])

    def _get_many(self, ids: list[str]) -> list[dict[str, Any]]:
        """TicketGet for several tickets at once; when one of them cannot be
        read (removed, no permission), Znuny refuses the whole list, so the
        others are read one by one and the unreadable one is left out."""
        try:
            return self._tickets(self._call_with_session("TicketGet", {}, {"TicketID": ",".join(ids)},
                                                         keep=_UNREADABLE_TICKET))
        except ZnunyError:
            if len(ids) == 1:
                return []
        shown = []
        for ticket_id in ids:
            shown += self._get_many([ticket_id])
        return shown

    def _articles(self, ticket_id: str, sender_type: str, newest_only: bool = False) -> list[dict[str, Any]]:
        data: dict[str, Any] = {"AllArticles": 1, "ArticleSenderType": sender_type}
        if newest_only:
            data.update(ArticleOrder="DESC", ArticleLimit=1)
        tickets = self._tickets(self._call_with_session("TicketGet", data, {"TicketID": ticket_id}))
        articles = tickets[0].get("Article") if tickets else None
        return [article for article in articles if isinstance(article, dict)] if isinstance(articles, list) else []

    @staticmethod
    def _tickets(result: dict[str, Any]) -> list[dict[str, Any]]:
        tickets = result.get("Ticket")
        if not isinstance(tickets, list):
            raise TemporaryFailure("Znuny answered TicketGet without a ticket list")
        return [ticket for ticket in tickets if isinstance(ticket, dict)]

    # -- tickets -------------------------------------------------------------------
    @staticmethod
    def _article(subject: str, body: str) -> dict[str, Any]:
        return {
            "CommunicationChannel": "Internal",
            "SenderType": "system",
            "IsVisibleForCustomer": 0,
            "Subject": subject,
            "Body": body,
            "ContentType": "text/plain; charset=utf-8",
        }

    def _get(self, ticket_id: str) -> dict[str, Any]:
        result = self._call_with_session("TicketGet", {"DynamicFields": 1}, {"TicketID": _ticket_id(ticket_id)})
        tickets = result.get("Ticket")
        if not isinstance(tickets, list) or not tickets or not isinstance(tickets[0], dict):
            raise TemporaryFailure("Znuny answered TicketGet without a ticket")
        return tickets[0]

    def _find_by_reference(self, ref: str) -> Delivered | None:
        method, _ = self.routes["TicketSearch"]
        if method == "GET":
            query: dict[str, Any] = {"Title": f"*{ref}*"}
        else:
            query = {f"DynamicField_{self.reference_field}": {"Equals": ref}}
        result = self._call_with_session("TicketSearch", query)
        candidates = result.get("TicketID") or []
        if isinstance(candidates, (str, int)):
            candidates = [candidates]
        if not isinstance(candidates, list) or not all(str(c).isdigit() for c in candidates):
            raise TemporaryFailure("Znuny answered TicketSearch with malformed ticket ids")
        if len(candidates) > _MAX_CANDIDATES:
            raise PermanentFailure(
                "Znuny's TicketSearch returned many tickets for one reference: "
                "its filter is not applied; check the route"
            )
        for candidate in sorted(candidates, key=lambda value: int(value)):
            found = self._get(str(candidate))
            fields = {f.get("Name"): f.get("Value") for f in found.get("DynamicField") or [] if isinstance(f, dict)}
            if fields.get(self.reference_field) == ref:
                number = found.get("TicketNumber")
                return Delivered(
                    ticket_id=str(found.get("TicketID", candidate)),
                    ticket_number=str(number) if number is not None else None,
                )
        return None

    # -- sessions ------------------------------------------------------------------
    def _call_with_session(
        self, operation: str, data: dict[str, Any], path_params: Mapping[str, str] | None = None,
        keep: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        """Call ``operation`` with the cached session (logging in again once if
        it expired). Errors become delivery failures, except those whose code
        ends with one of ``keep``: they are raised as :class:`ZnunyError`."""
        session_id, fresh = self._current_session()
        try:
            return self._call(operation, {**data, "SessionID": session_id}, path_params)
        except ZnunyError as error:
            if error.code.rsplit(".", 1)[-1] in keep:
                raise
            if not error.code.endswith(".AuthFail") or fresh:
                raise error.as_failure() from None
        # The cached session expired or was removed at the desk: log in again once.
        self._drop_session(session_id)
        session_id, _ = self._current_session()
        try:
            return self._call(operation, {**data, "SessionID": session_id}, path_params)
        except ZnunyError as error:
            if error.code.rsplit(".", 1)[-1] in keep:
                raise
            raise error.as_failure() from None

    def _current_session(self) -> tuple[str, bool]:
        with self._session_lock:
            if self._session_id is not None:
                return self._session_id, False
            try:
                result = self._call("SessionCreate", {"UserLogin": self.user_login, "Password": self.password})
            except ZnunyError as error:
                raise error.as_failure() from None
            session_id = result.get("SessionID")
            if not isinstance(session_id, str) or not session_id:
                raise TemporaryFailure("Znuny answered SessionCreate without a SessionID")
            self._session_id = session_id
            return session_id, True

    def _drop_session(self, session_id: str) -> None:
        with self._session_lock:
            if self._session_id == session_id:
                self._session_id = None

    # -- transport -------------------------------------------------------------------
    def _call(
        self, operation: str, data: dict[str, Any], path_params: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        method, route = self.routes[operation]
        path = route
        for name, value in (path_params or {}).items():
            if f":{name}" in route:
                path = path.replace(f":{name}", quote(str(value), safe=""))
            else:  # the admin's route has no placeholder for it: it travels with the data
                data = {**data, name: value}
        url = self.base_url + path
        if method == "GET":
            # Znuny ignores GET bodies; parameters travel in the query string.
            response = send(self.session, method, url, timeout=self.timeout, params=data)
        else:
            response = send(self.session, method, url, timeout=self.timeout, json=data)
        result = _checked(response, operation)
        error = result.get("Error")
        if error is not None:
            if not isinstance(error, dict):
                raise TemporaryFailure(f"Znuny answered {operation} with a malformed Error")
            raise ZnunyError(
                str(error.get("ErrorCode") or f"{operation}.Unknown"), str(error.get("ErrorMessage") or "")
            )
        return result


def ticket_title(ticket: Ticket) -> str:
    """The Znuny ticket title; it always contains the reference, so agents can
    quote it and a GET search route can find it."""
    return ticket.subject if ticket.ref in ticket.subject else f"{ticket.subject} [{ticket.ref}]"


def _ticket_id(ticket_id: str) -> str:
    if not str(ticket_id).isdigit() or str(ticket_id).startswith("0"):
        raise PermanentFailure(f"{ticket_id!r} is not a Znuny TicketID")
    return str(ticket_id)


def _checked(response: requests.Response, operation: str) -> dict[str, Any]:
    status = response.status_code
    if status == 200:
        result = json_body(response)
        if not isinstance(result, dict):
            raise TemporaryFailure(f"Znuny answered {operation} with a non-object body")
        return result
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    detail = f"Znuny answered {operation} with HTTP {status}"
    if status == 500:
        try:
            fault = response.json()
        except ValueError:
            fault = None
        if isinstance(fault, dict) and "faultcode" in fault:
            raise TemporaryFailure(f"{detail}: {short(fault.get('faultstring', ''))}", retry_after=retry_after)
        if "determine Operation" in response.text:
            raise PermanentFailure(f"{detail}: the web service has no such route; check the configured routes")
        raise TemporaryFailure(detail, retry_after=retry_after)
    if status in (408, 429) or status >= 500:
        raise TemporaryFailure(detail, retry_after=retry_after)
    if 300 <= status < 400:
        location = short(response.headers.get("Location", "?"))
        raise PermanentFailure(f"{detail}: redirect to {location}; check the base URL")
    raise PermanentFailure(detail)
