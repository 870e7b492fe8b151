"""The login in a real browser (headless Chromium): the prefilled form survives OAuth.

The tool and the fake wiki run on 127.0.0.1 in threads; Chromium follows the
real redirects: /report -> /login -> the wiki's authorize page -> Allow ->
/oauth-callback -> back to the prefilled /report.
"""
from __future__ import annotations

import threading
from pathlib import Path

from werkzeug.serving import WSGIRequestHandler, make_server

from .browser import TIMEOUT_MS, chromium
from .conftest import make_app
from .fakes.meta_api import GlobalAccount, running_meta_api
from .fakes.oauth_provider import FakeConsumer, FakeUser, running_oauth_provider

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


class _Quiet(WSGIRequestHandler):
    def log_request(self, code="-", size="-") -> None:
        pass


def test_browser_login_keeps_the_prefilled_form(tmp_path):
    # Bind the tool's port first: the consumer's registered callback names it.
    tool: dict = {}
    server = make_server("127.0.0.1", 0, lambda environ, start: tool["app"](environ, start),
                         threaded=True, request_handler=_Quiet)
    tool_url = f"http://127.0.0.1:{server.server_port}"
    consumer = FakeConsumer(key="c0ffee00" * 4, secret="deadbeef" * 5,
                            callback=f"{tool_url}/oauth-callback", callback_is_prefix=True)
    with running_oauth_provider([consumer], [FakeUser("Alice Ö", 4242, editcount=12)]) as wiki, \
            running_meta_api({"Alice Ö": GlobalAccount(4242)}) as meta:
        tool["app"] = make_app(tmp_path, **{
            "dev_login": False, "oauth.consumer_key": consumer.key,
            "oauth.consumer_secret": consumer.secret, "oauth.index_url": wiki.index_url,
            "oauth.meta_api_url": meta.api_url})
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        try:
            with chromium() as browser:
                page = browser.new_page()
                page.set_default_timeout(TIMEOUT_MS)
                page.goto(f"{wiki.server_url}/fake-login?user=Alice%20%C3%96")
                page.goto(f"{tool_url}/report?wiki=de.wikipedia.org&diff=55&oldid=54&user=Troll")
                assert page.url.startswith(wiki.index_url)
                assert page.inner_text("#mw-oauth-user") == "Alice Ö"
                page.click("#mw-mwoauth-accept")
                page.wait_for_url(f"{tool_url}/report?**")
                assert page.url == f"{tool_url}/report?wiki=de.wikipedia.org&diff=55&oldid=54&user=Troll"
                assert page.input_value("#wiki") == "de.wikipedia.org"
                assert page.input_value("#evidence") == "https://de.wikipedia.org/w/index.php?diff=55&oldid=54"
                assert page.input_value("#reported_users") == "Troll"
                assert "Alice Ö" in page.inner_text(".site-user")
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / "login-flow.png"), full_page=True)
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
