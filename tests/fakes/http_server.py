"""The thread, socket and fault-injection machinery shared by the HTTP fakes.

A fake subclasses :class:`FakeHTTPServer` and implements :meth:`handle`; this
module serves it on 127.0.0.1:<free port> and lets a test make the next
request(s) fail the way networks and desks fail: an HTTP status (500, 429 with
``Retry-After``), a hang (the client must time out), a dropped connection, a
response lost after the desk did the work, or a response trickled out a byte at a
time (headers included, so no single read ever times out).
"""
from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (used for "connection refused")."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Request:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, data: Any, headers: dict[str, str] | None = None) -> "Response":
        return cls(status, json.dumps(data).encode("utf-8"), {"Content-Type": "application/json; charset=utf-8", **(headers or {})})


@dataclass
class Fault:
    """What to do to one matching request instead of (or after) serving it.

    kind: ``respond`` (send ``response`` without doing the work), ``hang``
    (wait ``seconds``, then drop the connection without doing the work),
    ``drop`` (drop the connection at once), ``lose_response`` (do the work,
    then drop the connection: the desk acted, the client never hears),
    ``trickle`` (do the work, then send the whole response, status line and
    headers too, one byte every ``seconds``; stops when the client hangs up or
    the server stops).
    """

    kind: str
    response: Response | None = None
    seconds: float = 0.0
    method: str | None = None
    path_prefix: str | None = None

    def applies_to(self, request: Request) -> bool:
        return (self.method is None or self.method == request.method) and (
            self.path_prefix is None or request.path.startswith(self.path_prefix)
        )


class FakeHTTPServer:
    """Base of the HTTP fakes: a context manager serving :meth:`handle`."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        # Set before start(): a fixed port lets a test point a destination at a desk that is down.
        self.bind_port = 0
        # Seconds between doing the work and answering: widens the "desk acted,
        # client has not heard yet" window that crash tests aim at.
        self.response_delay = 0.0

    # -- lifecycle -----------------------------------------------------------
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self) -> None:
        fake = self

        class Handler(_Handler):
            pass

        Handler.fake = fake
        self._server = ThreadingHTTPServer(("127.0.0.1", self.bind_port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- fault injection -----------------------------------------------------
    def inject(self, fault: Fault, times: int = 1) -> None:
        """Apply ``fault`` to the next ``times`` matching requests."""
        with self._lock:
            self._faults.extend([fault] * times)

    def fail_with(self, status: int, body: Any = None, headers: dict[str, str] | None = None, times: int = 1,
                  method: str | None = None, path_prefix: str | None = None) -> None:
        response = Response.json(status, body) if body is not None else Response(status, b"", {})
        response.headers.update(headers or {})
        self.inject(Fault("respond", response=response, method=method, path_prefix=path_prefix), times)

    def hang(self, seconds: float, times: int = 1, method: str | None = None, path_prefix: str | None = None) -> None:
        self.inject(Fault("hang", seconds=seconds, method=method, path_prefix=path_prefix), times)

    def drop(self, times: int = 1, method: str | None = None, path_prefix: str | None = None) -> None:
        self.inject(Fault("drop", method=method, path_prefix=path_prefix), times)

    def lose_response(self, times: int = 1, method: str | None = None, path_prefix: str | None = None) -> None:
        self.inject(Fault("lose_response", method=method, path_prefix=path_prefix), times)

    def trickle(self, seconds: float, times: int = 1, method: str | None = None,
                path_prefix: str | None = None) -> None:
        self.inject(Fault("trickle", seconds=seconds, method=method, path_prefix=path_prefix), times)

    def _take_fault(self, request: Request) -> Fault | None:
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.applies_to(request):
                    return self._faults.pop(index)
        return None

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    # -- to implement ----------------------------------------------------------
    def handle(self, request: Request) -> Response:
        raise NotImplementedError


class _Handler(BaseHTTPRequestHandler):
    fake: FakeHTTPServer
    protocol_version = "HTTP/1.1"
    # One buffered write per response and no Nagle: avoids 40 ms delayed-ACK stalls.
    wbufsize = -1
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        return

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(
            method=self.command,
            path=parts.path,
            query=parse_qsl(parts.query, keep_blank_values=True),
            headers={key.lower(): value for key, value in self.headers.items()},
            body=body,
        )
        self.fake._record(request)
        fault = self.fake._take_fault(request)
        if fault is not None and fault.kind == "hang":
            self.fake._stopping.wait(fault.seconds)
            self.close_connection = True
            return
        if fault is not None and fault.kind == "drop":
            self.close_connection = True
            return
        if fault is not None and fault.kind == "respond":
            self._send(fault.response)
            return
        response = self.fake.handle(request)
        if self.fake.response_delay:
            self.fake._stopping.wait(self.fake.response_delay)
        if fault is not None and fault.kind == "lose_response":
            self.close_connection = True
            return
        if fault is not None and fault.kind == "trickle":
            self._trickle(response, fault.seconds)
            return
        self._send(response)

    def _trickle(self, response: Response, seconds: float) -> None:
        head = [f"HTTP/1.1 {response.status} Trickling"]
        head += [f"{key}: {value}" for key, value in response.headers.items()]
        head += [f"Content-Length: {len(response.body)}", "", ""]
        self.close_connection = True
        try:
            for byte in "\r\n".join(head).encode("latin-1") + response.body:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                if self.fake._stopping.wait(seconds):
                    return
        except OSError:  # the client hung up, as it should
            return

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve
