"""Every page state in headless Chromium, in English and Arabic, at 1280 and 360 px (issue 14, 5-8).

No page scrolls sideways on a phone (``document.documentElement.scrollWidth`` within the viewport),
the header stays within two rows there, the receipt says who reads the report and links the privacy
statement, its reference has a copy button only with JavaScript, emergencies get the right notices,
error icons keep their colour in Arabic, and there is a favicon. Full-page screenshots are kept in
``test-artifacts/`` (``pages-<lang>-<width>-<state>.png``).
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import Page  # noqa: E402

from tests.browser import serving  # noqa: E402
from tests.conftest import make_app  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
WIDTHS = (1280, 360)
LANGUAGES = ("en", "ar")
EVIDENCE = "https://en.wikipedia.org/w/index.php?diff=123&oldid=120"


@pytest.fixture(scope="module")
def tool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(lambda url: make_app(tmp_path_factory.mktemp("pages"))) as (url, _app):
        yield url


def log_in(page: Page, tool: str, username: str) -> None:
    page.goto(f"{tool}/login")
    page.fill("#username", username)
    with page.expect_navigation():
        page.click("form:has(#username) button[type=submit]")


def file_report(page: Page, tool: str, category: str = "harassment", description: str = "What happened") -> str:
    page.goto(f"{tool}/report")
    page.check(f"#category-{category}")
    page.fill("#wiki", "en.wikipedia.org")
    page.fill("#evidence", EVIDENCE)
    page.fill("#reported_users", "Bob")
    page.fill("#description", description)
    page.click("form.report-form button.report-submit")
    page.wait_for_url(re.compile(r".*/reports/IR-.*submitted=1"))
    return page.inner_text("#reference")


def shoot(page: Page, lang: str, width: int, state: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"pages-{lang}-{width}-{state}.png"), full_page=True)


def assert_no_sideways_scroll(page: Page, width: int, state: str) -> None:
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{state}: the page is {scroll_width} px wide at {width} px"


def header_rows(page: Page) -> int:
    """How many rows the header's visible items take (an item starting below the row so far opens a new one)."""
    rows: int = page.eval_on_selector_all(
        ".site-name, .site-nav > *, .language-chooser",
        """items => {
            const boxes = items.filter(i => i.offsetParent !== null && getComputedStyle(i).clip === 'auto')
                .map(i => i.getBoundingClientRect()).filter(r => r.width > 1).sort((a, b) => a.top - b.top);
            let rows = 0, bottom = -Infinity;
            for (const box of boxes) {
                if (box.top >= bottom - 4) { rows += 1; bottom = box.bottom; } else { bottom = Math.max(bottom, box.bottom); }
            }
            return rows;
        }""")
    return rows


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_page_state_scrolls_sideways(browser: Any, tool: str, lang: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{tool}/login?uselang={lang}")
        logged_out = {"login": "/login", "privacy": "/privacy", "not-found": "/no-such-page", "start": "/"}
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            for state, path in logged_out.items():
                page.goto(tool + path)
                assert page.get_attribute("html", "lang") == lang
                assert_no_sideways_scroll(page, width, state)
                shoot(page, lang, width, f"logged-out-{state}")
        page.set_viewport_size({"width": 1280, "height": 900})
        log_in(page, tool, f"Wide{lang.capitalize()}")
        ref = file_report(page, tool)
        emergency = file_report(page, tool, "self-harm", "I need help")
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            states = {
                "form": "/report",
                "receipt": f"/reports/{ref}?submitted=1",
                "emergency-receipt": f"/reports/{emergency}?submitted=1",
                "my-reports": "/reports",
                "case": f"/reports/{ref}",
                "withdrawal": f"/reports/{ref}/withdraw",
                "not-found": "/reports/IR-0000-0000-0000-0000",
                "privacy": "/privacy",
            }
            for state, path in states.items():
                page.goto(tool + path)
                assert_no_sideways_scroll(page, width, state)
                shoot(page, lang, width, state)
                if width == 360:
                    assert header_rows(page) <= 2, f"{state}: the header takes {header_rows(page)} rows"
            # The form's error state, and a follow-up sent.
            page.goto(f"{tool}/report")
            page.click("form.report-form button.report-submit")
            assert page.locator("#form-errors").count() == 1
            assert_no_sideways_scroll(page, width, "form-errors")
            shoot(page, lang, width, "form-errors")
            page.goto(f"{tool}/reports/{ref}")
            page.fill("#followup-text", f"More at {width}")
            page.click("button.followup-submit")
            page.wait_for_url(re.compile(r".*added=1"))
            assert_no_sideways_scroll(page, width, "followup-sent")
            shoot(page, lang, width, "followup-sent")
    finally:
        context.close()


def test_my_reports_scrolls_inside_codex_table_wrapper(browser: Any, tool: str) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 800})
    page = context.new_page()
    try:
        log_in(page, tool, "Narrow")
        file_report(page, tool)
        page.goto(f"{tool}/reports?uselang=en")
        wrapper = page.locator(".cdx-table .cdx-table__table-wrapper")
        assert wrapper.count() == 1
        assert page.eval_on_selector(".cdx-table__table-wrapper", "e => getComputedStyle(e).overflowX") == "auto"
        assert_no_sideways_scroll(page, 360, "my-reports")
    finally:
        context.close()


def test_the_receipt_says_who_reads_and_how_contact_works(browser: Any, tool: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    try:
        log_in(page, tool, "Receipt")
        ref = file_report(page, tool)
        page.goto(f"{tool}/reports/{ref}?submitted=1&uselang=en")
        text = page.inner_text("#receipt-next")
        assert "Trust and Safety team" in text and "not your e-mail address" in text
        assert "Email this user" in text and "within a few days" in text
        for status in ("Received", "Resolved", "Withdrawn"):
            assert status.lower() in text.lower()
        assert page.get_attribute("#receipt-privacy-link", "href") == "/privacy"
        assert page.get_attribute("#footer-privacy-link", "href") == "/privacy"
        # Times say their zone.
        assert "UTC" in page.inner_text(".report-facts")
        # The copy button (JavaScript on) copies the reference as one word.
        button = page.locator("#copy-reference")
        assert button.is_visible()
        button.click()
        page.wait_for_function("document.getElementById('copy-reference-status').textContent !== ''")
        assert page.inner_text("#copy-reference-status") == "Copied."
        assert page.evaluate("navigator.clipboard.readText()") == ref
        # A reference may break after "IR-" (and nowhere inside a group).
        assert page.eval_on_selector("#reference", "e => e.innerHTML").startswith("IR-<wbr>")
    finally:
        context.close()
    no_js = browser.new_context(viewport={"width": 360, "height": 800}, java_script_enabled=False)
    page = no_js.new_page()
    try:
        log_in(page, tool, "Receipt")
        page.goto(f"{tool}/reports/{ref}?submitted=1")
        assert not page.locator("#copy-reference").is_visible()
        assert page.inner_text("#reference") == ref
    finally:
        no_js.close()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_emergency_receipt_notices(browser: Any, tool: str, lang: str) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 800})
    page = context.new_page()
    try:
        log_in(page, tool, f"Urgent{lang}")
        page.goto(f"{tool}/report?uselang={lang}")
        ref = file_report(page, tool, "self-harm", "Help")
        page.goto(f"{tool}/reports/{ref}?submitted=1")
        # Delivered at once (embedded Maildir): a notice, not a red error box.
        delivered = page.locator("#emergency-delivered")
        assert "cdx-message--notice" in (delivered.get_attribute("class") or "")
        assert page.locator(".cdx-message--error").count() == 0
        assert page.get_attribute("#emergency-delivered a[href^='mailto:']", "href") == "mailto:emergency@wikimedia.org"
        crisis = page.get_attribute("#crisis-help a", "href")
        assert crisis == "https://meta.wikimedia.org/wiki/Mental_health_resources"
        assert_no_sideways_scroll(page, 360, "emergency")
        shoot(page, lang, 360, "emergency-delivered")
    finally:
        context.close()


def test_error_icons_keep_their_colour_in_arabic(browser: Any, tool: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        log_in(page, tool, "Icons")
        colours = {}
        for lang in LANGUAGES:
            page.goto(f"{tool}/report?uselang={lang}")
            page.click("form.report-form button.report-submit")
            colours[lang] = page.eval_on_selector(
                "#form-errors .cdx-message__icon", "e => getComputedStyle(e).backgroundColor")
        page.goto(f"{tool}/reports/IR-0000-0000-0000-0000")
        assert colours["ar"] == colours["en"], colours
        assert colours["en"] not in ("rgb(114, 119, 125)", "rgba(0, 0, 0, 0)")  # not the grey notice icon
    finally:
        context.close()


def test_favicon_and_calm_not_found_page(browser: Any, tool: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    failed: list[str] = []
    page.on("response", lambda response: failed.append(response.url) if response.status >= 400
            and "no-such-page" not in response.url else None)
    try:
        page.goto(f"{tool}/no-such-page?uselang=en")
        assert page.inner_text("h1") == "Page not found"
        assert page.locator(".cdx-message--error").count() == 0
        icon = page.get_attribute("link[rel=icon]", "href")
        assert icon and icon.startswith("/assets/")
        assert page.request.get(tool + icon).status == 200
        page.goto(f"{tool}/privacy")
        assert failed == []
    finally:
        context.close()
