"""The catalog: per-key fallback, escaping, HTML messages, <bdi> user names, qqx, plain text, missing keys."""

from __future__ import annotations

import logging

import pytest
from markupsafe import Markup

from reporting.i18n.formatter import UserName
from reporting.i18n.messages import Catalog
from tests.i18n.conftest import GOOD_MESSAGES


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load(GOOD_MESSAGES)


def test_languages_are_the_files_without_qqq(catalog: Catalog) -> None:
    assert catalog.languages == ("ar", "de", "de-at", "en", "fr", "ja", "pl", "ru", "zh-hans")


@pytest.mark.parametrize(
    ("lang", "key", "params", "expected"),
    [
        ("de-at", "reporting-test-greeting", ("Ada",), "Servus, Ada!"),  # de-at has it
        ("de-at", "reporting-test-only-de", (), "Nur auf Deutsch"),  # from de
        ("de-at", "reporting-test-only-en", (), "Only in English"),  # from en
        ("de", "reporting-test-only-en", (), "Only in English"),  # missing in de: English for this key only
        ("de", "reporting-test-only-de", (), "Nur auf Deutsch"),
        ("de", "reporting-test-items", (1,), "1 Eintrag"),
        ("de", "reporting-test-items", (1234,), "1.234 Einträge"),  # numbers formatted for the language
        ("ru", "reporting-test-items", (1,), "1 элемент"),
        ("ru", "reporting-test-items", (2,), "2 элемента"),
        ("ru", "reporting-test-items", (5,), "5 элементов"),
        ("ru", "reporting-test-items", (21,), "21 элемент"),
        ("ru", "reporting-test-items", (0,), "0 элементов"),
        ("ar", "reporting-test-items", (0,), "لا عناصر"),
        ("ar", "reporting-test-items", (2,), "عنصران"),
        ("fr", "reporting-test-items", (0,), "0 élément"),
        ("fr", "reporting-test-items", (1,), "1 élément"),
        ("fr", "reporting-test-items", (2,), "2 éléments"),
        ("ja", "reporting-test-items", (3,), "3 件"),
        ("pl", "reporting-test-items", (22,), "22 elementy"),
        ("pl", "reporting-test-items", (25,), "25 elementów"),
        ("en", "reporting-test-reports", (0,), "No reports"),
        ("en", "reporting-test-reports", (1,), "One report"),
        ("en", "reporting-test-reports", (7,), "7 reports"),
        # English fallback text is pluralised by English rules, even on a Russian page
        ("ru", "reporting-test-reports", (2,), "2 reports"),
        # a code MediaWiki knows (de-ch) falls back per key like the others
        ("de-ch", "reporting-test-greeting", ("Ada",), "Hallo, Ada!"),
        ("zh-tw", "reporting-test-greeting", ("Ada",), "你好，Ada！"),  # zh-tw -> ... -> zh-hans
        ("en", "reporting-test-gender", (UserName("Ada", "female"),), "She reported Ada."),
        ("de", "reporting-test-gender", (UserName("Bob"),), "Die Person hat Bob gemeldet."),
    ],
)
def test_text_with_fallback_and_plural(catalog: Catalog, lang: str, key: str, params: tuple[object, ...], expected: str) -> None:
    assert catalog.text(lang, key, params) == expected


@pytest.mark.parametrize(
    ("lang", "key", "params", "expected"),
    [
        ("en", "reporting-test-greeting", ("<script>alert(1)</script>",), "Hello, &lt;script&gt;alert(1)&lt;/script&gt;!"),
        ("en", "reporting-test-greeting", (UserName("<b>Eve</b>"),), "Hello, <bdi>&lt;b&gt;Eve&lt;/b&gt;</bdi>!"),
        ("en", "reporting-test-ampersand", (), "Q&amp;A: 1 &lt; 2 &amp; &#34;quoted&#34;"),
        ("en", "reporting-test-gender", (UserName("Ada", "male"),), "He reported <bdi>Ada</bdi>."),
        # HTML message: its tags are kept, parameters are still text
        (
            "en",
            "reporting-test-policy",
            (UserName("Ada"), "https://example.org/policy?a=1&b=2"),
            'Read <a href="https://example.org/policy?a=1&amp;b=2">the policy</a>, <bdi>Ada</bdi>.',
        ),
        (
            "de",
            "reporting-test-policy",
            ("<i>x</i>", "/policy"),
            'Lies <a href="/policy">die Richtlinie</a>, &lt;i&gt;x&lt;/i&gt;.',
        ),
        # a parameter cannot smuggle a javascript: link into an HTML message
        ("en", "reporting-test-policy", ("Ada", "javascript:alert(1)"), "Read <a>the policy</a>, Ada."),
        ("en", "reporting-test-policy", ("Ada", '"><script>x</script>'), 'Read <a href="&#34;&gt;&lt;script&gt;x&lt;/script&gt;">the policy</a>, Ada.'),
    ],
)
def test_html_escapes_parameters_and_keeps_only_allowed_markup(
    catalog: Catalog, lang: str, key: str, params: tuple[object, ...], expected: str
) -> None:
    html = catalog.html(lang, key, params)
    assert isinstance(html, Markup)
    assert str(html) == expected


def test_a_translation_with_forbidden_markup_is_defused() -> None:
    catalog = Catalog(
        {"en": {"reporting-x": "<strong>ok</strong>"}, "de": {"reporting-x": 'Hi <script>alert(1)</script><a href="javascript:x" onclick="y">z</a>'}},
        html_keys=frozenset({"reporting-x"}),
    )
    assert str(catalog.html("de", "reporting-x", ())) == "Hi &lt;script&gt;alert(1)&lt;/script&gt;<a>z</a>"
    assert str(catalog.html("en", "reporting-x", ())) == "<strong>ok</strong>"


def test_markup_is_escaped_in_text_messages() -> None:
    catalog = Catalog({"en": {"reporting-x": "<strong>$1</strong>"}})
    assert str(catalog.html("en", "reporting-x", ("a",))) == "&lt;strong&gt;a&lt;/strong&gt;"


@pytest.mark.parametrize(
    ("key", "params", "expected"),
    [
        ("reporting-test-greeting", ("<b>",), "(reporting-test-greeting: &lt;b&gt;)"),
        ("reporting-test-only-en", (), "(reporting-test-only-en)"),
        ("reporting-test-policy", ("a", "b"), "(reporting-test-policy: a, b)"),
        ("reporting-does-not-exist", (1,), "(reporting-does-not-exist: 1)"),
    ],
)
def test_qqx_shows_keys(catalog: Catalog, key: str, params: tuple[object, ...], expected: str) -> None:
    assert str(catalog.html("qqx", key, params)) == expected


def test_plain_text_is_not_escaped_and_has_no_bdi(catalog: Catalog) -> None:
    assert catalog.text("en", "reporting-test-greeting", (UserName("<b>Eve</b>"),)) == "Hello, <b>Eve</b>!"
    assert catalog.text("en", "reporting-test-ampersand", ()) == 'Q&A: 1 < 2 & "quoted"'
    assert (
        catalog.text("en", "reporting-test-policy", (UserName("Ada & Bob"), "https://example.org/p"))
        == "Read the policy (https://example.org/p), Ada & Bob."
    )
    assert catalog.text("qqx", "reporting-test-greeting", ("<b>",)) == "(reporting-test-greeting: <b>)"


def test_missing_key_is_shown_in_angle_brackets_and_logged(catalog: Catalog, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="reporting.i18n.messages"):
        assert str(catalog.html("de", "reporting-<nope>", ())) == "⧼reporting-&lt;nope&gt;⧽"
        assert catalog.text("de", "reporting-<nope>", ()) == "⧼reporting-<nope>⧽"
    assert any("reporting-<nope>" in record.getMessage() for record in caplog.records)


def test_broken_translation_file_is_left_out(tmp_path, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "en.json").write_text('{"@metadata": {"authors": ["A"]}, "reporting-x": "X"}', encoding="utf-8")
    (tmp_path / "de.json").write_text('{"reporting-x": ', encoding="utf-8")
    with caplog.at_level(logging.ERROR):
        catalog = Catalog.load(tmp_path)
    assert catalog.languages == ("en",)
    assert catalog.text("de", "reporting-x", ()) == "X"
    assert "de.json" in caplog.text


def test_missing_english_file_fails_loudly(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="en.json"):
        Catalog.load(tmp_path)


def test_rendering_a_hundred_messages_is_fast(catalog: Catalog) -> None:
    import time

    start = time.perf_counter()
    for _ in range(100):
        for number in range(10):
            catalog.html("ru", "reporting-test-items", (number,))
    assert time.perf_counter() - start < 0.5  # 1000 renders; typically ~20 ms
