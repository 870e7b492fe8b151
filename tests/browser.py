"""What the browser tests share: Chromium, a page in it, and the tool served on 127.0.0.1 in a thread.

Headless Chromium (the machine's /usr/bin/chromium) is driven through Playwright with the flags
below, which keep it from calling home; :func:`chromium` launches it (tests/conftest.py's
module-scoped ``browser`` fixture, one Chromium per test module) and :func:`open_page` gives a page
in a fresh context (its own cookies) of the width under test. :func:`serving` binds the port before
the app exists, for tests whose app must know its own address (an OAuth callback, the gadget's link).
Playwright is imported only when a browser is wanted, so the rest of the suite runs without it.
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from werkzeug.serving import WSGIRequestHandler, make_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 15000


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    """Headless Chromium with :data:`CHROMIUM_ARGS`, closed (and Playwright stopped) afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser: Browser, width: int, *, js: bool = True, height: int = 900) -> Page:
    """A page in a new context ``width`` px wide, with or without JavaScript; close ``page.context``."""
    context = browser.new_context(java_script_enabled=js, viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    return page


class _Quiet(WSGIRequestHandler):
    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        pass


def direction(page: Page, selector: str) -> str:
    """The computed CSS direction (ltr/rtl) of the first element ``selector`` matches."""
    value: str = page.eval_on_selector(selector, "element => getComputedStyle(element).direction")
    return value


def fits(page: Page) -> bool:
    """The page does not scroll sideways in its viewport."""
    width: int = page.evaluate("document.documentElement.scrollWidth")
    return width <= page.viewport_size["width"]


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
