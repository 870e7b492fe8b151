"""The gadget in a real MediaWiki and a real browser: every kind of page, every bundled skin.

Debian's MediaWiki 1.39 with the Gadgets extension (tests/gadget/wiki.py) gets the gadget through
the publish command and the Action API, exactly as an interface administrator would publish it.
Headless Chromium logs in to the wiki as Alice and opens each kind of page in each skin
(``useskin=``): the link must be there with the right parameters, the page must load nothing from
anywhere but the wiki (every request is recorded), and clicking the link (after opening the menu it
sits in) must land on the running tool's /report with the values in the form, after the tool's
login where needed. Screenshots of the open menus go to test-artifacts/ for people to look at.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, Page

from reporting.gadget.build import (
    BUDGET_GZIP_BYTES,
    build_gadget,
    embedded_messages,
    global_js_line,
    gzip_size,
    mediawiki_language,
)
from reporting.i18n import DEFAULT_MESSAGES_DIR
from reporting.i18n.languages import MEDIAWIKI_FALLBACKS
from reporting.i18n.messages import read_message_file
from tests.browser import serving
from tests.conftest import make_app
from tests.evidence.mediawiki import MediaWiki
from tests.gadget.wiki import SKINS, WIKI_NAME, password_file

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
MODULE = "ext.gadget.report-privately"
SPECIAL_TITLE = "Talk:Q&A? 1+1/Ünïcödé Пример 例"


@dataclass
class Site:
    wiki: MediaWiki
    tool: str
    app: Any
    revs: dict[str, int]
    requests: list[str] = field(default_factory=list)

    @property
    def wiki_origin(self) -> str:
        return self.wiki.server

    def url(self, query: str, skin: str = "vector-2022", lang: str | None = None) -> str:
        return f"{self.wiki.index_url}?{query}&useskin={skin}" + (f"&uselang={lang}" if lang else "")


@pytest.fixture(scope="module")
def site(gadget_wiki: MediaWiki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    wiki = gadget_wiki
    revs = {
        "sandbox-1": wiki.edit("Alice", "Talk:Sandbox", "== Hello ==\nWelcome. ~~~~\n", summary="start"),
        "sandbox-2": wiki.edit("Mallory", "Talk:Sandbox", appendtext="\n:You are an idiot. ~~~~\n", summary="reply"),
        "mallory-talk-1": wiki.edit("Alice", "User talk:Mallory", "== Please ==\nStop. ~~~~\n", summary="note"),
        "mallory-talk-2": wiki.edit("Mallory", "User talk:Mallory", appendtext="\n:No. ~~~~\n", summary="no"),
        "mallory-sub": wiki.edit("Mallory", "User:Mallory/Sandbox", "Draft", summary="draft"),
        "alice": wiki.edit("Alice", "User:Alice", "Hello, I am Alice.", summary="me"),
        "special-1": wiki.edit("Alice", SPECIAL_TITLE, "== Topic ==\nHello. ~~~~\n", summary="start"),
        "special-2": wiki.edit("Mallory", SPECIAL_TITLE, appendtext="\n:Go away, Alice. ~~~~\n", summary="rude"),
    }
    tmp = tmp_path_factory.mktemp("gadget-tool")

    def tool_app(url: str) -> Any:
        # The wiki under its name (links) and its address (the publish command's --api).
        return make_app(tmp, tool_url=url, **{"wikis.extra": {WIKI_NAME: wiki.api_url, "127.0.0.1": wiki.api_url}})

    with serving(tool_app) as (tool_url, app):
        published = app.test_cli_runner().invoke(args=[
            "reporting", "gadget", "publish", "--api", wiki.api_url, "--user", "Admin@tests",
            "--password-file", str(password_file(wiki, "Admin", tmp))])
        assert published.exit_code == 0, published.output
        yield Site(wiki, tool_url, app, revs)


def new_context(browser: Browser, site: Site, user: str | None) -> BrowserContext:
    """A browser profile that records every request, logged in to the wiki as ``user``."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(20000)
    context.on("request", lambda request: site.requests.append(request.url))
    if user:
        page = context.new_page()
        page.goto(f"{site.wiki.index_url}?title=Special:UserLogin")
        page.fill("#wpName1", user)
        page.fill("#wpPassword1", f"{user}-password-for-tests-1")
        page.click("#wpLoginAttempt")
        page.wait_for_selector("#pt-logout, #pt-userpage, .minerva-user-menu", state="attached")
        page.close()
    return context


@pytest.fixture(scope="module")
def alice(browser: Browser, site: Site) -> Iterator[Page]:
    """One page of a profile logged in to the wiki as Alice (and, after the first hand-off, to the tool)."""
    context = new_context(browser, site, "Alice")
    page = context.new_page()
    yield page
    context.close()


def load(page: Page, site: Site, url: str) -> None:
    """Open ``url`` and wait until the gadget has run; only this page's requests stay recorded."""
    site.requests.clear()
    page.goto(url)
    page.wait_for_function(f"() => window.mw && mw.loader.getState('{MODULE}') === 'ready'")
    page.wait_for_selector("#ca-report-privately a", state="attached")


def link_query(page: Page) -> dict[str, str]:
    href = page.get_attribute("#ca-report-privately a", "href")
    assert href is not None
    return dict(parse_qsl(urlsplit(href).query, keep_blank_values=True, strict_parsing=True))


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def assert_only_the_wiki_was_asked(site: Site) -> None:
    assert site.requests, "requests are recorded"
    others = [url for url in site.requests if origin(url) != site.wiki_origin and not url.startswith("data:")]
    assert others == []


# Where each skin keeps the link, and what opens that menu.
MENU_TOGGLES = {
    "vector-2022": ["#p-cactions-checkbox"],
    "vector": ["#p-cactions-checkbox"],
    "monobook": [],
    "timeless": [],
    "minerva": ["#page-actions-overflow-toggle", "#mw-mf-main-menu-button"],
}


def reveal(page: Page, skin: str) -> None:
    """Open the menu holding the link, as a person would."""
    link = page.locator("#ca-report-privately a")
    for toggle in MENU_TOGGLES[skin]:
        if link.is_visible():
            break
        candidate = page.locator(toggle)
        if candidate.count() and candidate.first.is_visible():
            candidate.first.click(timeout=5000)
            page.wait_for_timeout(150)
    assert link.is_visible(), f"the link is not reachable in {skin}"


def follow(page: Page, site: Site, skin: str) -> None:
    """Click the link; log in to the tool on the way if it asks."""
    reveal(page, skin)
    page.click("#ca-report-privately a")
    page.wait_for_url(lambda url: url.startswith(site.tool + "/report?") or url.startswith(site.tool + "/login"))
    if urlsplit(page.url).path == "/login":
        page.fill("#username", "Alice")
        page.click("button[type=submit].cdx-button--action-progressive")
        page.wait_for_url(lambda url: url.startswith(site.tool + "/report?"))


def form_values(page: Page) -> dict[str, str]:
    return {name: page.input_value(f"#{name}") for name in ("wiki", "evidence", "reported_users")}


def evidence(query: str) -> str:
    """The evidence link the form builds on the test wiki (its script path is the root)."""
    return f"https://{WIKI_NAME}{query}"


# The rows of the table: page to open, the link's parameters, the form's values.
def rows(revs: dict[str, int]) -> dict[str, tuple[str, dict[str, str], dict[str, str]]]:
    r1, r2 = revs["sandbox-1"], revs["sandbox-2"]
    return {
        "diff": (f"title=Talk:Sandbox&diff={r2}&oldid={r1}",
                 {"page": "Talk:Sandbox", "diff": str(r2), "oldid": str(r1)},
                 {"evidence": evidence(f"/index.php?title=Talk:Sandbox&diff={r2}&oldid={r1}"), "reported_users": ""}),
        "old revision": (f"title=Special:PermanentLink/{r1}",
                         {"page": "Talk:Sandbox", "revid": str(r1)},
                         {"evidence": evidence(f"/index.php?title=Talk:Sandbox&oldid={r1}"), "reported_users": ""}),
        "history": ("title=Talk:Sandbox&action=history",
                    {"page": "Talk:Sandbox"},
                    {"evidence": evidence("/wiki/Talk:Sandbox"), "reported_users": ""}),
        "contributions": ("title=Special:Contributions/Mallory",
                          {"user": "Mallory"},
                          {"evidence": evidence("/wiki/Special:Contributions/Mallory"), "reported_users": "Mallory"}),
        "user talk page": ("title=User_talk:Mallory",
                           {"page": "User_talk:Mallory", "user": "Mallory"},
                           {"evidence": evidence("/wiki/User_talk:Mallory"), "reported_users": "Mallory"}),
        "other page": ("title=Talk:Sandbox",
                       {"page": "Talk:Sandbox", "revid": str(r2)},
                       {"evidence": evidence(f"/index.php?title=Talk:Sandbox&oldid={r2}"), "reported_users": ""}),
    }


ROWS = ["diff", "old revision", "history", "contributions", "user talk page", "other page"]


@pytest.mark.parametrize("skin", SKINS)
@pytest.mark.parametrize("row", ROWS)
def test_each_kind_of_page_in_each_skin(alice: Page, site: Site, skin: str, row: str) -> None:
    query, params, values = rows(site.revs)[row]
    load(alice, site, site.url(query, skin))
    assert link_query(alice) == {"wiki": WIKI_NAME, **params, "uselang": "en"}
    assert alice.text_content("#ca-report-privately a").strip() == "Report privately"
    assert alice.get_attribute("#ca-report-privately a", "title") == "Report harassment or a safety problem here"
    assert alice.locator("#ca-report-privately").count() == 1
    assert_only_the_wiki_was_asked(site)  # nothing from the tool or anywhere else before the click
    if row in ("other page", "history"):
        ARTIFACTS.mkdir(exist_ok=True)
        reveal(alice, skin)
        alice.screenshot(path=str(ARTIFACTS / f"gadget-{skin}-{row.replace(' ', '-')}.png"))
    follow(alice, site, skin)
    assert form_values(alice) == {"wiki": WIKI_NAME, **values}


@pytest.mark.parametrize(("query", "expected"), [
    ("title=Special:Diff/{sandbox-2}", {"page": "Talk:Sandbox", "diff": "{sandbox-2}", "oldid": "{sandbox-1}"}),
    ("diff=prev&oldid={sandbox-2}", {"page": "Talk:Sandbox", "diff": "{sandbox-2}", "oldid": "{sandbox-1}"}),
    ("title=Special:ComparePages&page1=Talk:Sandbox&rev1={sandbox-1}&page2=Talk:Sandbox&rev2={sandbox-2}",
     {"diff": "{sandbox-2}", "oldid": "{sandbox-1}"}),
    ("title=Talk:Sandbox&oldid={sandbox-1}", {"page": "Talk:Sandbox", "revid": "{sandbox-1}"}),
    ("title=User:Mallory/Sandbox", {"page": "User:Mallory/Sandbox", "user": "Mallory"}),
    ("title=User_talk:Mallory&oldid={mallory-talk-1}",
     {"page": "User_talk:Mallory", "revid": "{mallory-talk-1}", "user": "Mallory"}),
    ("title=User:Alice", {"page": "User:Alice"}),  # one's own page: nobody to report
    ("title=Special:RecentChanges", {"page": "Special:RecentChanges"}),
])
def test_more_forms_of_the_same_pages(alice: Page, site: Site, query: str, expected: dict[str, str]) -> None:
    def fill(text: str) -> str:
        for name, revid in site.revs.items():
            text = text.replace("{" + name + "}", str(revid))
        return text

    load(alice, site, site.url(fill(query)))
    assert link_query(alice) == {"wiki": WIKI_NAME, **{key: fill(value) for key, value in expected.items()},
                                 "uselang": "en"}


def test_a_diff_rendered_again_in_place_moves_the_link(alice: Page, site: Site) -> None:
    """What RevisionSlider and similar tools do: new ids in mw.config, then the wikipage.diff hook."""
    r1, r2 = site.revs["mallory-talk-1"], site.revs["mallory-talk-2"]
    load(alice, site, site.url(f"title=Talk:Sandbox&diff={site.revs['sandbox-2']}&oldid={site.revs['sandbox-1']}"))
    alice.evaluate(f"""() => {{
        mw.config.set({{ wgDiffOldId: {r1}, wgDiffNewId: {r2}, wgPageName: 'User_talk:Mallory' }});
        mw.hook('wikipage.diff').fire($('table.diff'));
    }}""")
    assert link_query(alice) == {"wiki": WIKI_NAME, "page": "User_talk:Mallory", "diff": str(r2), "oldid": str(r1),
                                 "uselang": "en"}
    assert alice.locator("#ca-report-privately").count() == 1


def test_a_title_with_every_awkward_character_survives_the_hand_off(alice: Page, site: Site) -> None:
    r1, r2 = site.revs["special-1"], site.revs["special-2"]
    load(alice, site, site.url(f"title={quote(SPECIAL_TITLE)}&diff={r2}&oldid={r1}"))
    page_name = SPECIAL_TITLE.replace(" ", "_")
    assert link_query(alice) == {"wiki": WIKI_NAME, "page": page_name, "diff": str(r2), "oldid": str(r1),
                                 "uselang": "en"}
    follow(alice, site, "vector-2022")
    values = form_values(alice)
    title = "Talk:Q%26A%3F_1%2B1/Ünïcödé_Пример_例"  # readable letters, "&?+" encoded
    assert values["evidence"] == evidence(f"/index.php?title={title}&diff={r2}&oldid={r1}")
    # The tool reads the link back as that page on that wiki, and the wiki confirms it.
    alice.click("button.evidence-check")
    alice.wait_for_selector(".evidence-fact--resolved")
    assert alice.inner_text(".evidence-fact--resolved .evidence-fact__facts dd bdi") == SPECIAL_TITLE
    assert "Go away, Alice." in alice.inner_text(".evidence-text--added")

    # No title can hold "#", but the hand-off must not cut a value at one: the same code path.
    load(alice, site, site.url("title=Talk:Sandbox"))
    alice.evaluate("() => { mw.config.set('wgPageName', 'Talk:A#B & C+D?/E'); mw.hook('wikipage.diff').fire(); }")
    assert link_query(alice)["page"] == "Talk:A#B & C+D?/E"
    follow(alice, site, "vector-2022")
    revid = site.revs["sandbox-2"]
    assert form_values(alice)["evidence"] == evidence(f"/index.php?title=Talk:A%23B_%26_C%2BD%3F/E&oldid={revid}")


@pytest.mark.parametrize("skin", ["vector-2022", "minerva"])
def test_arabic_interface(alice: Page, site: Site, skin: str) -> None:
    load(alice, site, site.url("title=Talk:Sandbox", skin, lang="ar"))
    link = alice.locator("#ca-report-privately a")
    arabic = read_message_file(DEFAULT_MESSAGES_DIR / "ar.json")
    assert link.text_content().strip() == arabic["reporting-gadget-link"]
    assert link.get_attribute("title") == arabic["reporting-gadget-tooltip"]
    assert link_query(alice)["uselang"] == "ar"
    assert alice.get_attribute("html", "dir") == "rtl"
    reveal(alice, skin)
    assert alice.eval_on_selector("#ca-report-privately a", "e => getComputedStyle(e).direction") == "rtl"
    # The layout holds: nothing pushed out sideways, the link inside the window.
    assert alice.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    box = link.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 1400
    ARTIFACTS.mkdir(exist_ok=True)
    alice.screenshot(path=str(ARTIFACTS / f"gadget-{skin}-ar.png"))
    follow(alice, site, skin)
    assert alice.get_attribute("html", "lang") == "ar" and alice.get_attribute("html", "dir") == "rtl"


@pytest.mark.parametrize(("lang", "expected"), [
    ("de-at", "de"), ("azb", "fa"), ("zh-tw", "zh-hans"), ("gan-hant", "zh-hans"), ("crh-cyrl", "ru"),
    ("en-gb", "en"), ("ja", "en"), ("pt-br", "pt"), ("uk", "uk"),
])
def test_the_user_s_language_and_its_fallbacks(alice: Page, site: Site, lang: str, expected: str) -> None:
    load(alice, site, site.url("title=Talk:Sandbox", lang=lang))
    wanted = read_message_file(DEFAULT_MESSAGES_DIR / f"{expected}.json")["reporting-gadget-link"]
    assert alice.text_content("#ca-report-privately a").strip() == wanted
    assert link_query(alice)["uselang"] == lang


def test_logged_out_readers_get_no_link_and_no_gadget(browser: Browser, site: Site) -> None:
    context = new_context(browser, site, None)
    try:
        page = context.new_page()
        for skin in SKINS:
            site.requests.clear()
            page.goto(site.url("title=Talk:Sandbox", skin))
            page.wait_for_function("() => window.mw && mw.loader.getState('mediawiki.util') !== null")
            page.wait_for_load_state("networkidle")
            assert page.locator("#ca-report-privately").count() == 0
            # Readers do not even download it (rights=editmyuserjs).
            assert page.evaluate(f"() => mw.loader.getState('{MODULE}')") == "registered"
            assert_only_the_wiki_was_asked(site)
    finally:
        context.close()


def test_the_global_js_line_loads_the_gadget_for_one_user(browser: Browser, site: Site) -> None:
    """Carol turns the gadget off in her preferences and loads it with the line the /gadget page gives
    (User:Carol/common.js plays global.js's part on one wiki). Mallory has both: still one link."""
    line = global_js_line(f"//127.0.0.1:{site.wiki.port}/index.php")
    site.wiki.edit("Carol", "User:Carol/common.js", line, summary="gadget for me")
    site.wiki.edit("Mallory", "User:Mallory/common.js", line, summary="gadget twice")
    for user in ("Carol", "Mallory"):
        context = new_context(browser, site, user)
        try:
            page = context.new_page()
            if user == "Carol":
                page.goto(site.url("title=Talk:Sandbox"))
                page.evaluate("""() => mw.loader.using('mediawiki.api').then(
                    () => new mw.Api().saveOption('gadget-report-privately', '0'))""")
            site.requests.clear()
            page.goto(site.url("title=Talk:Sandbox&action=history"))
            page.wait_for_selector("#ca-report-privately a", state="attached")
            page.wait_for_load_state("networkidle")
            assert page.locator("#ca-report-privately").count() == 1
            assert link_query(page) == {"wiki": WIKI_NAME, "page": "Talk:Sandbox", "uselang": "en"}
            state = page.evaluate(f"() => mw.loader.getState('{MODULE}')")
            assert state == ("registered" if user == "Carol" else "ready")
            assert_only_the_wiki_was_asked(site)
        finally:
            context.close()


def test_a_page_view_carries_at_most_2_kb_of_gadget(site: Site) -> None:
    """What ResourceLoader serves for the module, and the raw page global.js loads, gzip-compressed."""
    module = requests.get(f"{site.wiki.server}/load.php", params={
        "modules": MODULE, "lang": "ar", "skin": "vector-2022"}, timeout=30)
    assert module.status_code == 200 and "mw.loader.implement" in module.text
    raw = requests.get(site.wiki.index_url, params={
        "title": "MediaWiki:Gadget-report-privately.js", "action": "raw", "ctype": "text/javascript"}, timeout=30)
    assert raw.text.rstrip() == build_gadget(site.tool).code.rstrip()
    assert gzip_size(module.text) <= BUDGET_GZIP_BYTES
    assert gzip_size(raw.text) <= BUDGET_GZIP_BYTES


def test_the_embedded_fallbacks_in_a_real_javascript_engine(browser: Browser, site: Site) -> None:
    """All MediaWiki languages at once: the built code runs in Chromium with a stand-in for the few
    mw functions it calls (a real wiki would need hundreds of page views for this), and picks the
    language MediaWiki's fallback chain picks. The real wiki shows the same for the examples above."""
    messages, _ = embedded_messages()
    expected = {code: messages[mediawiki_language(code, messages)][0] for code in sorted(MEDIAWIKI_FALLBACKS)}
    code = build_gadget(site.tool).code
    page = browser.new_page()
    try:
        page.set_content("<!DOCTYPE html><title>fallbacks</title>")
        texts = page.evaluate("""([code, langs]) => langs.map(lang => {
            let text = null;
            const config = { wgUserName: 'Alice', wgUserLanguage: lang, wgServerName: 'w', wgPageName: 'P',
                             wgNamespaceNumber: 0, wgRevisionId: 1, wgCurRevisionId: 1 };
            const mw = {
                config: { get: key => key === undefined ? config : config[key] },
                loader: { using: () => ({ then: run => run() }) },
                hook: () => ({ add: () => {} }),
                util: { addPortletLink: (portlet, href, label) => { text = label; return {}; } },
            };
            const $ = run => run();
            new Function('mw', '$', code)(mw, $);
            return text;
        })""", [code, sorted(expected)])
    finally:
        page.close()
    assert dict(zip(sorted(expected), texts, strict=True)) == expected


def test_the_gadget_page_right_to_left(browser: Browser, site: Site) -> None:
    """The tool's /gadget page in Persian: the text mirrors, the code stays left-to-right and scrolls
    inside its box instead of widening the page."""
    page = browser.new_page(viewport={"width": 800, "height": 900})
    try:
        page.goto(f"{site.tool}/gadget?uselang=fa")
        assert page.get_attribute("html", "dir") == "rtl"
        assert page.eval_on_selector("h1", "e => getComputedStyle(e).direction") == "rtl"
        for element_id in ("gadget-definition", "gadget-code", "gadget-global-js"):
            assert page.eval_on_selector(f"#{element_id}", "e => getComputedStyle(e).direction") == "ltr"
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
        code = page.locator("#gadget-code").bounding_box()
        main = page.locator("main").bounding_box()
        assert code is not None and main is not None and code["x"] + code["width"] <= main["x"] + main["width"] + 1
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "gadget-page-fa.png"), full_page=True)
    finally:
        page.close()
