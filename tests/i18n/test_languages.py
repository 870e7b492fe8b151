"""Language facts: fallback chains and directions as MediaWiki has them, Babel locales, autonyms."""

from __future__ import annotations

from pathlib import Path

import pytest

from reporting.i18n import languages
from reporting.i18n.languages import (
    autonym,
    babel_locale,
    fallback_chain,
    language_direction,
    normalize_code,
    plural_categories,
)

MEDIAWIKI_MESSAGES = Path("/usr/share/mediawiki/languages/messages")


def test_shipped_table_matches_the_installed_mediawiki() -> None:
    fallbacks, directions = languages.read_mediawiki_languages(MEDIAWIKI_MESSAGES)
    assert len(fallbacks) > 400
    assert languages.MEDIAWIKI_FALLBACKS == fallbacks
    assert languages.MEDIAWIKI_DIRECTIONS == directions


def test_generator_output_is_the_shipped_block() -> None:
    source = Path(languages.__file__).read_text(encoding="utf-8")
    block = source.split("# BEGIN GENERATED", 1)[1].split("\n", 1)[1].split("# END GENERATED", 1)[0]
    fallbacks, directions = languages.read_mediawiki_languages(MEDIAWIKI_MESSAGES)
    assert languages.generated_table_source(fallbacks, directions) == block


@pytest.mark.parametrize(
    ("lang", "chain"),
    [
        ("en", ["en"]),
        ("de", ["de", "en"]),
        ("de-at", ["de-at", "de", "en"]),
        ("pt-br", ["pt-br", "pt", "en"]),
        ("pt", ["pt", "pt-br", "en"]),
        # MediaWiki 1.39's real chains (longer than the usual shorthand zh-tw -> zh-hant -> zh-hans)
        ("zh-hant", ["zh-hant", "zh-tw", "zh-hk", "zh", "zh-hans", "en"]),
        ("zh-tw", ["zh-tw", "zh-hant", "zh-hk", "zh", "zh-hans", "en"]),
        ("zh-hans", ["zh-hans", "zh-cn", "zh", "zh-hant", "en"]),
        ("en-gb", ["en-gb", "en"]),
        # codes MediaWiki does not know fall back through their prefixes
        ("fr-ca", ["fr-ca", "fr", "en"]),
        ("de-ch-test", ["de-ch-test", "de-ch", "de", "en"]),
        ("xyz", ["xyz", "en"]),
    ],
)
def test_fallback_chain(lang: str, chain: list[str]) -> None:
    assert fallback_chain(lang) == chain


@pytest.mark.parametrize(
    "lang", ["ar", "fa", "he", "ur", "ps", "ckb", "yi", "arz", "azb", "dv", "sd", "ug", "ks", "ar-eg", "syr"]
)
def test_right_to_left(lang: str) -> None:
    assert language_direction(lang) == "rtl"


@pytest.mark.parametrize("lang", ["en", "de", "zh-hans", "ja", "ru", "qqx", "xyz", "en-gb", "tr"])
def test_left_to_right(lang: str) -> None:
    assert language_direction(lang) == "ltr"


@pytest.mark.parametrize(
    ("lang", "locale"),
    [
        ("en", "en"),
        ("zh-hans", "zh_Hans"),
        ("zh-hant", "zh_Hant"),
        ("pt-br", "pt_BR"),
        ("de-at", "de_AT"),
        ("sr-ec", "sr_Cyrl"),
        ("als", "gsw"),
        ("simple", "en"),
        ("qqx", "en"),
        ("xyz", "en"),
    ],
)
def test_babel_locale(lang: str, locale: str) -> None:
    assert str(babel_locale(lang)) == locale


@pytest.mark.parametrize(
    ("lang", "name"), [("de", "Deutsch"), ("ru", "русский"), ("ar", "العربية"), ("zh-hans", "中文 (简体)"), ("xyz", "xyz")]
)
def test_autonym(lang: str, name: str) -> None:
    assert autonym(lang) == name


@pytest.mark.parametrize(
    ("lang", "categories"),
    [
        ("en", ("one", "other")),
        ("ja", ("other",)),
        ("ru", ("one", "few", "many", "other")),
        ("ar", ("zero", "one", "two", "few", "many", "other")),
        ("he", ("one", "two", "other")),
    ],
)
def test_plural_categories_in_mediawiki_order(lang: str, categories: tuple[str, ...]) -> None:
    assert plural_categories(lang) == categories


@pytest.mark.parametrize(
    ("raw", "code"),
    [("de", "de"), ("pt_BR", "pt-br"), (" zh-Hans ", "zh-hans"), ("qqx", "qqx"), ("", None), (None, None),
     ("../etc", None), ("de;drop", None), ("<script>", None), ("a", None), ("de-toolongsubtag", None)],
)
def test_normalize_code(raw: str | None, code: str | None) -> None:
    assert normalize_code(raw) == code
