"""Right-to-left layout in a real browser (headless Chromium), in Arabic and Persian.

The tool runs on 127.0.0.1 in a thread; Chromium logs in through the development login, fills in the
form, sends it, and looks at every page of the flow. The test asserts the layout direction of the key
elements (computed ``direction``, where labels sit, that links and references stay left-to-right inside
right-to-left text) and leaves full-page screenshots in ``test-artifacts/`` for people to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.browser import direction, open_page, serving
from tests.conftest import make_app

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
EVIDENCE = "https://fa.wikipedia.org/w/index.php?diff=123&oldid=120\nhttps://fa.wikipedia.org/wiki/Special:Log?page=User:Bob"
TOLERANCE_PX = 2


@pytest.fixture(scope="module")
def tool_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(lambda url: make_app(tmp_path_factory.mktemp("rtl"))) as (url, _app):
        yield url


def box(page: Page, selector: str) -> dict[str, float]:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, selector
    return found


def right(rect: dict[str, float]) -> float:
    return rect["x"] + rect["width"]


def screenshot(page: Page, lang: str, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"rtl-{lang}-{name}.png"), full_page=True)


def assert_page_is_right_to_left(page: Page, lang: str) -> None:
    assert page.get_attribute("html", "lang") == lang
    assert page.get_attribute("html", "dir") == "rtl"
    assert direction(page, "html") == "rtl"
    assert direction(page, "body") == "rtl"
    # The header mirrors: the tool's name is at the right edge, the user name is isolated left-to-right.
    header, name = box(page, ".site-header"), box(page, ".site-name")
    assert right(name) > header["x"] + header["width"] * 0.7
    assert direction(page, ".site-user bdi") == "ltr"
    assert page.inner_text(".site-user bdi") == "Alice"


@pytest.mark.parametrize("lang", ["ar", "fa"])
def test_the_flow_is_laid_out_right_to_left(browser: Any, tool_url: str, lang: str) -> None:
    page = open_page(browser, 1000)
    try:
        page.goto(f"{tool_url}/login?uselang={lang}")
        page.fill("#username", "Alice")
        page.click("button[type=submit].cdx-button--action-progressive")
        page.wait_for_url(f"{tool_url}/**")

        page.goto(f"{tool_url}/")
        assert_page_is_right_to_left(page, lang)
        screenshot(page, lang, "1-start")

        page.goto(f"{tool_url}/report")
        assert_page_is_right_to_left(page, lang)
        assert direction(page, "form.report-form") == "rtl"
        form = box(page, "form.report-form")
        for label in ["label[for=wiki]", "label[for=evidence]", "label[for=reported_users]", "label[for=description]",
                      ".category-field legend"]:
            assert abs(right(form) - right(box(page, f"{label} .cdx-label__label__text"))) <= TOLERANCE_PX, label
        # Radio buttons and checkboxes sit at the right, their labels to their left.
        radio, radio_label = box(page, "#category-harassment"), box(page, "label[for=category-harassment]")
        assert radio["x"] > radio_label["x"]
        assert direction(page, "#evidence") == "ltr"
        assert direction(page, "#wiki") == "ltr"
        screenshot(page, lang, "2-form")

        page.fill("#wiki", "evil.example")
        page.click("form.report-form button.report-submit")
        assert page.locator("#form-errors").is_visible()
        assert direction(page, ".field-error bdi") == "ltr"
        assert page.inner_text(".field-error bdi") == "evil.example"
        screenshot(page, lang, "3-refused")

        page.fill("#wiki", f"{lang}.wikipedia.org")
        page.check("#category-harassment")
        page.fill("#evidence", EVIDENCE)
        page.fill("#reported_users", "Bob")
        page.fill("#description", "توضیح آنچه رخ داد" if lang == "fa" else "وصف ما حدث")
        page.click("form.report-form button.report-submit")
        page.wait_for_url(f"{tool_url}/reports/**")
        assert_page_is_right_to_left(page, lang)
        # The reference reads left-to-right inside right-to-left text, and its paragraph is rtl.
        assert direction(page, "#reference") == "ltr"
        assert page.eval_on_selector("#reference", "e => getComputedStyle(e.parentElement).direction") == "rtl"
        reference = page.inner_text("#reference")
        assert reference.startswith("IR-")
        # The list follows the page (numbers at the right); each link inside it reads left-to-right.
        assert direction(page, ".evidence-list li") == "rtl"
        assert direction(page, ".evidence-list li bdi") == "ltr"
        first_item, first_link = box(page, ".evidence-list li"), box(page, ".evidence-list li bdi")
        assert abs(right(first_item) - right(first_link)) <= TOLERANCE_PX
        assert direction(page, ".description") == "rtl"
        assert page.locator(".evidence-list li").count() == 2
        screenshot(page, lang, "4-receipt")

        page.goto(f"{tool_url}/reports")
        assert_page_is_right_to_left(page, lang)
        table, first_header = box(page, ".reports-table"), box(page, ".reports-table th")
        assert abs(right(table) - right(first_header)) <= TOLERANCE_PX
        assert direction(page, ".reports-table .ref") == "ltr"
        screenshot(page, lang, "5-my-reports")

        page.click(f"text={reference}")
        page.wait_for_url(f"{tool_url}/reports/{reference}")
        assert_page_is_right_to_left(page, lang)
        assert direction(page, "h1 .ref") == "ltr"
        screenshot(page, lang, "6-report")
    finally:
        page.context.close()
