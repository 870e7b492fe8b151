"""What people type in the report form's Wiki field, read as a wiki of the registry.

Reporters do not all know host names. They type what their wiki calls itself or what they call it:
``enwiki`` (a database name), ``commons``, ``meta`` (interwiki prefixes), ``en.wikipedia.org`` or a
pasted address, "English Wikipedia", "ويكيبيديا العربية", "中文维基百科". This module reads all of
them through the registry, so the answer is always a registry wiki (never a host of the reporter's
choosing) or a reason:

- ``unknown-wiki``: nothing the registry knows;
- ``ambiguous-wiki``: a project's name without a language ("Wikipedia") names hundreds of wikis;
  we ask rather than guess from the interface language (an Arabic reader may report English
  Wikipedia), and a wrong wiki would send the report to the wrong functionaries;
- ``private-wiki``: a private wiki, never a place the tool may read.

Names come from the stored sitematrix (each wiki's ``sitename``, each language's autonym and English
name) and, before the first refresh or for names the sitematrix does not give, from Babel's language
names in the interface languages the tool ships and a short table of project names.
"""
from __future__ import annotations

import functools
import re
import unicodedata
import weakref
from dataclasses import dataclass

from babel import Locale, UnknownLocaleError

from reporting.wiki.registry import _BUILTIN_SPECIAL_WIKIS, _SINGLE_WIKI_PREFIXES, FAMILIES, Wiki, WikiRegistry

__all__ = ["Suggestion", "WikiNames", "names_of"]

# The languages whose names for other languages are read from Babel ("الإنجليزية" for English).
NAME_LANGUAGES = ("en", "ar", "de", "es", "fa", "fr", "id", "pt", "ru", "uk", "zh_Hans")

# What the projects call themselves in the languages the tool ships, for the built-in registry (the
# sitematrix gives every wiki's own ``sitename`` once loaded).
_PROJECT_NAMES: dict[str, tuple[str, ...]] = {
    "wikipedia": ("Wikipedia", "ويكيبيديا", "ویکی‌پدیا", "ویکیپدیا", "Википедия", "Вікіпедія", "维基百科",
                  "維基百科", "Wikipédia", "Wikipedia la enciclopedia libre"),
    "wiktionary": ("Wiktionary", "ويكاموس", "ویکی‌واژه", "Викисловарь", "Вікісловник", "维基词典", "Wikcionario",
                   "Wiktionnaire", "Wikcionário", "Wikikamus"),
    "wikibooks": ("Wikibooks", "ويكي الكتب", "ویکی‌کتاب", "Викиучебник", "Вікіпідручник", "维基教科书",
                  "Wikilibros", "Wikilivres", "Wikilivros", "Wikibuku"),
    "wikinews": ("Wikinews", "ويكي الأخبار", "ویکی‌خبر", "Викиновости", "Вікіновини", "维基新闻", "Wikinoticias",
                 "Wikinotícias", "Wikiberita"),
    "wikiquote": ("Wikiquote", "ويكي الاقتباس", "ویکی‌گفتاورد", "Викицитатник", "Вікіцитати", "维基语录",
                  "Wikikutip"),
    "wikisource": ("Wikisource", "ويكي مصدر", "ویکی‌نبشته", "Викитека", "Вікіджерела", "维基文库", "Wikisumber"),
    "wikiversity": ("Wikiversity", "ويكي الجامعة", "ویکی‌دانشگاه", "Викиверситет", "Віківерситет", "维基学院",
                    "Wikiversidad", "Wikiversité", "Wikiversidade", "Wikiversitas"),
    "wikivoyage": ("Wikivoyage", "ويكي الرحلات", "ویکی‌سفر", "Викигид", "Вікімандри", "维基导游", "Wikiviajes"),
}

# Names of the single wikis, besides their interwiki prefixes and database names.
_SPECIAL_NAMES: dict[str, str] = {
    "wikimedia commons": "commons.wikimedia.org",
    "meta-wiki": "meta.wikimedia.org",
    "meta wiki": "meta.wikimedia.org",
    "metawiki": "meta.wikimedia.org",
    "wikimedia meta-wiki": "meta.wikimedia.org",
    "wikispecies": "species.wikimedia.org",
    "mediawiki": "www.mediawiki.org",
    "mediawiki.org": "www.mediawiki.org",
    "wikidata": "www.wikidata.org",
    "wikifunctions": "www.wikifunctions.org",
    "wikimedia incubator": "incubator.wikimedia.org",
}

# The wikis offered first in the field's suggestions (besides the reporter's language's wikis).
_COMMON_WIKIPEDIAS = ("en", "de", "fr", "es", "ru", "ja", "zh", "pt", "it", "ar", "fa", "pl", "uk", "id", "nl",
                      "tr", "he", "ko", "vi", "sv")
_COMMON_SINGLE_WIKIS = ("commons.wikimedia.org", "meta.wikimedia.org", "www.wikidata.org",
                        "species.wikimedia.org", "www.mediawiki.org", "incubator.wikimedia.org")

_DBNAME = re.compile(r"([a-z][a-z0-9_]*?)(wiki|wiktionary|wikibooks|wikinews|wikiquote|wikisource|wikiversity|"
                     r"wikivoyage)\Z")
_SEPARATORS = " -–—·,:()/"


def _key(text: str) -> str:
    """What two spellings of one name have in common: NFKC, case-folded, one space, no ZWNJ quirks."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("_", " ").replace("\u200c", "")
    return " ".join(text.split())


@dataclass(frozen=True)
class Suggestion:
    """One ``<option>`` of the Wiki field's ``<datalist>``: the value entered, and the wiki's name."""

    value: str
    label: str


@functools.lru_cache(maxsize=1)
def _babel_language_names() -> dict[str, str]:
    """Name (keyed) -> language code, from Babel: the names of languages in the tool's interface
    languages, and the own names of those languages and of the common wikis' languages. (Every
    language's own name comes from the sitematrix; asking Babel for all of them takes seconds.)"""
    names: dict[str, str] = {}
    for shown_in in NAME_LANGUAGES:
        locale = Locale.parse(shown_in)
        for code, name in locale.languages.items():
            if "_" not in code:
                names.setdefault(_key(name), code.lower())
    for code in dict.fromkeys([lang.split("_")[0] for lang in NAME_LANGUAGES] + list(_COMMON_WIKIPEDIAS)):
        names.setdefault(_key(_autonym(code)), code)
    return names


class WikiNames:
    """The names of one registry's wikis. Build it through :func:`names_of` (cached per registry)."""

    def __init__(self, registry: WikiRegistry) -> None:
        self.registry = registry
        # Keyed without "_" or spaces: people type "be_x_old wiki", "arbcom enwiki".
        self._dbnames = {_key(wiki.dbname).replace(" ", ""): wiki.host for wiki in registry.wikis() if wiki.dbname}
        self._specials: dict[str, str] = {**_SPECIAL_NAMES, **_SINGLE_WIKI_PREFIXES}
        self._projects: dict[str, str] = {}  # project name (keyed) -> family
        for family, names in _PROJECT_NAMES.items():
            for name in names:
                self._projects[_key(name)] = family
        for wiki in registry.wikis():
            if not wiki.sitename:
                continue
            wiki_family = _family_of(wiki.host)
            if wiki_family is not None:
                self._projects.setdefault(_key(wiki.sitename), wiki_family)
            elif not wiki.private:
                self._specials.setdefault(_key(wiki.sitename), wiki.host)
        # Longest first, so "Wikipedia la enciclopedia libre" wins over "Wikipedia".
        self._project_keys = sorted(self._projects, key=len, reverse=True)
        # Per interface language: the same short list for every showing of the form (the registry
        # is immutable), which looked up and named its ~30 wikis on every request.
        self._suggestions: dict[str, tuple[Suggestion, ...]] = {}

    @functools.cached_property
    def _languages(self) -> dict[str, str]:
        """Language name (keyed) -> code; built on the first name typed, not for host look-ups
        (Babel's tables take a fifth of a second to read, once per process)."""
        languages = dict(_babel_language_names())
        for code, names in self.registry.language_names().items():
            for name in names:
                languages[_key(name)] = code
        return languages

    def find(self, text: str) -> tuple[Wiki | None, str | None]:
        """The wiki ``text`` names, or ``(None, code)`` (see the module's docstring)."""
        raw = text.strip()
        if not raw:
            return None, "unknown-wiki"
        if not any(ch.isspace() for ch in raw):
            # A host (with a port for an operator's wiki) or a pasted address: the registry decides.
            authority = raw.split("//", 1)[-1].split("/", 1)[0] if "/" in raw else raw
            wiki, error = self.registry.check(authority)
            if wiki is not None or "/" in raw or "." in raw:
                return wiki, error
        key = _key(raw)
        host = self._dbnames.get(key.replace(" ", "")) or self._specials.get(key) or self._builtin_dbname(key)
        if host is None and key in self._projects:
            return None, "ambiguous-wiki"
        if host is None:
            host = self._language_and_project(key)
        if host is None:
            return None, "unknown-wiki"
        return self.registry.check(host)

    def _builtin_dbname(self, key: str) -> str | None:
        """``dewiki`` -> de.wikipedia.org without a sitematrix (the built-in rule decides whether it exists)."""
        for host, (dbname, _lang) in _BUILTIN_SPECIAL_WIKIS.items():
            if dbname == key:
                return host
        match = _DBNAME.fullmatch(key)
        if match is None:
            return None
        code, suffix = match.groups()
        lang = "be-tarask" if code == "be_x_old" else code.replace("_", "-")
        family = "wikipedia" if suffix == "wiki" else suffix
        return f"{lang}.{family}.org" if self.registry.is_language_code(lang) else None

    def _language_and_project(self, key: str) -> str | None:
        """"English Wikipedia", "ويكيبيديا العربية", "中文维基百科", "wikipedia (de)": a language's
        name or code before or after a project's name."""
        for project in self._project_keys:
            if key.startswith(project):
                rest = key[len(project):]
            elif key.endswith(project):
                rest = key[:-len(project)]
            else:
                continue
            rest = rest.strip(_SEPARATORS)
            if not rest:
                continue
            code = self._languages.get(rest) or (rest if self.registry.is_language_code(rest) else None)
            if code is not None:
                return f"{code}.{self._projects[project]}.org"
        return None

    def suggestions(self, lang: str) -> list[Suggestion]:
        """A short list for the field's ``<datalist>``: the wikis of the reporter's language, the
        largest Wikipedias and the single wikis. Kept short on purpose: every option is sent with
        every showing of the form (the field accepts any wiki, listed or not). Made once per
        language (a dozen interface languages at most)."""
        made = self._suggestions.get(lang)
        if made is None:
            made = self._suggestions[lang] = tuple(self._make_suggestions(lang))
        return list(made)

    def _make_suggestions(self, lang: str) -> list[Suggestion]:
        base = lang.split("-")[0] if lang not in ("zh-hans", "zh-hant") else "zh"
        hosts = [f"{base}.{family}.org" for family in FAMILIES]
        hosts += [f"{code}.wikipedia.org" for code in _COMMON_WIKIPEDIAS] + list(_COMMON_SINGLE_WIKIS)
        out: list[Suggestion] = []
        for host in dict.fromkeys(hosts):
            wiki = self.registry.lookup(host)
            if wiki is None or wiki.private or wiki.closed:
                continue
            if self.registry.is_builtin and _family_of(host) not in (None, "wikipedia") and host.split(".")[0] != base:
                continue
            out.append(Suggestion(wiki.host, self.label(wiki)))
        return out

    def label(self, wiki: Wiki) -> str:
        """"Wikipedia (English)", "ويكيبيديا (العربية)", "Wikimedia Commons"."""
        family = _family_of(wiki.host)
        if family is None:
            return wiki.sitename or _special_name(wiki.host)
        lang = wiki.host.split(".")[0]
        names = self.registry.language_names().get(lang)
        language = names[0] if names else _autonym(lang)
        return f"{wiki.sitename or _project_name(family, lang)} ({language})"


def _family_of(host: str) -> str | None:
    parts = host.split(".")
    return parts[1] if len(parts) == 3 and parts[1] in FAMILIES and parts[2] == "org" else None


def _project_name(family: str, lang: str) -> str:
    own = {"ar": 1, "fa": 2, "ru": 4, "uk": 5, "zh": 6}
    names = _PROJECT_NAMES[family]
    index = own.get(lang)
    return names[index] if index is not None and index < len(names) and family == "wikipedia" else names[0]


def _special_name(host: str) -> str:
    for name, special in _SPECIAL_NAMES.items():
        if special == host:
            return name.title() if name.islower() and " " in name else name.capitalize()
    return host


def _autonym(code: str) -> str:
    try:
        return Locale.parse(code.replace("-", "_")).get_display_name(code.replace("-", "_")) or code
    except (UnknownLocaleError, ValueError):
        return code


_CACHE: weakref.WeakKeyDictionary[WikiRegistry, WikiNames] = weakref.WeakKeyDictionary()


def names_of(registry: WikiRegistry) -> WikiNames:
    """The names of ``registry``'s wikis, built once per registry (registries are immutable)."""
    names = _CACHE.get(registry)
    if names is None:
        names = _CACHE[registry] = WikiNames(registry)
    return names
