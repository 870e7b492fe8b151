"""Where a report goes: destination URLs and the routing rules that pick one.

Operators write destinations as URLs so that a config file reads like a map of
desks (``smtp://mail.tools.wmcloud.org:25?to=emergency@wikimedia.org``).
Credentials never appear in these URLs: they live in separate envvars and are
handed to :func:`reporting.delivery.connectors.connector_for` as secrets.

Everything here is pure: parsing and matching need no network, so the whole
configuration can be validated at start-up.
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parseaddr
from urllib.parse import parse_qs, quote, urlsplit

from reporting.cases.statuses import DESK_STATUSES

SEVERITIES = frozenset({"emergency", "high", "normal"})

# Znuny's GenericInterface operations and the routes of its shipped example
# web service (GenericTicketConnectorREST). Admins may configure other routes.
ZNUNY_OPERATIONS = ("SessionCreate", "TicketCreate", "TicketGet", "TicketSearch", "TicketUpdate")
ZNUNY_DEFAULT_ROUTES: Mapping[str, str] = {
    "SessionCreate": "POST /Session",
    "TicketCreate": "POST /Ticket",
    "TicketGet": "GET /Ticket/:TicketID",
    "TicketSearch": "GET /Ticket",
    "TicketUpdate": "PATCH /Ticket/:TicketID",
}
_HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
_LOCAL_QUEUE = re.compile(r"[a-z][a-z0-9-]{0,62}")
_ZENDESK_HOST = re.compile(r"[a-z0-9][a-z0-9-]{0,62}\.zendesk\.com")
_ZENDESK_TAG = re.compile(r"[A-Za-z0-9_/:.-]{1,80}")
_DYNAMIC_FIELD_NAME = re.compile(r"[A-Za-z0-9]{1,200}")
ZENDESK_STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
ZNUNY_STATE_TYPES = ("new", "open", "closed", "pending reminder", "pending auto", "merged", "removed")
#: ``status.<desk state>=<status>`` parameters change how a desk's states read as case statuses.
STATUS_PREFIX = "status."
MAX_ZNUNY_GET_BATCH = 100


@dataclass(frozen=True)
class MaildirDestination:
    """A local Maildir (the embedded default; a mail desk can fetch from it)."""

    path: str
    kind: str = "maildir"


@dataclass(frozen=True)
class SmtpDestination:
    """One recipient address behind an SMTP relay; the desk picks its queue
    from the recipient."""

    host: str
    port: int
    recipient: str
    starttls: bool = False
    kind: str = "smtp"


@dataclass(frozen=True)
class ZendeskDestination:
    """A Zendesk account; ``base_url`` is ``https://<subdomain>.zendesk.com``
    (or a loopback ``http://`` URL for the local fake)."""

    base_url: str
    group_id: int | None = None
    tags: tuple[str, ...] = ()
    custom_field_ref_id: int | None = None
    # Overrides of how ticket states read as case statuses: (desk state, status) pairs,
    # the desk state being a status name, ``tag:<tag>`` or ``custom:<custom status id>``.
    status_map: tuple[tuple[str, str], ...] = ()
    kind: str = "zendesk"


@dataclass(frozen=True)
class ZnunyDestination:
    """A Znuny/OTRS GenericInterface REST web service and the queue tickets go to.

    ``base_url`` ends with the web service path (``.../Webservice/<Name>``);
    ``routes`` maps operation names to ``"METHOD /route"`` as the admin
    configured them (defaults: :data:`ZNUNY_DEFAULT_ROUTES`).
    """

    base_url: str
    queue: str
    routes: tuple[tuple[str, str], ...] = tuple(ZNUNY_DEFAULT_ROUTES.items())
    reference_field: str = "IncidentReportRef"
    customer_user: str | None = None
    # Overrides of how states read as case statuses: (state name or ``type:<state type>``, status) pairs.
    status_map: tuple[tuple[str, str], ...] = ()
    # Ticket ids per TicketGet request (1 where the web service cannot take a list).
    get_batch: int = 20
    kind: str = "znuny"


@dataclass(frozen=True)
class LocalDestination:
    """The tool's own queue (``local:functionaries``), read by functionaries
    inside the tool instead of at an external desk."""

    queue: str
    kind: str = "local"


Destination = MaildirDestination | SmtpDestination | ZendeskDestination | ZnunyDestination | LocalDestination


def without_query(destination_url: str) -> str:
    """The destination as logs and errors may show it: its query string can
    hold queue names and field ids, never needed to tell desks apart."""
    return destination_url.split("?")[0]


def parse_destination(url: str) -> Destination:
    """Parse a destination URL; raise ``ValueError`` saying what is wrong.

    Accepted forms::

        maildir:<path>                       (relative or absolute; maildir:///abs too)
        smtp://host[:port]?to=<address>      (port 25 by default)
        smtp+starttls://host[:port]?to=<address>   (port 587 by default)
        zendesk+https://<sub>.zendesk.com[?group=<id>&tags=a,b&ref_field=<id>]
              [&status.<state>=<status>]
        znuny+https://<host>/<web service path>?queue=<queue>[&reference_field=..]
              [&customer=<address>][&route.<Operation>=<METHOD /route>][&get_batch=<n>]
              [&status.<state>=<status>]
        local:<queue>                        (e.g. local:functionaries)

    ``zendesk+http`` and ``znuny+http`` are accepted for loopback hosts only,
    so tests can talk to local fakes while nothing real travels unencrypted.
    """
    if not isinstance(url, str) or not url.strip():
        raise ValueError("destination is empty")
    url = url.strip()
    scheme, sep, rest = url.partition(":")
    if not sep:
        raise ValueError(
            f"destination {url!r} has no scheme "
            "(expected maildir:, smtp://, zendesk+https://, znuny+https:// or local:)"
        )
    scheme = scheme.lower()
    if scheme == "maildir":
        return _parse_maildir(url, rest)
    if scheme == "local":
        return _parse_local(url, rest)
    if scheme in ("smtp", "smtp+starttls"):
        return _parse_smtp(url, scheme == "smtp+starttls")
    if scheme in ("zendesk+https", "zendesk+http"):
        return _parse_zendesk(url)
    if scheme in ("znuny+https", "znuny+http"):
        return _parse_znuny(url)
    raise ValueError(f"destination {url!r} has unknown scheme {scheme!r}")


def is_local_queue(destination: str) -> bool:
    """Whether ``destination`` is one of the tool's own queues (``local:...``)."""
    try:
        return parse_destination(destination).kind == "local"
    except ValueError:
        return False


def _parse_maildir(url: str, rest: str) -> MaildirDestination:
    if rest.startswith("///"):
        rest = rest[2:]
    elif rest.startswith("//"):
        raise ValueError(
            f"destination {url!r}: a Maildir is a local path, write maildir:<path> or maildir:///<absolute path>"
        )
    if not rest:
        raise ValueError(f"destination {url!r}: the Maildir path is missing")
    if "\x00" in rest:
        raise ValueError(f"destination {url!r}: the Maildir path contains a NUL byte")
    return MaildirDestination(path=rest)


def _parse_local(url: str, rest: str) -> LocalDestination:
    if not _LOCAL_QUEUE.fullmatch(rest):
        raise ValueError(
            f"destination {url!r}: a local queue name is lower-case letters, digits and '-' (e.g. local:functionaries)"
        )
    return LocalDestination(queue=rest)


def _query(url: str, query: str, allowed: set[str], prefixes: tuple[str, ...] = ()) -> dict[str, str]:
    """Parse a query string strictly: every key known, none repeated."""
    try:
        pairs = parse_qs(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise ValueError(f"destination {url!r}: malformed query string") from None
    result: dict[str, str] = {}
    for key, values in pairs.items():
        if key not in allowed and not key.startswith(prefixes):
            raise ValueError(f"destination {url!r}: unknown parameter {key!r} (allowed: {', '.join(sorted(allowed))})")
        if len(values) != 1:
            raise ValueError(f"destination {url!r}: parameter {key!r} is given more than once")
        result[key] = values[0]
    return result


def _split(url: str):
    parts = urlsplit(url)
    if parts.fragment:
        raise ValueError(f"destination {url!r}: fragments (#...) are not allowed")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"destination {url!r}: credentials do not belong in the URL; configure them as secrets")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"destination {url!r}: the port is not a number between 0 and 65535") from None
    if not parts.hostname:
        raise ValueError(f"destination {url!r}: the host is missing")
    return parts, port


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _http_base(parts, port: int | None, url: str) -> tuple[str, str]:
    """Return (http scheme, ``scheme://host[:port]``) for zendesk+/znuny+ URLs."""
    http_scheme = parts.scheme.split("+", 1)[1].lower()
    host = parts.hostname
    if http_scheme == "http" and not _is_loopback(host):
        raise ValueError(f"destination {url!r}: plain http is only allowed for loopback test servers; use https")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return http_scheme, f"{http_scheme}://{netloc}"


def _address(url: str, value: str, what: str) -> str:
    name, address = parseaddr(value)
    if (not address or address != value.strip() or address.count("@") != 1
            or address.startswith("@") or address.endswith("@")):
        raise ValueError(f"destination {url!r}: {what} {value!r} is not a plain e-mail address")
    return address


def _parse_smtp(url: str, starttls: bool) -> SmtpDestination:
    parts, port = _split(url)
    if parts.path not in ("", "/"):
        raise ValueError(f"destination {url!r}: an SMTP destination has no path; put the recipient in ?to=")
    params = _query(url, parts.query, {"to"})
    if "to" not in params:
        raise ValueError(f"destination {url!r}: the recipient (?to=<address>) is missing")
    return SmtpDestination(
        host=parts.hostname,
        port=port if port is not None else (587 if starttls else 25),
        recipient=_address(url, params["to"], "recipient"),
        starttls=starttls,
    )


def _positive_int(url: str, key: str, value: str) -> int:
    if not value.isdigit() or int(value) <= 0:
        raise ValueError(f"destination {url!r}: {key} must be a positive number, not {value!r}")
    return int(value)


def _parse_zendesk(url: str) -> ZendeskDestination:
    parts, port = _split(url)
    http_scheme, base = _http_base(parts, port, url)
    if http_scheme == "https" and not _ZENDESK_HOST.fullmatch(parts.hostname):
        raise ValueError(f"destination {url!r}: the host must be <subdomain>.zendesk.com")
    if parts.path not in ("", "/"):
        raise ValueError(f"destination {url!r}: a Zendesk destination has no path (the API lives at /api/v2)")
    params = _query(url, parts.query, {"group", "tags", "ref_field"}, prefixes=(STATUS_PREFIX,))
    tags: tuple[str, ...] = ()
    if params.get("tags"):
        tags = tuple(tag.strip() for tag in params["tags"].split(","))
        for tag in tags:
            if not _ZENDESK_TAG.fullmatch(tag):
                raise ValueError(f"destination {url!r}: tag {tag!r} is not a Zendesk tag (letters, digits, _ / : . -)")
    return ZendeskDestination(
        base_url=base,
        group_id=_positive_int(url, "group", params["group"]) if "group" in params else None,
        tags=tags,
        custom_field_ref_id=_positive_int(url, "ref_field", params["ref_field"]) if "ref_field" in params else None,
        status_map=_status_map(url, params, _zendesk_state_ok),
    )


def _zendesk_state_ok(state: str) -> bool:
    if state.startswith("tag:"):
        return bool(_ZENDESK_TAG.fullmatch(state[4:]))
    if state.startswith("custom:"):
        return state[7:].isdigit()
    return state in ZENDESK_STATUSES


def _znuny_state_ok(state: str) -> bool:
    if state.startswith("type:"):
        return state[5:] in ZNUNY_STATE_TYPES
    return bool(state.strip()) and len(state) <= 200


def _status_map(url: str, params: dict[str, str], state_ok: Callable[[str], bool]) -> tuple[tuple[str, str], ...]:
    """The ``status.<desk state>=<status>`` parameters, checked."""
    pairs = []
    for key, value in params.items():
        if not key.startswith(STATUS_PREFIX):
            continue
        state = key[len(STATUS_PREFIX):]
        if not state_ok(state):
            raise ValueError(f"destination {url!r}: {key!r} names no state this desk has")
        if value not in DESK_STATUSES:
            raise ValueError(f"destination {url!r}: {key}={value!r}: the status must be one of "
                             f"{', '.join(sorted(DESK_STATUSES))}")
        pairs.append((state, value))
    return tuple(sorted(pairs))


def parse_znuny_route(value: str) -> tuple[str, str]:
    """Parse ``"METHOD /route"`` (route placeholders like ``:TicketID`` allowed)."""
    method, _, route = value.strip().partition(" ")
    route = route.strip()
    if method.upper() not in _HTTP_METHODS or not route.startswith("/") or " " in route:
        raise ValueError(f"route {value!r} is not 'METHOD /route' (e.g. 'POST /Ticket')")
    return method.upper(), route


def _parse_znuny(url: str) -> ZnunyDestination:
    parts, port = _split(url)
    _, base = _http_base(parts, port, url)
    path = parts.path.rstrip("/")
    if not path:
        raise ValueError(
            f"destination {url!r}: the web service path is missing "
            "(e.g. /otrs/nph-genericinterface.pl/Webservice/<Name>)"
        )
    params = _query(url, parts.query, {"queue", "reference_field", "customer", "get_batch"},
                    prefixes=("route.", STATUS_PREFIX))
    queue = params.get("queue", "").strip()
    if not queue:
        raise ValueError(f"destination {url!r}: the queue (?queue=<name>) is missing")
    routes = dict(ZNUNY_DEFAULT_ROUTES)
    for key, value in params.items():
        if key.startswith("route."):
            operation = key[len("route."):]
            if operation not in ZNUNY_OPERATIONS:
                raise ValueError(
                    f"destination {url!r}: unknown operation in {key!r} (known: {', '.join(ZNUNY_OPERATIONS)})"
                )
            try:
                method, route = parse_znuny_route(value)
            except ValueError as error:
                raise ValueError(f"destination {url!r}: {key}: {error}") from None
            routes[operation] = f"{method} {route}"
    reference_field = params.get("reference_field", "IncidentReportRef")
    if not _DYNAMIC_FIELD_NAME.fullmatch(reference_field):
        raise ValueError(
            f"destination {url!r}: reference_field {reference_field!r} is not a dynamic field name (letters and digits)"
        )
    customer = _address(url, params["customer"], "customer") if "customer" in params else None
    get_batch = _positive_int(url, "get_batch", params["get_batch"]) if "get_batch" in params else 20
    if get_batch > MAX_ZNUNY_GET_BATCH:
        raise ValueError(f"destination {url!r}: get_batch is at most {MAX_ZNUNY_GET_BATCH}")
    return ZnunyDestination(
        base_url=base + quote(path, safe="/.-_~"),
        queue=queue,
        routes=tuple(routes.items()),
        reference_field=reference_field,
        customer_user=customer,
        status_map=_status_map(url, params, _znuny_state_ok),
        get_batch=get_batch,
    )


@dataclass
class Rule:
    """One routing rule; ``None`` in a field means "any".

    ``consented`` matches the reporter's choice to share the report with the
    wiki's own functionaries (True: only consented reports; False: only
    reports without consent).
    """

    categories: set[str] | None
    severities: set[str] | None
    wikis: set[str] | None
    consented: bool | None
    destination: str

    def matches(self, category: str, severity: str, wiki: str, share_with_functionaries: bool) -> bool:
        """Whether a report with these properties falls under this rule."""
        return (
            (self.categories is None or category in self.categories)
            and (self.severities is None or severity in self.severities)
            and (self.wikis is None or wiki in self.wikis)
            and (self.consented is None or self.consented == share_with_functionaries)
        )


def route(
    rules: Sequence[Rule], default: str, category: str, severity: str, wiki: str, share_with_functionaries: bool
) -> str:
    """Return the destination of the first matching rule, else ``default``.

    Order is the operator's: put the narrow rules (emergencies, child safety)
    first, so a wiki's broad "to our functionaries" rule cannot catch them.
    """
    for rule in rules:
        if rule.matches(category, severity, wiki, share_with_functionaries):
            return rule.destination
    return default


_RULE_KEYS = {
    "category": "categories",
    "categories": "categories",
    "severity": "severities",
    "severities": "severities",
    "wiki": "wikis",
    "wikis": "wikis",
    "consented": "consented",
    "destination": "destination",
}


def _string_set(value: object, where: str) -> set[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple, set, frozenset)) or not items:
        raise ValueError(f"{where} must be a string or a non-empty list of strings")
    result = set()
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise ValueError(f"{where} must contain only non-empty strings, not {item!r}")
        result.add(item.strip())
    return result


def rules_from_config(raw: object) -> list[Rule]:
    """Build rules from config (a list of mappings); raise ``ValueError`` naming
    the bad index and key.

    Each rule has ``destination`` (a URL accepted by :func:`parse_destination`)
    and any of ``category``/``categories``, ``severity``/``severities``,
    ``wiki``/``wikis`` (a string or a list of strings) and ``consented``
    (a boolean). A rule with no condition matches everything.
    """
    if raw is None:
        return []
    if not isinstance(raw, (list, tuple)):
        raise ValueError("delivery rules must be a list of mappings")
    rules: list[Rule] = []
    for index, item in enumerate(raw):
        where = f"delivery rule {index}"
        if not isinstance(item, Mapping):
            raise ValueError(f"{where} must be a mapping, not {type(item).__name__}")
        fields: dict[str, object] = {"categories": None, "severities": None, "wikis": None, "consented": None}
        seen: set[str] = set()
        for key, value in item.items():
            if key not in _RULE_KEYS:
                raise ValueError(f"{where}: unknown key {key!r} (allowed: {', '.join(sorted(_RULE_KEYS))})")
            field_name = _RULE_KEYS[key]
            if field_name in seen:
                raise ValueError(f"{where}: key {key!r} repeats another key for the same condition")
            seen.add(field_name)
            if field_name == "destination":
                if not isinstance(value, str):
                    raise ValueError(f"{where}: key 'destination' must be a string")
                try:
                    parse_destination(value)
                except ValueError as error:
                    raise ValueError(f"{where}: key 'destination': {error}") from None
                fields["destination"] = value.strip()
            elif field_name == "consented":
                if not isinstance(value, bool):
                    raise ValueError(f"{where}: key 'consented' must be true or false")
                fields["consented"] = value
            else:
                values = _string_set(value, f"{where}: key {key!r}")
                if field_name == "severities" and not values <= SEVERITIES:
                    unknown = ", ".join(sorted(values - SEVERITIES))
                    raise ValueError(
                        f"{where}: key {key!r}: unknown severity {unknown} (known: {', '.join(sorted(SEVERITIES))})"
                    )
                fields[field_name] = values
        if "destination" not in fields:
            raise ValueError(f"{where}: key 'destination' is missing")
        rules.append(Rule(**fields))  # type: ignore[arg-type]
    return rules
