"""Language selection in requests (uselang > session > Accept-Language), the chooser, formatting filters."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from flask import Flask, render_template_string, session

from reporting import i18n
from reporting.i18n import UserName
from tests.i18n.conftest import make_app


@pytest.mark.parametrize(
    ("query", "accept", "expected"),
    [
        ("", None, "en"),
        ("", "de", "de"),
        ("", "de-AT,de;q=0.9", "de-at"),
        ("", "de-CH", "de"),  # best file along the chain
        ("", "fr-CA,fr;q=0.5", "fr"),
        ("", "ko,de;q=0.5", "de"),  # ko has no file: its implicit English does not beat an explicit de
        ("", "ko", "en"),
        ("", "en-GB,de;q=0.5", "en"),  # English asked for explicitly
        ("", "zh-TW", "zh-hans"),  # zh-tw -> zh-hant -> zh-hk -> zh -> zh-hans
        ("", "*", "en"),
        ("?uselang=ru", "de", "ru"),  # uselang beats Accept-Language
        ("?uselang=RU", "de", "ru"),
        ("?uselang=qqx", None, "qqx"),
        ("?uselang=br", "de", "br"),  # a MediaWiki language without a file: messages fall back to English
        ("?uselang=../../etc/passwd", "de", "de"),  # not a language code: ignored
        ("?uselang=zz", "de", "de"),  # not a language anybody knows: ignored
    ],
)
def test_language_selection(app: Flask, query: str, accept: str | None, expected: str) -> None:
    headers = {"Accept-Language": accept} if accept else {}
    response = app.test_client().get(f"/language{query}", headers=headers)
    assert response.get_data(as_text=True) == expected


def test_uselang_is_sticky_and_a_new_uselang_replaces_it(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/language?uselang=ru", headers={"Accept-Language": "de"}).text == "ru"
    assert client.get("/language", headers={"Accept-Language": "de"}).text == "ru"  # session beats Accept-Language
    assert client.get("/language?uselang=fr").text == "fr"  # uselang beats session
    assert client.get("/language").text == "fr"
    with client.session_transaction() as stored:
        assert stored["uselang"] == "fr"


def test_invalid_uselang_is_not_stored(app: Flask) -> None:
    client = app.test_client()
    client.get("/language?uselang=ru")
    client.get("/language?uselang=<script>")
    with client.session_transaction() as stored:
        assert stored["uselang"] == "ru"


def test_qqx_is_sticky_and_shows_keys(app: Flask) -> None:
    client = app.test_client()
    client.get("/page?uselang=qqx")
    assert "(reporting-test-greeting: Ada)" in client.get("/page").text


def test_without_a_secret_key_uselang_still_works_for_the_request() -> None:
    client = make_app(secret_key=None).test_client()
    assert client.get("/language?uselang=ru").text == "ru"
    assert client.get("/language").text == "en"


@pytest.mark.parametrize(
    ("lang", "html"),
    [
        ("en", '<html lang="en" dir="ltr">Hello, Ada!</html>'),
        ("de-at", '<html lang="de-at" dir="ltr">Servus, Ada!</html>'),
        ("ar", '<html lang="ar" dir="rtl">Hello, Ada!</html>'),
    ],
)
def test_page_language_and_direction(app: Flask, lang: str, html: str) -> None:
    assert app.test_client().get(f"/page?uselang={lang}").text == html


def test_chooser_lists_languages_by_autonym_and_selects_the_current_one(app: Flask) -> None:
    html = app.test_client().get("/chooser?uselang=de-at&report=12&report=13").text
    assert '<form class="language-chooser" method="get" action="">' in html
    assert '<label for="language-chooser-select">Sprache:</label>' in html
    assert '<button type="submit">Sprache ändern</button>' in html
    options = re.findall(r'<option value="([^"]+)" lang="[^"]+" dir="(\w+)"( selected)?>([^<]+)</option>', html)
    assert [(code, direction, name) for code, direction, _, name in options] == [
        ("ar", "rtl", "العربية"),
        ("de", "ltr", "Deutsch"),
        ("de-at", "ltr", "Deutsch (Österreich)"),
        ("en", "ltr", "English"),
        ("fr", "ltr", "français"),
        ("ja", "ltr", "日本語"),
        ("pl", "ltr", "polski"),
        ("ru", "ltr", "русский"),
        ("zh-hans", "ltr", "中文 (简体)"),
    ]
    assert [code for code, _, selected, _ in options if selected] == ["de-at"]
    # the page's other parameters survive a change of language; uselang itself is the select
    assert html.count('<input type="hidden" name="report"') == 2
    assert 'name="uselang" value' not in html


def test_chooser_selects_the_file_a_fallback_language_uses(app: Flask) -> None:
    html = app.test_client().get("/chooser", headers={"Accept-Language": "de-CH"}).text
    assert re.search(r'<option value="de"[^>]* selected>', html)


def test_chooser_in_qqx_shows_keys(app: Flask) -> None:
    html = app.test_client().get("/chooser?uselang=qqx").text
    assert "(reporting-language-chooser-label)" in html
    assert "(reporting-language-chooser-submit)" in html


def test_msg_and_helpers_outside_a_request(app: Flask) -> None:
    with app.app_context():
        assert i18n.current_language() == "en"
        assert str(i18n.msg("reporting-test-greeting", UserName("Ada"))) == "Hello, <bdi>Ada</bdi>!"
        assert i18n.msg_text("reporting-test-greeting", UserName("Ada"), lang="de") == "Hallo, Ada!"
        assert i18n.msg_text("reporting-test-greeting", "Ada", lang="de-AT") == "Servus, Ada!"
        assert i18n.msg_text("reporting-test-greeting", "Ada", lang="not a code") == "Hello, Ada!"
        assert i18n.available_languages()[0] == ("ar", "العربية")


def test_msg_text_defaults_to_english_for_the_desk(app: Flask) -> None:
    with app.test_request_context("/?uselang=de"):
        assert i18n.current_language() == "de"
        assert str(i18n.msg("reporting-test-greeting", "Ada")) == "Hallo, Ada!"
        assert i18n.msg_text("reporting-test-greeting", "Ada") == "Hello, Ada!"


MOMENT = datetime(2024, 3, 5, 14, 7, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("lang", "template", "expected"),
    [
        ("en", "{{ value|number }}", "1,234,567.5"),
        ("de", "{{ value|number }}", "1.234.567,5"),
        ("fr", "{{ value|number }}", "1\u202f234\u202f567,5"),
        ("en", "{{ moment|datetime }}", "Mar 5, 2024, 2:07:00\u202fPM"),
        ("de", "{{ moment|datetime('short') }}", "05.03.24, 14:07"),
        ("en", "{{ moment|date('long') }}", "March 5, 2024"),
        ("ru", "{{ moment|date('long') }}", "5 марта 2024\u202fг."),
        ("en", "{{ ago|reltime }}", "3 hours ago"),
        ("de", "{{ ago|reltime }}", "vor 3 Stunden"),
        ("en", "{{ ahead|reltime }}", "in 2 days"),
        ("en", "{{ recent|reltime }}", "5 minutes ago"),
    ],
)
def test_filters_format_in_the_user_language(app: Flask, lang: str, template: str, expected: str) -> None:
    with app.test_request_context(f"/?uselang={lang}"):
        rendered = render_template_string(
            template,
            value=1234567.5,
            moment=MOMENT,
            ago=timedelta(hours=-3),
            ahead=timedelta(days=2),
            recent=datetime.now(timezone.utc) - timedelta(minutes=5, seconds=2),
        )
    assert rendered == expected


def test_time_zone_is_utc_unless_the_user_chose_one(app: Flask) -> None:
    template = "{{ moment|datetime('HH:mm zzzz') }}"
    with app.test_request_context("/?uselang=en"):
        assert render_template_string(template, moment=MOMENT) == "14:07 Coordinated Universal Time"
    with app.test_request_context("/?uselang=en"):
        session["timezone"] = "Asia/Tokyo"
        assert render_template_string(template, moment=MOMENT) == "23:07 Japan Standard Time"
    with app.test_request_context("/?uselang=en"):
        session["timezone"] = "Not/AZone"
        assert render_template_string(template, moment=MOMENT.replace(tzinfo=None)) == "14:07 Coordinated Universal Time"
