"""No user-facing text outside the message files: templates and gadget JavaScript are scanned."""

from __future__ import annotations

from pathlib import Path

import pytest

from devtools.i18n_checks import find_js_prose, find_template_text, js_string_literals, looks_like_prose

REPOSITORY = Path(__file__).resolve().parents[2]
TEMPLATES = REPOSITORY / "reporting" / "templates"
GADGET = REPOSITORY / "static" / "gadget"

# Texts that may appear literally. Keep this tiny: every entry is a string no translator can change.
TEMPLATE_ALLOW_LIST: frozenset[str] = frozenset()
GADGET_ALLOW_LIST: frozenset[str] = frozenset()


def _relative(path: Path) -> str:
    return str(path.relative_to(REPOSITORY))


def test_templates_have_no_literal_text() -> None:
    templates = sorted(TEMPLATES.glob("**/*.html"))
    assert templates, "the language chooser template at least must be scanned"
    found = [
        f"{_relative(path)}:{line}: {text}"
        for path in templates
        for line, text in find_template_text(path.read_text(encoding="utf-8"), TEMPLATE_ALLOW_LIST)
    ]
    assert found == []


def test_gadget_has_no_prose_literals() -> None:
    found = [
        f"{_relative(path)}:{line}: {text!r}"
        for path in sorted(GADGET.glob("**/*.js"))
        for line, text in find_js_prose(path.read_text(encoding="utf-8"), GADGET_ALLOW_LIST)
    ]
    assert found == []


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("<p>{{ msg('reporting-x') }}</p>", []),
        ("<p>Report an incident</p>", [(1, "Report an incident")]),
        ("<p>\n  Hello {{ name }}\n</p>", [(1, "Hello")]),
        ("{% if x %}\n<b>Nope</b>{% endif %}", [(2, "Nope")]),
        ("{# a comment with words #}<i>{{ x }}</i>", []),
        ("<span> · | — 42 &middot; &nbsp; </span>", []),
        ('<img src="a.png" alt="A cat">', [(1, '<img alt="A cat">')]),
        ('<input placeholder="{{ msg(\'reporting-p\') }}" title="Type here">', [(1, '<input title="Type here">')]),
        ('<button aria-label="Close">×</button>', [(1, '<button aria-label="Close">')]),
        ('<input type="submit" value="Send">', [(1, '<input value="Send">')]),
        ('<input type="hidden" name="a" value="not visible">', []),
        ('<option value="de" lang="de">{{ name }}</option>', []),
        ("<script>var x = 'Some words here';</script><style>p::after { content: 'x' }</style>", []),
        ("<!-- a comment -->", []),
        ("<p>Привет</p>", [(1, "Привет")]),
        ("<p>{{ '}}' }} ok {{ x }}</p>", [(1, "ok")]),
        ("<p>Wikimedia</p>", []),  # allowed below
    ],
)
def test_template_scanner(template: str, expected: list[tuple[int, str]]) -> None:
    assert find_template_text(template, allow={"Wikimedia"}) == expected


@pytest.mark.parametrize(
    ("text", "prose"),
    [
        ("Report this page", True),
        ("Are you sure?", True),
        ("Send report", True),
        ("Отправить жалобу", True),
        ("報告する", True),
        ("<p>Thanks for your report</p>", True),
        ("click keydown", False),
        ("mw-ui-button mw-ui-progressive", False),
        ("reporting-gadget-title", False),
        ("Cancel", False),
        (".foo > a[href]", False),
        ("application/json", False),
        ("https://meta.wikimedia.org/wiki/Special:MyLanguage", False),
        ('<a class="x" href="#">', False),
        ("use strict", False),
        ("", False),
    ],
)
def test_prose_heuristic(text: str, prose: bool) -> None:
    assert looks_like_prose(text) is prose


def test_js_tokenizer_skips_comments_and_regular_expressions() -> None:
    source = """
    // A comment that reads like a sentence
    /* Another comment,
       on two lines */
    var re = /it's "quoted" here/g, half = a / 2 / b;
    var s = 'single \\' quote', d = "double", t = `template ${ value + "inner" } literal
    continues`;
    mw.msg( 'reporting-key' );
    """
    assert js_string_literals(source) == [
        (6, "single ' quote"),
        (6, "double"),
        (6, "template   literal\n    continues"),
        (8, "reporting-key"),
    ]


def test_js_scanner_reports_prose_with_allow_list() -> None:
    source = "$( '<button>' ).text( 'Report this page' );\nalert( 'Wikimedia Foundation' );\nx( 'click keydown' );"
    assert find_js_prose(source) == [(1, "Report this page"), (2, "Wikimedia Foundation")]
    assert find_js_prose(source, allow={"Wikimedia Foundation"}) == [(1, "Report this page")]
