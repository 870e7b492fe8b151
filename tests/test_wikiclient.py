"""WikiClient against a stub HTTP server on 127.0.0.1 that misbehaves on purpose."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from reporting.wiki.client import OutboundLimit, WikiApiError, WikiClient, WikiUnavailable, build_user_agent
from tests.fakes.wiki_api import FakeWikiApi

USER_AGENT = build_user_agent("reporting-tests", "1.0", "https://example.org/tool", "tests@example.org")


@dataclass
class Reply:
    status: int = 200
    body: bytes | dict = b"{}"
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    trickle: bool = False  # send the body one byte every 0.2 s


class StubServer:
    """Answers each request with the next queued Reply (the last one repeats) and records requests."""

    def __init__(self):
        self.replies: list[Reply] = []
        self.requests: list[dict] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                stub.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                      "body": self.rfile.read(length) if length else b""})
                reply = stub.replies.pop(0) if len(stub.replies) > 1 else stub.replies[0]
                time.sleep(reply.delay)
                body = json.dumps(reply.body).encode() if isinstance(reply.body, dict) else reply.body
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if self.command == "HEAD":
                        return
                    if reply.trickle:
                        for byte in body:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(0.2)
                    else:
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_HEAD = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> StubServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stub() -> Iterator[StubServer]:
    with StubServer() as server:
        yield server


def make_client(**kwargs) -> tuple[WikiClient, list[float]]:
    sleeps: list[float] = []
    options = {"timeout": 2.0, "max_retries": 3, "sleep": sleeps.append, **kwargs}
    return WikiClient(USER_AGENT, **options), sleeps


def test_user_agent_follows_wikimedia_policy_and_is_sent(stub):
    stub.replies = [Reply(body={"query": {}})]
    client, _ = make_client()
    client.get(stub.url + "/w/api.php", {"action": "query", "meta": "siteinfo"})
    sent = stub.requests[0]
    assert sent["headers"]["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("reporting-tests/1.0 (https://example.org/tool; tests@example.org) python-requests/")
    assert "gzip" in sent["headers"]["Accept-Encoding"]
    assert "format=json" in sent["path"] and "formatversion=2" in sent["path"]


@pytest.mark.parametrize("agent", ["", "python-requests/2.32", "mytool"])
def test_generic_user_agents_are_refused(agent):
    with pytest.raises(ValueError):
        WikiClient(agent)


def test_gzip_answers_are_decoded(stub):
    stub.replies = [Reply(body=gzip.compress(b'{"query": {"ok": 1}}'), headers={"Content-Encoding": "gzip"})]
    client, _ = make_client()
    assert client.get(stub.url + "/api.php", {"action": "query"}) == {"query": {"ok": 1}}


def test_429_with_retry_after_is_waited_for_then_retried(stub):
    stub.replies = [Reply(429, headers={"Retry-After": "3"}), Reply(body={"query": {"x": 1}})]
    client, sleeps = make_client()
    assert client.get(stub.url + "/api.php", {"action": "query"}) == {"query": {"x": 1}}
    assert sleeps == [3.0]
    assert client.request_count == 2
    assert client.requests_by_url[stub.url + "/api.php"] == 2


def test_retry_after_longer_than_allowed_gives_up_at_once(stub):
    stub.replies = [Reply(429, headers={"Retry-After": "3600"})]
    client, sleeps = make_client()
    with pytest.raises(WikiUnavailable) as raised:
        client.get(stub.url + "/api.php", {"action": "query"})
    assert raised.value.reason == "http-429"
    assert sleeps == [] and len(stub.requests) == 1


def test_maxlag_answer_is_retried(stub):
    stub.replies = [Reply(200, body={"error": {"code": "maxlag", "info": "lagged"}},
                          headers={"MediaWiki-API-Error": "maxlag", "Retry-After": "5"}),
                    Reply(body={"query": {}})]
    client, sleeps = make_client(maxlag=5)
    client.get(stub.url + "/api.php", {"action": "query"})
    assert sleeps == [5.0]
    assert "maxlag=5" in stub.requests[0]["path"]


def test_persistent_500s_raise_wiki_unavailable_after_retries_with_backoff(stub):
    stub.replies = [Reply(500, body=b"oops")]
    client, sleeps = make_client(max_retries=2, backoff=0.5)
    with pytest.raises(WikiUnavailable) as raised:
        client.get(stub.url + "/api.php", {"action": "query"})
    assert raised.value.reason == "http-500"
    assert raised.value.api_url == stub.url + "/api.php"
    assert len(stub.requests) == 3
    assert sleeps == [0.5, 1.0]


def test_hanging_server_times_out(stub):
    stub.replies = [Reply(delay=3)]
    client, _ = make_client(timeout=0.5, max_retries=1)
    started = time.monotonic()
    with pytest.raises(WikiUnavailable) as raised:
        client.get(stub.url + "/api.php", {"action": "query"})
    assert raised.value.reason in ("timeout", "connection-error")
    assert time.monotonic() - started < 3


def test_trickling_server_hits_the_total_deadline(stub):
    stub.replies = [Reply(body=b'{"query": {"padding": "' + b"x" * 40 + b'"}}', trickle=True)]
    client, _ = make_client(timeout=1.0, max_retries=0)
    started = time.monotonic()
    with pytest.raises(WikiUnavailable):
        client.get(stub.url + "/api.php", {"action": "query"})
    assert time.monotonic() - started < 2.5


def test_redirects_are_never_followed(stub):
    stub.replies = [Reply(302, headers={"Location": "http://evil.example/steal"})]
    client, _ = make_client()
    with pytest.raises(WikiUnavailable) as raised:
        client.get(stub.url + "/api.php", {"action": "query"})
    assert raised.value.reason == "redirect"
    assert len(stub.requests) == 1


def test_head_location_returns_the_redirect_target_without_following(stub):
    stub.replies = [Reply(301, headers={"Location": "https://en.wikipedia.org/wiki/Special:Diff/5"})]
    client, _ = make_client()
    assert client.head_location(stub.url + "/abc") == "https://en.wikipedia.org/wiki/Special:Diff/5"
    assert [r["method"] for r in stub.requests] == ["HEAD"]


def test_head_location_is_none_without_redirect(stub):
    stub.replies = [Reply(404)]
    client, _ = make_client()
    assert client.head_location(stub.url + "/nope") is None


def test_api_errors_raise_wiki_api_error(stub):
    stub.replies = [Reply(body={"error": {"code": "toomanyvalues", "info": "Too many values"}})]
    client, _ = make_client()
    with pytest.raises(WikiApiError) as raised:
        client.get(stub.url + "/api.php", {"action": "query"})
    assert raised.value.code == "toomanyvalues"


@pytest.mark.parametrize("body", [b"<html>not json</html>", b"[1, 2]"])
def test_non_json_answers_count_as_unavailable(stub, body):
    stub.replies = [Reply(body=body)]
    client, _ = make_client()
    with pytest.raises(WikiUnavailable) as raised:
        client.get(stub.url + "/api.php", {"action": "query"})
    assert raised.value.reason == "invalid-json"


def test_cookies_are_neither_kept_nor_sent(stub):
    stub.replies = [Reply(body={"query": {}}, headers={"Set-Cookie": "session=secret; Path=/"})]
    client, _ = make_client()
    client.get(stub.url + "/api.php", {"action": "query"})
    client.get(stub.url + "/api.php", {"action": "query"})
    assert "Cookie" not in stub.requests[1]["headers"]


def test_continuation_is_followed_and_merged(stub):
    stub.replies = [
        Reply(body={"continue": {"rvcontinue": "7", "continue": "||"},
                    "query": {"pages": [{"pageid": 1, "title": "A", "revisions": [{"revid": 5}]}],
                              "badrevids": {"9": {"revid": 9, "missing": True}}}}),
        Reply(body={"query": {"pages": [{"pageid": 1, "title": "A", "revisions": [{"revid": 7}]},
                                        {"pageid": 2, "title": "B", "revisions": [{"revid": 8}]}]}}),
    ]
    client, _ = make_client()
    merged = client.query_all(stub.url + "/api.php", {"prop": "revisions", "revids": "5|7|8|9"})
    pages = {p["title"]: [r["revid"] for r in p["revisions"]] for p in merged["query"]["pages"]}
    assert pages == {"A": [5, 7], "B": [8]}
    assert merged["query"]["badrevids"] == {"9": {"revid": 9, "missing": True}}
    assert "rvcontinue=7" in stub.requests[1]["path"]


def test_long_queries_go_in_a_post_body(stub):
    stub.replies = [Reply(body={"query": {}})]
    client, _ = make_client()
    client.get(stub.url + "/api.php", {"action": "query", "titles": "|".join(f"Page {i}" for i in range(400))})
    assert stub.requests[0]["method"] == "POST"
    assert b"titles=" in stub.requests[0]["body"]


@pytest.mark.parametrize("url", ["ftp://example.org/api.php", "http://user@127.0.0.1/api.php", "/relative/api.php"])
def test_only_plain_http_urls_are_requested(url):
    client, _ = make_client()
    with pytest.raises(ValueError):
        client.get(url, {"action": "query"})


def test_connection_refused_is_unavailable():
    with socket_port() as port:
        pass
    client, _ = make_client(max_retries=1)
    with pytest.raises(WikiUnavailable) as raised:
        client.get(f"http://127.0.0.1:{port}/api.php", {"action": "query"})
    assert raised.value.reason == "connection-error"


def socket_port():
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))

    class _Closing:
        def __enter__(self):
            return sock.getsockname()[1]

        def __exit__(self, *exc):
            sock.close()

    return _Closing()


def test_own_session_gets_cookie_blocking_too():
    session = requests.Session()
    client = WikiClient(USER_AGENT, session=session)
    assert client.session is session
    assert session.trust_env is False


def test_threads_share_a_client_with_a_session_each(stub):
    stub.replies = [Reply(body={"query": {}}, delay=0.05)]
    client, _ = make_client()
    sessions: list[requests.Session] = []
    errors: list[BaseException] = []

    def work():
        try:
            for _ in range(5):
                client.get(stub.url + "/api.php", {"action": "query"})
            sessions.append(client.session)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert errors == []
    assert len({id(session) for session in sessions}) == 8
    assert all(session.trust_env is False for session in sessions)
    assert client.request_count == 40
    assert client.requests_by_url[stub.url + "/api.php"] == 40


# --- deadlines and the process's cap (issue 15) ---------------------------------------------------


def test_headers_trickled_byte_by_byte_hit_the_total_deadline():
    # Every read returns within the read timeout; only the watchdog ends the exchange.
    with FakeWikiApi() as wiki:
        wiki.trickle(0.2, times=5)
        client, _ = make_client(timeout=1.0, max_retries=0)
        started = time.monotonic()
        with pytest.raises(WikiUnavailable):
            client.get(wiki.api_url, {"action": "query", "meta": "siteinfo"})
        assert time.monotonic() - started < 2.0


def test_a_view_within_a_deadline_never_retries_nor_sleeps(stub):
    stub.replies = [Reply(503, headers={"Retry-After": "1"})]
    client, sleeps = make_client(max_retries=3)
    view = client.within(time.monotonic() + 5)
    with pytest.raises(WikiUnavailable):
        view.get(stub.url + "/api.php", {"action": "query"})
    assert len(stub.requests) == 1 and sleeps == []
    assert client.request_count == 1  # views count with their client
    assert client.max_retries == 3  # the client itself keeps retrying (the worker's)


def test_a_view_sends_nothing_after_its_deadline(stub):
    stub.replies = [Reply(body={"query": {}})]
    client, _ = make_client()
    with pytest.raises(WikiUnavailable) as raised:
        client.within(time.monotonic() - 1).get(stub.url + "/api.php", {"action": "query"})
    assert raised.value.reason == "deadline" and stub.requests == []


def test_each_call_of_a_view_is_bounded_by_what_is_left(stub):
    stub.replies = [Reply(delay=3)]
    client, _ = make_client(timeout=10.0)
    started = time.monotonic()
    with pytest.raises(WikiUnavailable):
        client.within(time.monotonic() + 0.5).get(stub.url + "/api.php", {"action": "query"})
    assert time.monotonic() - started < 1.5


def test_the_outbound_limit_caps_requests_in_flight_and_a_view_does_not_wait_past_its_deadline(stub):
    stub.replies = [Reply(body={"query": {}}, delay=1.0)]
    limit = OutboundLimit(1)
    client, _ = make_client(limit=limit)
    worker = threading.Thread(target=lambda: client.get(stub.url + "/api.php", {"action": "query"}))
    worker.start()
    time.sleep(0.2)  # the worker holds the only slot for a second
    with pytest.raises(WikiUnavailable) as raised:
        client.within(time.monotonic() + 0.3).get(stub.url + "/api.php", {"action": "query"})
    assert raised.value.reason == "busy"
    assert client.get(stub.url + "/api.php", {"action": "query"}) == {"query": {}}  # without a deadline: waits
    worker.join(5)
    assert len(stub.requests) == 2


def test_a_trickled_answer_cut_by_the_watchdog_counts_as_a_timeout():
    with FakeWikiApi() as wiki:
        wiki.trickle(0.2, times=5)
        client, _ = make_client(timeout=0.6, max_retries=0)
        with pytest.raises(WikiUnavailable) as raised:
            client.get(wiki.api_url, {"action": "query", "meta": "siteinfo"})
        assert raised.value.reason == "timeout"
