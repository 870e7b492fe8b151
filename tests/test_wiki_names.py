"""What people type in the Wiki field, read as a registry wiki (:mod:`reporting.wiki.names`)."""
from __future__ import annotations

import pytest

from reporting.wiki.names import names_of
from reporting.wiki.registry import WikiRegistry

SITEMATRIX = {"sitematrix": {
    "count": 7,
    "0": {"code": "en", "name": "English", "localname": "English", "site": [
        {"url": "https://en.wikipedia.org", "dbname": "enwiki", "code": "wiki", "sitename": "Wikipedia"},
        {"url": "https://en.wiktionary.org", "dbname": "enwiktionary", "code": "wiktionary",
         "sitename": "Wiktionary"}]},
    "1": {"code": "ar", "name": "العربية", "localname": "Arabic", "site": [
        {"url": "https://ar.wikipedia.org", "dbname": "arwiki", "code": "wiki", "sitename": "ويكيبيديا"},
        {"url": "https://ar.wikisource.org", "dbname": "arwikisource", "code": "wikisource", "sitename": "ويكي مصدر"}]},
    "2": {"code": "hsb", "name": "hornjoserbsce", "localname": "Upper Sorbian", "site": [
        {"url": "https://hsb.wikipedia.org", "dbname": "hsbwiki", "code": "wiki", "sitename": "Wikipedija"}]},
    "3": {"code": "xx", "name": "Closedish", "localname": "Closedish", "site": [
        {"url": "https://xx.wikipedia.org", "dbname": "xxwiki", "code": "wiki", "sitename": "Wikipedia",
         "closed": True}]},
    "specials": [
        {"url": "https://commons.wikimedia.org", "dbname": "commonswiki", "code": "commons",
         "sitename": "Wikimedia Commons"},
        {"url": "https://meta.wikimedia.org", "dbname": "metawiki", "code": "meta", "sitename": "Meta"},
        {"url": "https://arbcom-en.wikipedia.org", "dbname": "arbcom_enwiki", "code": "arbcom-en",
         "sitename": "Arbitration Committee", "private": True},
    ]}}

SITEMATRIX_REGISTRY = WikiRegistry.from_sitematrix(SITEMATRIX)

# (typed, host or None, error code or None), for both registries unless marked.
BOTH = [
    ("enwiki", "en.wikipedia.org", None),
    ("ENWIKI", "en.wikipedia.org", None),
    ("commons", "commons.wikimedia.org", None),
    ("meta", "meta.wikimedia.org", None),
    ("commonswiki", "commons.wikimedia.org", None),
    ("Wikimedia Commons", "commons.wikimedia.org", None),
    ("en.wikipedia.org", "en.wikipedia.org", None),
    ("https://en.m.wikipedia.org/wiki/Main_Page", "en.wikipedia.org", None),
    ("English Wikipedia", "en.wikipedia.org", None),
    ("english   wikipedia", "en.wikipedia.org", None),
    ("Wikipedia English", "en.wikipedia.org", None),
    ("Wikipedia (en)", "en.wikipedia.org", None),
    ("ويكيبيديا العربية", "ar.wikipedia.org", None),
    ("Arabic Wikipedia", "ar.wikipedia.org", None),
    ("Wikipedia", None, "ambiguous-wiki"),
    ("wikipedia", None, "ambiguous-wiki"),
    ("ويكيبيديا", None, "ambiguous-wiki"),
    ("Wiktionary", None, "ambiguous-wiki"),
    ("nonsense", None, "unknown-wiki"),
    ("evil.example", None, "unknown-wiki"),
    ("", None, "unknown-wiki"),
    ("Nowhereland Wikipedia", None, "unknown-wiki"),
    ("127.0.0.1", None, "forbidden-host"),
]


@pytest.mark.parametrize("typed, host, error", BOTH)
@pytest.mark.parametrize("registry", [WikiRegistry.builtin(), SITEMATRIX_REGISTRY], ids=["builtin", "sitematrix"])
def test_names_of_wikis(registry, typed, host, error):
    wiki, code = names_of(registry).find(typed)
    assert (wiki.host if wiki else None, code) == (host, error)


@pytest.mark.parametrize("typed, host, error", [
    # Only the sitematrix knows these: its own names and languages.
    ("Wikipedija hornjoserbsce", "hsb.wikipedia.org", None),
    ("Upper Sorbian Wikipedia", "hsb.wikipedia.org", None),
    ("ويكي مصدر العربية", "ar.wikisource.org", None),
    ("arwikisource", "ar.wikisource.org", None),
    ("dewiki", None, "unknown-wiki"),  # not in this (small) sitematrix
    ("arbcom_enwiki", None, "private-wiki"),  # private wikis are never a report's wiki
])
def test_names_from_the_sitematrix(typed, host, error):
    wiki, code = names_of(SITEMATRIX_REGISTRY).find(typed)
    assert (wiki.host if wiki else None, code) == (host, error)


@pytest.mark.parametrize("typed, host", [
    ("dewiki", "de.wikipedia.org"),
    ("Wikipedia Deutsch", "de.wikipedia.org"),
    ("中文维基百科", "zh.wikipedia.org"),
    ("ویکی‌پدیا فارسی", "fa.wikipedia.org"),
    ("Вікіпедія українська", "uk.wikipedia.org"),
    ("ويكيبيديا الإنجليزية", "en.wikipedia.org"),  # English, named in Arabic
    ("simplewiki", "simple.wikipedia.org"),
    ("wikidatawiki", "www.wikidata.org"),
])
def test_names_without_a_sitematrix(typed, host):
    wiki, code = names_of(WikiRegistry.builtin()).find(typed)
    assert code is None and wiki is not None and wiki.host == host


def test_suggestions_are_short_named_and_start_with_the_readers_wikis():
    builtin = names_of(WikiRegistry.builtin()).suggestions("ar")
    assert builtin[0].value == "ar.wikipedia.org" and builtin[0].label == "ويكيبيديا (العربية)"
    assert 20 <= len(builtin) <= 40
    assert len({s.value for s in builtin}) == len(builtin)
    listed = names_of(SITEMATRIX_REGISTRY).suggestions("ar")
    values = [s.value for s in listed]
    assert values[:2] == ["ar.wikipedia.org", "ar.wikisource.org"]
    assert "xx.wikipedia.org" not in values and "arbcom-en.wikipedia.org" not in values  # closed, private
    assert ("ar.wikisource.org", "ويكي مصدر (العربية)") in [(s.value, s.label) for s in listed]


def test_names_survive_the_stored_registry():
    stored = WikiRegistry.from_json(SITEMATRIX_REGISTRY.to_json())
    wiki, code = names_of(stored).find("Upper Sorbian Wikipedia")
    assert code is None and wiki is not None and wiki.host == "hsb.wikipedia.org"
    assert stored.lookup("ar.wikipedia.org").sitename == "ويكيبيديا"
