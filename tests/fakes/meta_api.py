"""A local stand-in for meta.wikimedia.org's api.php, ``meta=globaluserinfo`` only.

Answers like the real API with ``formatversion=2``: ``{"batchcomplete":
true, "query": {"globaluserinfo": {...}}}`` for a known user, ``{"missing":
true}`` inside ``globaluserinfo`` for an unknown one, and an ``error`` object
for anything it does not implement. Tests change ``accounts`` at any time
(a user gaining or losing a group) and set ``down`` to make it answer HTTP 503
like an overloaded wiki.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import threading
from collections.abc import Iterator
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response


@dataclasses.dataclass
class GlobalAccount:
    """A global (CentralAuth) account: global groups and local groups per wiki."""

    central_id: int
    groups: list[str] = dataclasses.field(default_factory=list)
    # dbname -> (host, local groups)
    local_groups: dict[str, tuple[str, list[str]]] = dataclasses.field(default_factory=dict)


class FakeMetaApi:
    def __init__(self, accounts: dict[str, GlobalAccount]) -> None:
        self.accounts = accounts
        self.down = False
        self.requests_seen: list[dict[str, str]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any):
        request = Request(environ)
        self.requests_seen.append({"path": request.path, "user_agent": request.headers.get("User-Agent", ""),
                                   **request.args})
        return self._answer(request)(environ, start_response)

    def _answer(self, request: Request) -> Response:
        if request.path != "/w/api.php":
            return Response("Not found", status=404)
        if self.down:
            return Response("Service Unavailable", status=503)
        args = request.args
        if (args.get("action") != "query" or args.get("meta") != "globaluserinfo"
                or args.get("format") != "json" or args.get("formatversion") != "2"):
            return _json({"error": {"code": "badvalue", "info": "Only meta=globaluserinfo is faked."}})
        name = args.get("guiuser", "")
        account = self.accounts.get(name)
        if account is None:
            return _json({"batchcomplete": True, "query": {"globaluserinfo": {"missing": True}}})
        merged = []
        for dbname, (host, groups) in sorted(account.local_groups.items()):
            entry: dict[str, Any] = {"wiki": dbname, "url": f"https://{host}", "method": "login",
                                     "timestamp": "2015-01-01T00:00:00Z", "editcount": 10}
            if groups:
                entry["groups"] = list(groups)
            merged.append(entry)
        info = {"home": "metawiki", "id": account.central_id, "registration": "2015-01-01T00:00:00Z",
                "name": name, "groups": list(account.groups), "merged": merged}
        return _json({"batchcomplete": True, "query": {"globaluserinfo": info}})


def _json(data: dict[str, Any]) -> Response:
    return Response(json.dumps(data), content_type="application/json; charset=utf-8")


class _QuietRequestHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@dataclasses.dataclass(frozen=True)
class RunningMetaApi:
    api: FakeMetaApi
    api_url: str


@contextlib.contextmanager
def running_meta_api(accounts: dict[str, GlobalAccount]) -> Iterator[RunningMetaApi]:
    """Serve a ``FakeMetaApi`` on 127.0.0.1:<free port>; shut down on exit."""
    api = FakeMetaApi(accounts)
    server = make_server("127.0.0.1", 0, api, threaded=True, request_handler=_QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="fake-meta-api", daemon=True)
    thread.start()
    try:
        yield RunningMetaApi(api, f"http://127.0.0.1:{server.server_port}/w/api.php")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
