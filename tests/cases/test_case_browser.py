"""The reporter's case pages in a real browser (headless Chromium), without JavaScript, in English and Arabic.

The tool runs on 127.0.0.1 in a thread and delivers to the strict fake Zendesk. The team asks a
question at the desk, the sync brings it to the report's page, the reporter answers with the form,
then withdraws the report through the confirmation step. The test asserts what the page shows,
the layout direction (right-to-left pages, left-to-right references and links, a team message in
its own direction), that nothing overflows a 360 px wide phone, and leaves screenshots in
``test-artifacts/``.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.browser import direction, fits, open_page, serving
from tests.cases.helpers import Reporter, app_for, sync, zendesk_settings
from tests.fakes.zendesk import standard_desk

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def desk() -> Iterator[Any]:
    with standard_desk() as fake:
        yield fake


@pytest.fixture(scope="module")
def tool(tmp_path_factory: pytest.TempPathFactory, desk: Any) -> Iterator[tuple[Any, str]]:
    tmp = tmp_path_factory.mktemp("case-browser")
    with serving(lambda url: app_for(tmp, zendesk_settings(desk))) as (url, app):
        yield app, url


def shot(page: Page, lang: str, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"case-{lang}-{name}.png"), full_page=True)


@pytest.mark.parametrize("lang, width", [("en", 1000), ("ar", 1000), ("ar", 360)])
def test_the_reporter_answers_the_team_and_withdraws_without_javascript(browser, tool, desk, lang, width):
    app, url = tool
    user = f"Reporter {lang} {width}"
    ref = Reporter(app, user).report(description="وصف ما حدث" if lang == "ar" else "What happened.")
    [ticket] = [t for t, data in desk.tickets.items() if data["external_id"] == ref]
    desk.agent_comment(ticket, "Which talk page was it, and when?")
    desk.set_status(ticket, "pending")
    sync(app)

    page = open_page(browser, width, js=False)
    context = page.context
    try:
        page.goto(f"{url}/login?uselang={lang}")
        page.fill("#username", user)
        page.click("button[type=submit].cdx-button--action-progressive")
        page.goto(f"{url}/reports")
        assert page.locator(".status--needs-info").count() == 1
        assert page.inner_text(".status-help") != ""
        page.goto(f"{url}/reports/{ref}")
        assert page.get_attribute("html", "dir") == ("rtl" if lang == "ar" else "ltr")
        assert page.locator(".status--needs-info").count() == 1
        message = page.locator(".timeline__message").last
        assert message.inner_text() == "Which talk page was it, and when?"
        # The team's English message keeps its own direction inside an Arabic page; the reference too.
        assert direction(page, ".timeline__entry:last-child .timeline__message") == "ltr"
        assert direction(page, "h1 .ref") == "ltr"
        if lang == "ar":
            assert direction(page, ".timeline") == "rtl"
            assert direction(page, "#followup-evidence") == "ltr"
        assert fits(page)
        shot(page, f"{lang}-{width}", "1-question")

        page.fill("#followup-text", "على صفحة نقاشي، أمس." if lang == "ar" else "On my talk page, yesterday.")
        page.fill("#followup-evidence", "https://en.wikipedia.org/wiki/User_talk:Alice")
        page.click("button.followup-submit")
        page.wait_for_url(f"{url}/reports/{ref}?added=1*")
        assert page.locator("#case-notice").is_visible()
        assert page.locator(".status--in-review").count() == 1
        assert page.locator(".timeline__entry--followup").count() == 1
        assert direction(page, ".timeline__entry--followup .evidence-fact__input") == "ltr"
        assert fits(page)
        shot(page, f"{lang}-{width}", "2-answered")

        page.click("#withdraw-start")
        page.wait_for_url(f"{url}/reports/{ref}/withdraw")
        assert page.locator(".status--in-review").count() == 0  # nothing changed yet: a confirmation page
        assert fits(page)
        shot(page, f"{lang}-{width}", "3-confirm")
        page.click("#withdraw-cancel")
        page.wait_for_url(f"{url}/reports/{ref}")
        assert page.locator(".status--in-review").count() == 1
        page.click("#withdraw-start")
        page.fill("#withdraw-reason", "سُوّي الأمر." if lang == "ar" else "It was sorted out.")
        page.click("#withdraw-confirm")
        page.wait_for_url(f"{url}/reports/{ref}?withdrawn=1")
        assert page.locator(".status--withdrawn").count() == 1
        assert page.locator("#followup-closed").is_visible() and page.locator("#withdraw-start").count() == 0
        assert fits(page)
        shot(page, f"{lang}-{width}", "4-withdrawn")
    finally:
        context.close()
    comments = [c["body"] for c in desk.comments_of(ticket)]
    assert sum("withdrew" in body for body in comments) == 1
