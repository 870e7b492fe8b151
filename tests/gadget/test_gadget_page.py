"""``/gadget``: what the gadget does, and everything needed to install it, in the reader's language."""
from __future__ import annotations

import html
import re

from reporting.gadget.build import build_gadget, global_js_line
from reporting.i18n import DEFAULT_MESSAGES_DIR
from reporting.i18n.messages import read_message_file
from reporting.views.gadget import PUBLISH_COMMAND
from tests.conftest import make_app

TOOL = "https://tools.example.org/reporting"


def block(page: str, element_id: str) -> str:
    """The text of a <pre id=...><code>...</code></pre> block, as a reader copies it."""
    found = re.search(rf'<pre[^>]* id="{element_id}"[^>]*><code>(.*?)</code></pre>', page, re.S)
    assert found, element_id
    return html.unescape(found.group(1))


def test_the_page_has_everything_to_install_the_gadget(tmp_path) -> None:
    client = make_app(tmp_path, tool_url=TOOL).test_client()
    response = client.get("/gadget")  # no login: people read it before installing anything
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    gadget = build_gadget(TOOL)
    assert block(page, "gadget-definition") == gadget.definition
    assert block(page, "gadget-code") == gadget.code
    assert block(page, "gadget-description") == gadget.description
    assert block(page, "gadget-publish") == PUBLISH_COMMAND
    assert block(page, "gadget-global-js") == global_js_line()
    assert "No data leaves the wiki until you click the link." in page
    assert 'href="https://meta.wikimedia.org/wiki/Special:MyPage/global.js"' in page
    assert "<script" not in page.split("</main>")[0].split("<main")[1]  # nothing runs on the page
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_the_page_in_arabic_keeps_the_code_left_to_right(tmp_path) -> None:
    client = make_app(tmp_path).test_client()
    page = client.get("/gadget?uselang=ar").get_data(as_text=True)
    arabic = read_message_file(DEFAULT_MESSAGES_DIR / "ar.json")
    assert '<html lang="ar" dir="rtl">' in page
    assert html.escape(arabic["reporting-gadget-page-title"], quote=False) in page
    for element_id in ("gadget-definition", "gadget-code", "gadget-publish", "gadget-global-js"):
        assert re.search(rf'<pre[^>]* dir="ltr"[^>]* id="{element_id}"', page), element_id


def test_the_start_page_links_to_it(client) -> None:
    assert 'href="/gadget"' in client.get("/").get_data(as_text=True)
