"""The MediaWiki message syntax: $n, PLURAL with CLDR categories, explicit n= forms, GENDER, malformed input."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reporting.i18n.formatter import PluralRules, UserName, params_used, parse, plural_rules_from, render
from reporting.i18n.languages import babel_locale, plural_categories


def rules(lang: str) -> PluralRules:
    return plural_rules_from(plural_categories(lang), babel_locale(lang).plural_form)


def as_text(message: str, *params: object, lang: str = "en") -> str:
    return render(parse(message), params, rules(lang), str, str)


# Forms named after the category each position stands for in MediaWiki's order.
@pytest.mark.parametrize(
    ("lang", "message", "number", "expected"),
    [
        ("en", "{{PLURAL:$1|one|other}}", 1, "one"),
        ("en", "{{PLURAL:$1|one|other}}", 0, "other"),
        ("en", "{{PLURAL:$1|one|other}}", 2, "other"),
        ("en", "{{PLURAL:$1|one|other}}", Decimal("1.0"), "other"),
        ("en", "{{PLURAL:$1|one|other}}", "1", "one"),
        ("en", "{{PLURAL:$1|only}}", 5, "only"),
        ("ru", "{{PLURAL:$1|one|few|many|other}}", 1, "one"),
        ("ru", "{{PLURAL:$1|one|few|many|other}}", 2, "few"),
        ("ru", "{{PLURAL:$1|one|few|many|other}}", 5, "many"),
        ("ru", "{{PLURAL:$1|one|few|many|other}}", 21, "one"),
        ("ru", "{{PLURAL:$1|one|few|many|other}}", 0, "many"),
        ("ru", "{{PLURAL:$1|one|few|many|other}}", 1.5, "other"),
        ("ru", "{{PLURAL:$1|one|few|many}}", 1.5, "many"),  # fewer forms: the last repeats
        ("ru", "{{PLURAL:$1|one|few}}", 5, "few"),
        ("ar", "{{PLURAL:$1|zero|one|two|few|many|other}}", 0, "zero"),
        ("ar", "{{PLURAL:$1|zero|one|two|few|many|other}}", 1, "one"),
        ("ar", "{{PLURAL:$1|zero|one|two|few|many|other}}", 2, "two"),
        ("ar", "{{PLURAL:$1|zero|one|two|few|many|other}}", 3, "few"),
        ("ar", "{{PLURAL:$1|zero|one|two|few|many|other}}", 11, "many"),
        ("ar", "{{PLURAL:$1|zero|one|two|few|many|other}}", 100, "other"),
        ("fr", "{{PLURAL:$1|one|other}}", 0, "one"),
        ("fr", "{{PLURAL:$1|one|other}}", 1, "one"),
        ("fr", "{{PLURAL:$1|one|other}}", 2, "other"),
        ("ja", "{{PLURAL:$1|other}}", 1, "other"),
        ("ja", "{{PLURAL:$1|other}}", 0, "other"),
        ("ja", "{{PLURAL:$1|first|second}}", 1, "first"),
        ("pl", "{{PLURAL:$1|one|few|many|other}}", 1, "one"),
        ("pl", "{{PLURAL:$1|one|few|many|other}}", 3, "few"),
        ("pl", "{{PLURAL:$1|one|few|many|other}}", 5, "many"),
        ("pl", "{{PLURAL:$1|one|few|many|other}}", 22, "few"),
        ("pl", "{{PLURAL:$1|one|few|many|other}}", 12, "many"),
        ("pl", "{{PLURAL:$1|one|few|many|other}}", 0, "many"),
        ("pl", "{{PLURAL:$1|one|few|many|other}}", 2.5, "other"),
        ("en", "{{PLURAL:$1|0=none|1=single|one|other}}", 0, "none"),
        ("en", "{{PLURAL:$1|0=none|1=single|one|other}}", 1, "single"),
        ("en", "{{PLURAL:$1|0=none|1=single|one|other}}", 2, "other"),
        ("ru", "{{PLURAL:$1|0=none|one|few|many}}", 0, "none"),
        ("ru", "{{PLURAL:$1|0=none|one|few|many}}", 21, "one"),
        ("en", "{{PLURAL:$1|one|12=a dozen|other}}", 12, "a dozen"),
        ("en", "{{plural: $1 | one | other }}", 1, "one"),
        ("en", "{{PLURAL:$1|one|other}}", "not a number", "other"),
        ("en", "{{PLURAL:$1}}", 1, ""),
    ],
)
def test_plural(lang: str, message: str, number: object, expected: str) -> None:
    assert as_text(message, number, lang=lang) == expected


@pytest.mark.parametrize(
    ("message", "params", "expected"),
    [
        ("{{GENDER:$1|he|she|they}}", (UserName("A", "male"),), "he"),
        ("{{GENDER:$1|he|she|they}}", (UserName("A", "female"),), "she"),
        ("{{GENDER:$1|he|she|they}}", (UserName("A"),), "they"),
        ("{{GENDER:$1|he|she|they}}", ("female",), "she"),
        ("{{GENDER:$1|he|she|they}}", ("someone",), "they"),
        ("{{GENDER:$1|he|she}}", (UserName("A"),), "he"),  # MediaWiki: unknown takes the first form
        ("{{GENDER:$1|he|she}}", (UserName("A", "female"),), "she"),
        ("{{GENDER:$1|person}}", (UserName("A", "female"),), "person"),
        ("{{GENDER:$1}}", (UserName("A", "female"),), ""),
        ("{{GENDER:$2|His|Her|Their}} report about $1", ("X", UserName("B", "female")), "Her report about X"),
    ],
)
def test_gender(message: str, params: tuple[object, ...], expected: str) -> None:
    assert as_text(message, *params) == expected


@pytest.mark.parametrize(
    ("message", "params", "expected"),
    [
        ("Hello $1", ("Ada",), "Hello Ada"),
        ("$2 before $1", ("a", "b"), "b before a"),
        ("$1$1", ("x",), "xx"),
        ("Missing $3", ("a",), "Missing $3"),
        ("$0 and $ alone", (), "$0 and $ alone"),
        ("Price: $10", tuple(str(i) for i in range(1, 11)), "Price: 10"),
        # nested magic words and parameters inside forms
        ("{{PLURAL:$1|{{GENDER:$2|He|She}} has one|$1 items}}", (1, UserName("B", "female")), "She has one"),
        ("{{PLURAL:$1|one $2|many $2}}", (3, "cats"), "many cats"),
        # unknown or malformed markup is shown literally, never raises
        ("{{SITENAME}} is here", (), "{{SITENAME}} is here"),
        ("{{GRAMMAR:genitive|$1}}", ("Wiki",), "{{GRAMMAR:genitive|Wiki}}"),
        ("Broken {{PLURAL:$1|one", (1,), "Broken {{PLURAL:1|one"),
        ("{{PLURAL:$1|a {{foo|x}} b|c}}", (1,), "a {{foo|x}} b"),
        ("stray }} and | pipes", (), "stray }} and | pipes"),
        ("{{", (), "{{"),
        ("{{{{PLURAL:$1|one|other}}", (2,), "{{other"),
    ],
)
def test_parameters_and_literal_markup(message: str, params: tuple[object, ...], expected: str) -> None:
    assert as_text(message, *params) == expected


def test_params_used_sees_parameters_inside_magic_words() -> None:
    assert params_used(parse("$1 {{PLURAL:$2|$3|0=$4}} {{GENDER:$5|$6}}")) == {1, 2, 3, 4, 5, 6}


def test_literal_and_param_writers_are_applied_separately() -> None:
    output = render(parse("<$1>"), ("<b>",), rules("en"), lambda text: text.upper(), lambda value: f"[{value}]")
    assert output == "<[<b>]>"


def test_deeply_unclosed_markup_parses_quickly() -> None:
    assert parse("{{PLURAL:" * 500) == ("{{PLURAL:" * 500,)


@given(st.text(alphabet="{}|$12PLURAGENDx:= ", max_size=60), st.lists(st.integers(0, 30), max_size=3))
def test_any_text_renders_without_raising(message: str, numbers: list[int]) -> None:
    render(parse(message), numbers, rules("ru"), str, str)
