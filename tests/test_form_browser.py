"""The report form in a real browser (headless Chromium), with and without JavaScript, in English and
Arabic, at 1280 and 360 px: issue 14, findings 1-4.

The tool runs on 127.0.0.1 in a thread (development login). Every page state is checked by
axe-core (0 violations), must not scroll sideways, and leaves a screenshot in ``test-artifacts/``
(``form-<state>-<lang>-<width>-<js|nojs>.png``).

axe-core runs as a script in the page; a page without JavaScript cannot run it, so a state reached
without JavaScript is checked by showing the very same HTML again in a second page whose own
script is blocked (:func:`assert_accessible`): the DOM axe reads is the one the reporter had.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

from reporting.identity import session as auth

from .browser import open_page, serving
from .conftest import make_app

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
AXE = Axe()
LINKS = "https://en.wikipedia.org/w/index.php?diff=123\nhttps://en.wikipedia.org/wiki/Special:Contributions/Troll"
TEXT = {"en": "He wrote my home address on my talk page.", "ar": "كتب عنوان منزلي على صفحة نقاشي."}
OTHER = {"en": "ar", "ar": "en"}


@pytest.fixture(scope="module")
def tool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    tmp = tmp_path_factory.mktemp("form-browser")
    with serving(lambda url: make_app(tmp, **{"rate_limit.per_day": 1000})) as served:
        yield served


def open_form(browser: Browser, url: str, user: str, lang: str, width: int, js: bool) -> Page:
    page = open_page(browser, width, js=js)
    log_in(page, url, user, lang)
    page.goto(f"{url}/report")
    return page


def log_in(page: Page, url: str, user: str, lang: str | None = None) -> None:
    page.goto(f"{url}/login" + (f"?uselang={lang}" if lang else ""))
    page.fill("#username", user)
    page.click("button[type=submit].cdx-button--action-progressive")
    page.wait_for_url(f"{url}/")


def shot(page: Page, state: str, lang: str, width: int, js: bool) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"form-{state}-{lang}-{width}-{'js' if js else 'nojs'}.png"), full_page=True)


def assert_accessible(browser: Browser, page: Page, js: bool) -> None:
    """axe-core finds nothing on ``page`` as it is now (and the page does not scroll sideways)."""
    if js:
        target = page
    else:
        html, here, viewport = page.content(), page.url, page.viewport_size
        context = browser.new_context(viewport=viewport)
        target = context.new_page()
        target.route("**/*.js", lambda route: route.abort())
        target.route(here, lambda route: route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html))
        target.goto(here)
    try:
        width = target.evaluate("document.documentElement.scrollWidth")
        assert width <= target.viewport_size["width"], f"{page.url} is {width} px wide"
        results = AXE.run(target)
        assert results.violations_count == 0, results.generate_report()
    finally:
        if not js:
            target.context.close()


def focused(page: Page) -> str:
    """The id (or class) of the focused element, read by Playwright's own selector engine, which
    works in a page without JavaScript too."""
    element = page.locator(":focus")
    if element.count() == 0:
        return ""
    return element.get_attribute("id") or "." + (element.get_attribute("class") or "")


CASES = [(lang, width, js) for lang in ("en", "ar") for width in (1280, 360) for js in (True, False)]


@pytest.mark.parametrize("lang, width, js", CASES)
def test_errors_are_summarised_focused_and_linked_and_the_language_switch_keeps_the_text(browser, tool, lang,
                                                                                        width, js):
    url, _app = tool
    page = open_form(browser, url, f"Summary {lang} {width} {js}", lang, width, js)
    try:
        assert page.get_attribute("html", "lang") == lang
        assert page.locator("#wiki").get_attribute("placeholder") is None
        assert page.locator("#wiki-suggestions option").count() >= 20
        assert_accessible(browser, page, js)
        shot(page, "1-empty", lang, width, js)

        # The skip link is the first thing the keyboard reaches.
        page.keyboard.press("Tab")
        assert focused(page) == ".skip-link"

        page.fill("#description", TEXT[lang])
        page.click("button.report-submit")
        page.wait_for_load_state()
        summary = page.locator("#form-errors")
        assert summary.is_visible()
        assert summary.get_attribute("role") == "alert"
        items = page.locator("#form-errors li a")
        assert items.count() == 2
        choose = {"en": "Choose what happened.", "ar": "اختر ما حدث."}[lang]
        assert items.nth(0).inner_text() == choose
        assert page.locator("#category-threat-of-violence").get_attribute("aria-invalid") == "true"
        assert page.locator("#wiki").get_attribute("aria-invalid") == "true"
        assert page.input_value("#description") == TEXT[lang]
        assert focused(page) == "form-errors"  # autofocus: no script needed
        page.keyboard.press("Tab")
        assert page.locator("#form-errors li:first-child a:focus").count() == 1
        assert_accessible(browser, page, js)
        shot(page, "2-errors", lang, width, js)

        # A summary link leads to its field.
        items.nth(1).click()
        assert page.url.endswith("#wiki")
        assert focused(page) == "wiki"

        # Switching language sends the form and brings it back filled, in the other language.
        page.fill("#wiki", "English Wikipedia")
        page.select_option("#language-chooser-select", OTHER[lang])
        page.click(".language-chooser button")
        page.wait_for_load_state()
        assert page.get_attribute("html", "lang") == OTHER[lang]
        assert page.input_value("#description") == TEXT[lang]
        assert page.input_value("#wiki") == "English Wikipedia"
        assert page.locator("#form-errors").count() == 0
        assert_accessible(browser, page, js)
        shot(page, "3-language", lang, width, js)

        # The wiki's English name is accepted; the report is sent.
        page.check("#category-harassment", force=True)
        page.click("button.report-submit")
        page.wait_for_url(re.compile(r".*/reports/IR-.*submitted=1.*"))
        assert "en.wikipedia.org" in page.inner_text("main")
    finally:
        page.context.close()


def background_checks(page: Page) -> list[Any]:
    requests: list[Any] = []
    page.on("request", lambda request: requests.append(request)
            if request.method == "POST" and request.headers.get("x-background-check") == "1" else None)
    return requests


def wait_for_checks(page: Page, requests: list[Any], count: int) -> None:
    page.wait_for_function("() => !document.getElementById('evidence-preview').hasAttribute('aria-busy')")
    for _ in range(100):
        if len(requests) >= count:
            break
        page.wait_for_timeout(50)
    assert len(requests) >= count
    page.wait_for_function("() => !document.getElementById('evidence-preview').hasAttribute('aria-busy')")


@pytest.mark.parametrize("lang, width", [("en", 1280), ("ar", 360), ("en", 360), ("ar", 1280)])
def test_check_the_links_with_javascript(browser, tool, lang, width):
    url, _app = tool
    page = open_form(browser, url, f"Checker {lang} {width}", lang, width, True)
    try:
        requests = background_checks(page)
        # Typing: the check runs when typing pauses, at the form's own address.
        page.click("#evidence")
        page.keyboard.type("https://en.wikipedia.org/w/index.php?diff=123")
        wait_for_checks(page, requests, 1)
        assert requests[0].url == f"{url}/report"  # not /[object RadioNodeList]
        page.wait_for_selector("#evidence-preview .evidence-fact")
        assert page.locator("#evidence-preview .evidence-fact").count() == 1
        assert page.url == f"{url}/report"  # no navigation

        # Leaving the field checks what changed.
        page.fill("#evidence", LINKS)
        page.keyboard.press("Tab")
        wait_for_checks(page, requests, 2)
        page.wait_for_function("() => document.querySelectorAll('#evidence-preview .evidence-fact').length === 2")

        # The button checks again, in place.
        page.click("button.evidence-check")
        wait_for_checks(page, requests, 3)
        assert page.url == f"{url}/report"
        assert page.locator("#evidence-preview .evidence-fact").count() == 2

        # Enter in the one-line wiki field checks too (it does not send the report).
        page.fill("#wiki", "enwiki")
        page.press("#wiki", "Enter")
        wait_for_checks(page, requests, 4)
        assert page.url == f"{url}/report"
        assert_accessible(browser, page, True)
        shot(page, "4-checked", lang, width, True)

        # No answer at all: a message, in the page's language, instead of silence.
        page.route(f"{url}/report", lambda route: route.abort()
                   if route.request.headers.get("x-background-check") else route.continue_())
        page.click("button.evidence-check")
        problem = page.locator("#evidence-preview-problem")
        problem.wait_for()
        failed = {"en": "The links could not be checked just now.", "ar": "تعذّر التحقق من الروابط الآن."}[lang]
        assert problem.inner_text().startswith(failed)
        assert_accessible(browser, page, True)
        shot(page, "5-check-failed", lang, width, True)
        page.unroute(f"{url}/report")

        # Logged out meanwhile (the server answers 403): the message says so, and that nothing is lost.
        page.context.clear_cookies()
        page.click("button.evidence-check")
        page.wait_for_function("() => (document.getElementById('evidence-preview-problem') || {}).textContent"
                               " && document.getElementById('evidence-preview-problem').textContent"
                               f" !== {failed!r} && !document.getElementById('evidence-preview-problem')"
                               ".textContent.startsWith(" + repr(failed) + ")")
        logged_out = {"en": "no longer logged in", "ar": "لم تعد مسجّل الدخول"}[lang]
        assert logged_out in page.inner_text("#evidence-preview-problem")
        shot(page, "6-check-logged-out", lang, width, True)
    finally:
        page.context.close()


def test_too_many_checks_show_the_servers_reason(browser, tmp_path):
    with serving(lambda url: make_app(tmp_path, **{"rate_limit.evidence_checks_per_hour": 1})) as (url, _app):
        page = open_form(browser, url, "Hasty", "en", 1280, True)
        try:
            requests = background_checks(page)
            page.fill("#evidence", LINKS)
            page.keyboard.press("Tab")  # leaving the field: the one check this hour
            wait_for_checks(page, requests, 1)
            page.wait_for_selector("#evidence-preview .evidence-fact")
            page.click("button.evidence-check")
            wait_for_checks(page, requests, 2)
            problem = page.locator("#evidence-preview-problem")
            problem.wait_for()
            assert "check" in problem.inner_text().lower()
            assert "could not be checked just now" not in problem.inner_text()
            assert_accessible(browser, page, True)
            shot(page, "7-check-rate-limited", "en", 1280, True)
        finally:
            page.context.close()


@pytest.mark.parametrize("lang, width, js", [("en", 1280, True), ("ar", 360, True), ("en", 360, False),
                                             ("ar", 1280, False)])
def test_the_description_is_counted_and_never_cut(browser, tool, lang, width, js):
    url, _app = tool
    page = open_form(browser, url, f"Counter {lang} {width} {js}", lang, width, js)
    try:
        count = page.locator("#description-count")
        assert count.is_visible() == js  # the count is the script's; the limit is in the help text
        if js:
            page.click("#description")
            page.keyboard.type("abc")
            assert count.inner_text() == {"en": "3 of 5,000 characters", "ar": "3 من 5,000 حرف"}[lang]
        too_long = "x" * 5001 + "\n" + "ي" * 99
        page.fill("#description", too_long)
        assert page.input_value("#description") == too_long  # pasted whole: no maxlength cuts it
        if js:
            assert page.locator("#description-count-over").is_visible()
            assert "char-count--over" in (count.get_attribute("class") or "")
            assert count.inner_text().startswith("5,101")
            assert_accessible(browser, page, js)
            shot(page, "8-too-long", lang, width, js)
        page.fill("#wiki", "enwiki")
        page.check("#category-harassment", force=True)
        page.click("button.report-submit")
        page.wait_for_load_state()
        assert page.locator("#form-errors").is_visible()
        assert page.locator("#error-description-1").is_visible()
        assert page.input_value("#description") == too_long  # refused whole, kept whole
        assert_accessible(browser, page, js)
        shot(page, "8-too-long-refused", lang, width, js)
        if js:
            page.fill("#description", "Short now.")
            assert not page.locator("#description-count-over").is_visible()
    finally:
        page.context.close()


@pytest.mark.parametrize("lang, width, js", [("en", 1280, False), ("ar", 360, False), ("en", 360, True),
                                             ("ar", 1280, True)])
def test_a_report_sent_after_the_session_ended_comes_back_after_logging_in(browser, tool, monkeypatch, lang,
                                                                           width, js):
    url, app = tool
    user = f"Late {lang} {width} {js}"
    page = open_form(browser, url, user, lang, width, js)
    try:
        page.fill("#wiki", "ويكيبيديا العربية" if lang == "ar" else "English Wikipedia")
        page.check("#category-doxing", force=True)
        page.fill("#description", TEXT[lang])
        lifetime = app.permanent_session_lifetime.total_seconds()
        start = auth.clock()
        monkeypatch.setattr(auth, "clock", lambda: start + lifetime + 1)
        page.click("button.report-submit")
        page.wait_for_url(f"{url}/login?returnto=/report")
        assert page.locator("#login-draft-kept").is_visible()
        assert_accessible(browser, page, js)
        shot(page, "9-login-kept", lang, width, js)
        monkeypatch.setattr(auth, "clock", lambda: start + lifetime + 60)
        page.fill("#username", user)
        page.click("button[type=submit].cdx-button--action-progressive")
        page.wait_for_url(f"{url}/report")
        assert page.locator("#form-draft-restored").is_visible()
        assert page.input_value("#description") == TEXT[lang]
        assert page.is_checked("#category-doxing")
        assert_accessible(browser, page, js)
        shot(page, "10-restored", lang, width, js)
        page.click("button.report-submit")
        page.wait_for_url(re.compile(r".*/reports/IR-.*submitted=1.*"))
        assert ("ar.wikipedia.org" if lang == "ar" else "en.wikipedia.org") in page.inner_text("main")
    finally:
        monkeypatch.undo()
        page.context.close()


@pytest.mark.parametrize("lang, width, js", [("en", 360, False), ("ar", 1280, True)])
def test_the_wiki_field_asks_which_wikipedia_and_an_offline_report_needs_none(browser, tool, lang, width, js):
    url, _app = tool
    page = open_form(browser, url, f"Wikis {lang} {width} {js}", lang, width, js)
    try:
        page.fill("#wiki", "ويكيبيديا" if lang == "ar" else "Wikipedia")
        page.check("#category-harassment", force=True)
        page.click("button.report-submit")
        page.wait_for_load_state()
        error = page.locator("#error-wiki-1")
        assert ("أيّها تقصد" if lang == "ar" else "Which one?") in error.inner_text()
        assert_accessible(browser, page, js)
        shot(page, "11-which-wikipedia", lang, width, js)
        page.fill("#wiki", "")
        page.check("#category-offline-or-event-safety", force=True)
        page.fill("#description", TEXT[lang])
        page.click("button.report-submit")
        page.wait_for_url(re.compile(r".*/reports/IR-.*submitted=1.*"))
        assert ("لا يوجد" if lang == "ar" else "None (not on a wiki)") in page.inner_text("main")
        shot(page, "12-offline-receipt", lang, width, js)
    finally:
        page.context.close()
