"""What the gadget costs a page view, printed as `BENCH <name> <value>` lines.

- page_view_bytes_gz: the gadget's module as ResourceLoader serves it (minified, wrapped),
  gzip-compressed: what a logged-in page view downloads for it (budget: 2048)
- global_js_bytes_gz: the raw page that global.js loads instead (action=raw, not minified), gzip
- built_bytes / embedded_languages / fallback_codes: the size of the built page and what it embeds
- requests_to_other_hosts: requests a logged-in page view with the gadget makes to any origin but
  the wiki's own, counted by the browser in every skin (must be 0)

Runs against a throw-away local MediaWiki with the Gadgets extension and every bundled skin
(tests/gadget/wiki.py); the gadget is published through the Action API, as on a real wiki.
Usage: `make bench` (all benchmarks) or python -m bench.gadget
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from reporting.gadget.build import build_gadget, embedded_messages, gzip_size  # noqa: E402
from reporting.gadget.publish import publish_gadget  # noqa: E402
from reporting.wiki.client import build_user_agent  # noqa: E402
from tests.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.gadget.wiki import SKINS, start_gadget_wiki  # noqa: E402

USER_AGENT = build_user_agent("reporting-bench", "1.0", "https://example.org/tool", "bench@example.org")
TOOL = "https://incident-reporting.toolforge.org"
MODULE = "ext.gadget.report-privately"


def requests_to_other_hosts(wiki) -> int:
    """Every request of a logged-in page view in each skin whose origin is not the wiki's."""
    seen: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(20000)
            page.goto(f"{wiki.index_url}?title=Special:UserLogin")
            page.fill("#wpName1", "Alice")
            page.fill("#wpPassword1", "Alice-password-for-tests-1")
            page.click("#wpLoginAttempt")
            page.wait_for_load_state()
            page.on("request", lambda request: seen.append(request.url))
            for skin in SKINS:
                page.goto(f"{wiki.index_url}?title=Talk:Sandbox&useskin={skin}")
                page.wait_for_selector("#ca-report-privately a", state="attached")
                page.wait_for_load_state("networkidle")
        finally:
            browser.close()
    wiki_origin = urlsplit(wiki.server)
    return sum(1 for url in seen if not url.startswith("data:")
               and (urlsplit(url).scheme, urlsplit(url).netloc) != (wiki_origin.scheme, wiki_origin.netloc))


def run() -> Iterator[tuple[str, float | str]]:
    """The figures, for ``make bench`` (``bench/__main__.py`` prints them)."""
    gadget = build_gadget(TOOL)
    messages, fallbacks = embedded_messages()
    yield "gadget.built_bytes", len(gadget.code.encode("utf-8"))
    yield "gadget.embedded_languages", len(messages)
    yield "gadget.fallback_codes", sum(len(codes.split()) for codes in fallbacks.values())
    root = Path(tempfile.mkdtemp(prefix="bench-gadget-"))
    wiki = start_gadget_wiki(root / "wiki")
    try:
        publish_gadget(gadget, api_url=wiki.api_url, user="Admin@tests", password=wiki.bot_passwords["Admin"],
                       summary="bench", user_agent=USER_AGENT)
        wiki.edit("Alice", "Talk:Sandbox", "== Hello ==\nWelcome. ~~~~\n", summary="start")
        module = requests.get(f"{wiki.server}/load.php", params={"modules": MODULE, "lang": "en",
                                                                  "skin": "vector-2022"}, timeout=30)
        module.raise_for_status()
        raw = requests.get(wiki.index_url, params={"title": "MediaWiki:Gadget-report-privately.js",
                                                   "action": "raw", "ctype": "text/javascript"}, timeout=30)
        raw.raise_for_status()
        yield "gadget.page_view_bytes_gz", gzip_size(module.text)
        yield "gadget.global_js_bytes_gz", gzip_size(raw.text)
        yield "gadget.requests_to_other_hosts", requests_to_other_hosts(wiki)
    finally:
        wiki.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    for name, value in run():
        print(f"BENCH {name} {value}", flush=True)
