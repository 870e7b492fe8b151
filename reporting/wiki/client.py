"""The one client for all wiki I/O (MediaWiki Action API, and w.wiki short links).

Why one client: Wikimedia's API etiquette (a descriptive User-Agent, gzip, each caller's
requests in series, honouring 429 + Retry-After, maxlag) and the tool's safety rules (no
redirects followed, every request bounded in time and size, anonymous calls only) must hold
for every request, so they live in one place.

Contracts:
- The client requests exactly the URL it is given and never follows a redirect. Callers
  MUST only pass API URLs that come from the wiki registry (never a URL taken from user
  input); a 3xx answer is an error (`WikiUnavailable(..., "redirect")`).
- Calls are anonymous: the session keeps no cookies and sends no credentials, so the API
  never hands out content that the public may not see (revision-deleted text, suppressed
  edits, deleted pages).
- Every request has a total deadline (`timeout`: connect, headers and whole body), so a slow
  or trickling server cannot hang a caller: a watchdog shuts the socket when it passes, even
  in the middle of the headers.
- Web requests use a view of the client with a deadline of their own (`within`): no retries,
  no sleeps, every call bounded by what is left, and none at all once it has passed.
- One `OutboundLimit` per process caps the requests to wikis in flight at once; a call with a
  deadline waits for a free slot at most until then (`WikiUnavailable(..., "busy")`), the
  worker waits as long as it takes.
- Failures after retries raise `WikiUnavailable(api_url, reason)`; API-level errors raise
  `WikiApiError(code, info)`. Nothing else escapes for network trouble.
- One instance is shared by all threads of a process (gunicorn's threads, the worker): each
  thread gets its own `requests.Session` (sessions are not thread-safe), so calls from
  different threads run in parallel while each thread's calls stay in series; the request
  counters (shared with the client's `within` views) are updated under a lock.
"""

from __future__ import annotations

import contextlib
import copy
import http.cookiejar
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from urllib.parse import urlencode, urlsplit

import requests
import urllib3

from reporting.retry_after import parse_retry_after
from reporting.wiki.watchdog import Watchdog, WatchedAdapter

#: Answers larger than this are refused (protects memory against a broken or hostile server).
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
#: Continuation rounds allowed in `query_all` before giving up (a misbehaving wiki could loop).
MAX_CONTINUATIONS = 50
#: Past this length the query goes into a POST body instead of the URL.
MAX_QUERY_STRING = 4000
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class WikiUnavailable(Exception):
    """The wiki could not be reached or kept failing; worth retrying later."""

    def __init__(self, api_url: str, reason: str):
        super().__init__(f"{api_url}: {reason}")
        self.api_url = api_url
        self.reason = reason


class WikiApiError(Exception):
    """The API answered with an error object (bad parameters, unknown module, ...)."""

    def __init__(self, code: str, info: str):
        super().__init__(f"{code}: {info}")
        self.code = code
        self.info = info


def build_user_agent(tool: str, version: str, url: str, contact: str) -> str:
    """The User-Agent Wikimedia's policy asks for: `<tool>/<version> (<url>; <contact>) python-requests/<v>`."""
    return f"{tool}/{version} ({url}; {contact}) python-requests/{requests.__version__}"


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    """Refuses every cookie: calls stay anonymous."""

    def set_ok(self, cookie, request):
        return False

    def return_ok(self, cookie, request):
        return False


def _anonymous(session: requests.Session) -> requests.Session:
    """`session`, made to keep no cookies, to ignore the environment and to let the watchdog
    reach the socket of a request in flight."""
    session.cookies.set_policy(_NoCookies())
    session.cookies.clear()
    session.trust_env = False  # no proxies or .netrc credentials picked up from the environment
    session.mount("http://", WatchedAdapter())
    session.mount("https://", WatchedAdapter())
    return session


class OutboundLimit:
    """The cap on requests to wikis in flight at once in this process (one object, shared by
    every client the process uses for wikis). A slot is held for one HTTP exchange, never
    across a retry's sleep."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("the limit must allow at least one request")
        self.size = size
        self._slots = threading.BoundedSemaphore(size)

    @contextlib.contextmanager
    def slot(self, timeout: float | None) -> Iterator[None]:
        """Hold a slot; wait for one at most ``timeout`` seconds (None: as long as it takes),
        else raise ``_Busy``."""
        if not self._slots.acquire(timeout=None if timeout is None else max(0.0, timeout)):
            raise _Busy()
        try:
            yield
        finally:
            self._slots.release()


class _Busy(Exception):
    """No free slot before the caller's deadline."""


class _Counters:
    """Request counters, shared by a client and its `within` views."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.total = 0
        self.by_url: Counter[str] = Counter()


class WikiClient:
    """Blocking Action API client, safe to share between threads (a session per thread)."""

    def __init__(self, user_agent: str, timeout: float = 10.0, max_retries: int = 3,
                 session: requests.Session | None = None, *, max_retry_wait: float = 30.0,
                 backoff: float = 0.5, maxlag: int | None = None,
                 sleep: Callable[[float], None] = time.sleep, limit: OutboundLimit | None = None):
        """`max_retries` counts retries after the first attempt. A Retry-After longer than
        `max_retry_wait` seconds is not waited for: the wiki counts as unavailable now.
        `maxlag` (e.g. 5) is for background jobs, as Wikimedia asks. A `session` given here
        serves the thread that builds the client; other threads get sessions of their own.
        `limit`: the process's cap on requests in flight (none: unlimited)."""
        generic = user_agent.lower().startswith(("python-requests", "python-urllib"))
        if not user_agent or generic or "(" not in user_agent:
            raise ValueError("a descriptive User-Agent with contact details is required")
        self.user_agent = user_agent
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self.backoff = backoff
        self.maxlag = maxlag
        self._sleep = sleep
        self.limit = limit
        #: monotonic() time after which this client (a `within` view) sends nothing more.
        self.deadline: float | None = None
        self._local = threading.local()
        if session is not None:
            self._local.session = _anonymous(session)
        self._counters = _Counters()

    @property
    def request_count(self) -> int:
        return self._counters.total

    @property
    def requests_by_url(self) -> Counter[str]:
        return self._counters.by_url

    def within(self, deadline: float) -> WikiClient:
        """A view of this client for one web request: the same sessions, counters and limit,
        no retries (so no sleeps), and nothing sent after ``deadline`` (``time.monotonic()``)."""
        view = copy.copy(self)
        view.max_retries = 0
        view.deadline = deadline if self.deadline is None else min(deadline, self.deadline)
        return view

    def remaining(self) -> float | None:
        """Seconds left before the deadline (None: no deadline)."""
        return None if self.deadline is None else self.deadline - time.monotonic()

    @property
    def session(self) -> requests.Session:
        """The calling thread's session, made on its first request."""
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = _anonymous(requests.Session())
        return session

    # --- public API --------------------------------------------------------------------

    def get(self, api_url: str, params: dict) -> dict:
        """One API request (with retries); returns the decoded JSON (formatversion=2)."""
        full = {**params, "format": "json", "formatversion": "2"}
        if self.maxlag is not None:
            full.setdefault("maxlag", str(self.maxlag))
        data = self._api_request(api_url, full)
        error = data.get("error")
        if error:
            raise WikiApiError(str(error.get("code", "unknown")), str(error.get("info", "")))
        return data

    def query_all(self, api_url: str, params: dict) -> dict:
        """An action=query request followed through `continue` until done, merged into one result.

        Pages are merged by page id (or title), their `revisions` lists concatenated; list
        modules' lists are concatenated; `badrevids` and other mappings are unioned.
        """
        merged: dict = {}
        cont: dict = {}
        for _ in range(MAX_CONTINUATIONS):
            data = self.get(api_url, {**params, "action": "query", **cont})
            _merge_query(merged, data.get("query", {}))
            if "continue" not in data:
                return {"query": merged}
            cont = {k: str(v) for k, v in data["continue"].items()}
        raise WikiUnavailable(api_url, "too-many-continuations")

    def head_location(self, url: str) -> str | None:
        """One HEAD request, redirects not followed; returns the Location header of a 3xx answer.

        Meant for w.wiki short links: the target must be checked by the caller like any
        pasted link before anything is requested from it.
        """
        _check_url(url)
        response = self._send("HEAD", url, data=None, api_url=url)
        if 300 <= response.status_code < 400:
            return response.headers.get("Location")
        return None

    # --- transport -------------------------------------------------------------------------

    def _api_request(self, api_url: str, params: dict) -> dict:
        _check_url(api_url)
        query = urlencode(params)
        if len(query) > MAX_QUERY_STRING:
            response = self._send("POST", api_url, data=params, api_url=api_url)
        else:
            response = self._send("GET", f"{api_url}?{query}", data=None, api_url=api_url)
        if 300 <= response.status_code < 400:
            raise WikiUnavailable(api_url, "redirect")
        if response.status_code != 200:
            raise WikiUnavailable(api_url, f"http-{response.status_code}")
        try:
            data = json.loads(response.content)
        except ValueError:
            raise WikiUnavailable(api_url, "invalid-json") from None
        if not isinstance(data, dict):
            raise WikiUnavailable(api_url, "invalid-json")
        return data

    def _send(self, method: str, url: str, *, data: dict | None, api_url: str) -> requests.Response:
        """Send with retries on 429/5xx (honouring Retry-After), timeouts and connection errors."""
        reason = "unknown"
        for attempt in range(self.max_retries + 1):
            wait: float = self.backoff * (2 ** attempt)
            try:
                response = self._send_once(method, url, data=data, api_url=api_url)
            except requests.Timeout:
                reason = "timeout"
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ContentDecodingError):
                reason = "connection-error"
            except _TooLarge:
                raise WikiUnavailable(api_url, "response-too-large") from None
            except _Busy:
                raise WikiUnavailable(api_url, "busy") from None
            except _PastDeadline:
                raise WikiUnavailable(api_url, "deadline") from None
            except requests.RequestException:
                raise WikiUnavailable(api_url, "request-failed") from None
            else:
                lagged = response.status_code == 200 and _is_maxlag_error(response)
                if response.status_code not in RETRY_STATUSES and not lagged:
                    return response
                reason = "maxlag" if lagged else f"http-{response.status_code}"
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                if retry_after is not None:
                    if retry_after > self.max_retry_wait:
                        raise WikiUnavailable(api_url, reason)
                    wait = retry_after
            if attempt < self.max_retries:
                self._sleep(wait)
        raise WikiUnavailable(api_url, reason)

    def _send_once(self, method: str, url: str, *, data: dict | None, api_url: str) -> requests.Response:
        remaining = self.remaining()
        if remaining is not None and remaining <= 0:
            raise _PastDeadline()
        limit = self.limit.slot(remaining) if self.limit is not None else contextlib.nullcontext()
        with limit:
            timeout = self.timeout
            remaining = self.remaining()
            if remaining is not None:
                if remaining <= 0:
                    raise _PastDeadline()
                timeout = min(timeout, remaining)
            with self._counters.lock:
                self._counters.total += 1
                self._counters.by_url[api_url] += 1
            with Watchdog(timeout) as watchdog:
                try:
                    return self._exchange(method, url, data=data, timeout=timeout)
                except requests.RequestException:
                    if watchdog.fired:  # the socket was shut because time was up: a timeout
                        raise requests.Timeout("total deadline exceeded") from None
                    raise

    def _exchange(self, method: str, url: str, *, data: dict | None, timeout: float) -> requests.Response:
        """One HTTP exchange, headers and body, within ``timeout`` seconds in all."""
        deadline = time.monotonic() + timeout
        response = self.session.request(
            method, url, data=data, timeout=(timeout, timeout), stream=True, allow_redirects=False,
            headers={"User-Agent": self.user_agent, "Accept-Encoding": "gzip", "Accept": "application/json"},
        )
        try:
            body = bytearray()
            if method != "HEAD":
                # read1 returns whatever one socket read gives, so a trickling server is caught
                # by the deadline (iter_content would block until a whole chunk arrived).
                while chunk := self._read_some(response):
                    body += chunk
                    if len(body) > MAX_RESPONSE_BYTES:
                        raise _TooLarge()
                    if time.monotonic() > deadline:
                        raise requests.Timeout("total deadline exceeded")
            response._content = bytes(body)
            response._content_consumed = True  # type: ignore[attr-defined]  # private, not in the stubs
        finally:
            response.close()
        return response


    @staticmethod
    def _read_some(response: requests.Response) -> bytes:
        try:
            return response.raw.read1(64 * 1024, decode_content=True)
        except urllib3.exceptions.ReadTimeoutError as error:
            raise requests.Timeout(str(error)) from None
        except (urllib3.exceptions.ProtocolError, urllib3.exceptions.DecodeError, OSError) as error:
            raise requests.ConnectionError(str(error)) from None


class _TooLarge(Exception):
    pass


class _PastDeadline(Exception):
    """The caller's deadline has passed: nothing is sent."""


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise ValueError(f"refusing to request {url!r}")


def _is_maxlag_error(response: requests.Response) -> bool:
    return response.headers.get("MediaWiki-API-Error") == "maxlag"


def _merge_query(merged: dict, part: dict) -> None:
    for key, value in part.items():
        if key == "pages" and isinstance(value, list):
            pages = merged.setdefault("pages", [])
            index = {(p.get("pageid"), p.get("title")): p for p in pages}
            for page in value:
                known = index.get((page.get("pageid"), page.get("title")))
                if known is None:
                    pages.append(page)
                    index[(page.get("pageid"), page.get("title"))] = page
                    continue
                for field_name, field_value in page.items():
                    if field_name == "revisions":
                        known.setdefault("revisions", []).extend(field_value)
                    else:
                        known.setdefault(field_name, field_value)
        elif isinstance(value, list):
            merged.setdefault(key, []).extend(value)
        elif isinstance(value, dict):
            merged.setdefault(key, {}).update(value)
        else:
            merged[key] = value
