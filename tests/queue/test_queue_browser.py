"""The workspace in a real browser (headless Chromium) without JavaScript, in English and Arabic.

A functionary of the case's wiki logs in, finds the case in the queue (the table scrolls inside its
own box, so nothing overflows a 360 px phone), opens it, assigns it with the keyboard, adds an
internal note, and changes the status with a message to the reporter, who then sees that message
on their report's page (and not the note). Screenshots go to ``test-artifacts/``.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.browser import direction, fits, open_page, serving
from tests.conftest import make_app
from tests.queue.helpers import WIKI, Person

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def tool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    with serving(lambda url: make_app(tmp_path_factory.mktemp("queue-browser"))) as (url, app):
        yield app, url


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"queue-{name}.png"), full_page=True)


@pytest.mark.parametrize("lang, width", [("en", 1000), ("ar", 1000), ("ar", 360)])
def test_a_functionary_works_a_case_without_javascript(browser, tool, lang, width):
    app, url = tool
    reporter = Person(app, "reporter")
    description = "يشتمني كل يوم في صفحة نقاشي." if lang == "ar" else "He insults me every day on my talk page."
    ref = reporter.report(description=description, reported_users=["Troll Account"],
                          evidence=[f"https://{WIKI}/w/index.php?diff=12345"])
    name = f"{lang}-{width}"
    page = open_page(browser, width, js=False)
    context = page.context
    try:
        page.goto(f"{url}/login?uselang={lang}")
        page.fill("#username", "Erik")
        page.fill("#groups", f"checkuser@{WIKI}")
        page.click("button[type=submit].cdx-button--action-progressive")
        page.click("#nav-cases")  # the header's link, for users holding a role
        page.wait_for_url(f"{url}/queue")
        assert page.get_attribute("html", "dir") == ("rtl" if lang == "ar" else "ltr")
        assert page.locator(f"a[href='/queue/{ref}']").count() == 1
        assert direction(page, ".queue-table .ref") == "ltr"
        if lang == "ar":
            assert direction(page, ".queue-table table") == "rtl"
        assert fits(page)
        shot(page, f"{name}-1-queue")

        page.select_option("#filter-assignee", "nobody")
        page.click("#filter-apply")
        page.wait_for_url(f"{url}/queue?*assignee=nobody*")
        assert page.locator(f"a[href='/queue/{ref}']").count() == 1
        page.click(f"a[href='/queue/{ref}']")
        page.wait_for_url(f"{url}/queue/{ref}")
        assert page.inner_text("#case-description") == description
        assert "Troll Account" in page.inner_text("#reported-users")
        assert direction(page, "h1 .ref") == "ltr"
        assert fits(page)
        shot(page, f"{name}-2-case")

        # Assign with the keyboard alone.
        page.focus("#assign-me")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{url}/queue/{ref}?done=assigned")
        assert "Erik" in page.inner_text("#case-assignee") and page.locator("#unassign").count() == 1

        page.fill("#note-text", "ملاحظة داخلية للفريق" if lang == "ar" else "Internal: second report about this user.")
        page.click("#note-submit")
        page.wait_for_url(f"{url}/queue/{ref}?done=note*")
        assert page.locator(".timeline__entry--internal").count() == 1

        message = "نظرنا في الأمر." if lang == "ar" else "We looked into it and warned the user."
        page.select_option("#status-new", "resolved")
        page.fill("#status-message", message)
        page.click("#status-submit")
        page.wait_for_url(f"{url}/queue/{ref}?done=status")
        assert page.locator("#case-status.status--resolved").count() == 1
        assert page.locator("#case-notice").is_visible()
        assert fits(page)
        shot(page, f"{name}-3-resolved")
    finally:
        context.close()
    own = reporter.client.get(f"/reports/{ref}").get_data(as_text=True)
    assert message in own and "Internal" not in own and "ملاحظة داخلية" not in own and "Erik" not in own
