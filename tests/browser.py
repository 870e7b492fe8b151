"""What the browser tests share: Chromium's flags, and the tool served on 127.0.0.1 in a thread.

Headless Chromium (the machine's /usr/bin/chromium) is driven through Playwright with the flags
below, which keep it from calling home. :func:`serving` binds the port before the app exists, for
tests whose app must know its own address (an OAuth callback, the gadget's link).
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class _Quiet(WSGIRequestHandler):
    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        pass


@contextlib.contextmanager
def serving(make_app: Callable[[str], Any]) -> Iterator[tuple[str, Any]]:
    """Serve ``make_app(url)`` at ``url`` (http://127.0.0.1:<free port>); yields (url, app)."""
    holder: dict[str, Any] = {}
    server = make_server("127.0.0.1", 0, lambda environ, start: holder["app"](environ, start),
                         threaded=True, request_handler=_Quiet)
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        holder["app"] = make_app(url)
    except BaseException:
        server.server_close()
        raise
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield url, holder["app"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
