"""Trust & Safety's pages and the misuse notices in headless Chromium, without JavaScript, in English and Arabic.

Asserts the direction of the page and of what must stay left-to-right (references, wiki hosts,
action codes), that nothing scrolls sideways on a 360 px wide phone, that a suspension is lifted
with its button, and leaves screenshots in ``test-artifacts/``.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page

from reporting.storage.database import utcnow
from tests.browser import direction, fits, open_page, serving
from tests.cases.helpers import Reporter
from tests.cases.oversight_helpers import decline
from tests.cases.test_case_browser import ARTIFACTS
from tests.conftest import make_app


def log_in(page: Page, url: str, lang: str, username: str, groups: str = "") -> None:
    page.goto(f"{url}/login?uselang={lang}")
    page.fill("#username", username)
    page.fill("#groups", groups)
    page.click("button[type=submit].cdx-button--action-progressive")


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"oversight-{name}.png"), full_page=True)


@pytest.mark.parametrize(("lang", "width"), [("en", 1000), ("ar", 1000), ("ar", 360), ("en", 360)])
def test_trust_and_safety_pages_and_the_misuse_notices_in_a_browser(browser, tmp_path, lang, width):
    with serving(lambda url: make_app(tmp_path, **{"rate_limit.per_day": 100})) as (url, app):
        stores = app.extensions["reporting"].stores
        mallory = Reporter(app, "Mallory")
        refs = [mallory.report(wiki=wiki) for wiki in ["en.wikipedia.org"] * 6 + ["ar.wikipedia.org"] * 2]
        for hours, ref in enumerate(refs[:5], 1):
            decline(stores, ref, now=utcnow() - timedelta(hours=hours))
        stores.misuse.standing("Mallory")  # noticed: suspended
        warned = Reporter(app, "Wendy")
        for _ in range(3):
            decline(stores, warned.report())

        page = open_page(browser, width, js=False)
        context = page.context
        try:
            name = f"{lang}-{width}"
            log_in(page, url, lang, "Tess", "staff")
            page.goto(f"{url}/queue/stats?weeks=4")
            assert page.get_attribute("html", "dir") == ("rtl" if lang == "ar" else "ltr")
            assert page.locator("#stats-wiki td[data-shown=below]").count() == 1
            assert direction(page, "#stats-wiki tbody th bdi") == "ltr"
            if lang == "ar":
                assert direction(page, "#stats-category table") == "rtl"
            assert fits(page)
            shot(page, f"{name}-stats")

            page.goto(f"{url}/queue/audit")
            assert page.locator("#audit-entries tbody tr").count() > 5
            assert direction(page, "#audit-entries .audit-action") == "ltr"
            assert direction(page, "#audit-entries .ref") == "ltr"
            assert fits(page)
            shot(page, f"{name}-audit")

            page.goto(f"{url}/queue/suspensions")
            assert page.locator("#suspensions li").count() == 1
            assert page.inner_text("#suspensions .ref") == refs[0]  # the decline that reached five
            assert fits(page)
            shot(page, f"{name}-suspensions")
            page.click("#suspensions button[type=submit]")
            page.wait_for_url(f"{url}/queue/suspensions?done=lifted")
            assert page.locator("#suspensions-notice").is_visible()
            assert page.locator("#suspensions-empty").is_visible()
            assert fits(page)

            context.clear_cookies()
            log_in(page, url, lang, "Wendy")
            for path in ("/reports", "/report"):
                page.goto(url + path)
                assert page.locator("#misuse-warning").is_visible()
                assert fits(page)
            shot(page, f"{name}-warned-form")
        finally:
            context.close()
