"""A strict fake MediaWiki Action API that is slow or broken on purpose.

It answers ``meta=siteinfo`` (English names) and any other ``action=query`` with an empty
result; anything else is a 400. Tests make it hang, trickle or fail through the faults of
:class:`tests.fakes.http_server.FakeHTTPServer`, register it as a wiki with the ``wikis.extra``
setting and check that the tool's requests stay bounded. It counts the requests in flight at
once (``max_in_flight``), and ``delay`` makes every answer slow.
"""
from __future__ import annotations

import threading
from urllib.parse import parse_qsl

from tests.fakes.http_server import FakeHTTPServer, Request, Response

SITEINFO = {"batchcomplete": True, "query": {
    "general": {"lang": "en", "articlepath": "/index.php/$1", "script": "/index.php"},
    "namespaces": {"-1": {"id": -1, "name": "Special", "canonical": "Special"},
                   "0": {"id": 0, "name": ""}, "2": {"id": 2, "name": "User", "canonical": "User"},
                   "3": {"id": 3, "name": "User talk", "canonical": "User talk"}},
    "namespacealiases": [], "specialpagealiases": [],
}}


class FakeWikiApi(FakeHTTPServer):
    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.delay = delay
        self._flight_lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api.php"

    def link_host(self, name: str) -> str:
        """The wiki's address under ``name``, as a reporter pastes it (the port is the fake's)."""
        return f"http://{name}:{self.port}"

    def handle(self, request: Request) -> Response:
        with self._flight_lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                self._stopping.wait(self.delay)
            params = dict(request.query)
            if request.method == "POST":
                params.update(parse_qsl(request.body.decode("utf-8"), keep_blank_values=True))
            if request.path != "/api.php" or params.get("action") != "query":
                return Response.json(400, {"error": {"code": "badvalue", "info": "not faked"}})
            if params.get("meta") == "siteinfo":
                return Response.json(200, SITEINFO)
            return Response.json(200, {"batchcomplete": True, "query": {}})
        finally:
            with self._flight_lock:
                self.in_flight -= 1
