"""Registry of the wikis the tool may talk to, and host normalisation.

Why this module exists: a pasted evidence link must never make the tool request a host of the
reporter's choosing (SSRF).  Every host is normalised here, checked against a registry of
Wikimedia wikis (built from ``action=sitematrix`` or, before the first refresh, from a built-in
domain rule) plus wikis an operator registered in configuration, and the API URL is always built
by the tool, never taken from the link.

Contracts:
- ``normalize_host`` returns a lower-case ASCII host name without port, user-info or trailing dot,
  with the mobile ``m.`` label removed, or ``None`` for anything else (IP addresses included).
- ``WikiRegistry.check`` returns ``(wiki, None)`` or ``(None, code)`` with code one of
  ``forbidden-host`` (not a host name we would ever contact), ``unknown-wiki`` (a valid host that
  is not a known wiki) or ``private-wiki`` (a private Wikimedia wiki: never acceptable evidence).

What each wiki calls its namespaces and special pages is in :mod:`reporting.wiki.siteinfo`.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

__all__ = [
    "Wiki",
    "WikiRegistry",
    "normalize_host",
]

# Language-edition projects: <lang>.<family>.org.
FAMILIES: tuple[str, ...] = (
    "wikipedia",
    "wiktionary",
    "wikibooks",
    "wikinews",
    "wikiquote",
    "wikisource",
    "wikiversity",
    "wikivoyage",
)

# Public single wikis recognised before the first sitematrix refresh: host -> (dbname, lang).
_BUILTIN_SPECIAL_WIKIS: dict[str, tuple[str, str]] = {
    "commons.wikimedia.org": ("commonswiki", "en"),
    "meta.wikimedia.org": ("metawiki", "en"),
    "species.wikimedia.org": ("specieswiki", "en"),
    "incubator.wikimedia.org": ("incubatorwiki", "en"),
    "foundation.wikimedia.org": ("foundationwiki", "en"),
    "wikimania.wikimedia.org": ("wikimaniawiki", "en"),
    "outreach.wikimedia.org": ("outreachwiki", "en"),
    "www.wikidata.org": ("wikidatawiki", "en"),
    "test.wikidata.org": ("testwikidatawiki", "en"),
    "www.mediawiki.org": ("mediawikiwiki", "en"),
    "www.wikifunctions.org": ("wikifunctionswiki", "en"),
    "wikisource.org": ("sourceswiki", "en"),
    "test.wikipedia.org": ("testwiki", "en"),
    "test2.wikipedia.org": ("test2wiki", "en"),
}

# Private wikis whose host fits the built-in language rule below (sitematrix: ``wg_enwiki``).
# Other private wikis live on hosts the rule never accepts (arbcom-en.wikipedia.org,
# sysop-it.wikipedia.org: labels too long for a language code; *.wikimedia.org: listed above only).
_BUILTIN_PRIVATE_WIKIS = frozenset({"wg-en.wikipedia.org"})

# Wikimedia's interwiki prefixes (the global interwiki map) for the wikis this tool knows.
_FAMILY_PREFIXES: dict[str, str] = {
    "w": "wikipedia",
    "wikipedia": "wikipedia",
    "wikt": "wiktionary",
    "wiktionary": "wiktionary",
    "b": "wikibooks",
    "wikibooks": "wikibooks",
    "n": "wikinews",
    "wikinews": "wikinews",
    "q": "wikiquote",
    "wikiquote": "wikiquote",
    "s": "wikisource",
    "wikisource": "wikisource",
    "v": "wikiversity",
    "wikiversity": "wikiversity",
    "voy": "wikivoyage",
    "wikivoyage": "wikivoyage",
}
_SINGLE_WIKI_PREFIXES: dict[str, str] = {
    "c": "commons.wikimedia.org",
    "commons": "commons.wikimedia.org",
    "m": "meta.wikimedia.org",
    "meta": "meta.wikimedia.org",
    "metawiki": "meta.wikimedia.org",
    "metawikimedia": "meta.wikimedia.org",
    "species": "species.wikimedia.org",
    "wikispecies": "species.wikimedia.org",
    "d": "www.wikidata.org",
    "wikidata": "www.wikidata.org",
    "mw": "www.mediawiki.org",
    "mediawikiwiki": "www.mediawiki.org",
    "f": "www.wikifunctions.org",
    "wikifunctions": "www.wikifunctions.org",
    "incubator": "incubator.wikimedia.org",
    "foundation": "foundation.wikimedia.org",
    "wmf": "foundation.wikimedia.org",
    "wikimania": "wikimania.wikimedia.org",
    "outreach": "outreach.wikimedia.org",
}

# Wikimedia language subdomains: ISO-like codes with optional subtags, plus "simple".
# Deliberately excludes private wikis living on the same domains (e.g. arbcom-en.wikipedia.org).
_LANG_CODE = re.compile(r"(?:[a-z]{2,3}|simple)(?:-[a-z0-9]{1,8})*\Z")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")
_NUMERIC_LABEL = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)\Z")
_FORBIDDEN_HOST_CHARS = re.compile(r"[@:\[\]%/\\?#\s\x00-\x1f\x7f]")
_MAX_HOST_LENGTH = 253


def _idna_to_ascii(host: str) -> str | None:
    """IDNA-encode a host (nameprep maps full-width forms, case); None when not encodable."""
    try:
        return host.encode("idna").decode("ascii")
    except (UnicodeError, ValueError):
        return None


def normalize_host(raw: str) -> str | None:
    """Return the canonical desktop host for a pasted host name, or None if it is unusable.

    Lower-cases, removes one trailing dot, IDNA-encodes non-ASCII names (so a Cyrillic look-alike
    becomes an ``xn--`` host that matches no wiki), validates every label and maps mobile hosts
    (``en.m.wikipedia.org``, ``m.wikidata.org``) to their desktop wiki.  Ports, user-info, IP
    literals (including decimal/octal/hex IPv4 forms) and anything that is not a DNS name give None.
    """
    if not isinstance(raw, str) or not raw or len(raw) > 2 * _MAX_HOST_LENGTH:
        return None
    if _FORBIDDEN_HOST_CHARS.search(raw):
        return None
    host = raw.removesuffix(".")
    if not host:
        return None
    if not host.isascii():
        encoded = _idna_to_ascii(host)
        if encoded is None:
            return None
        host = encoded
    host = host.lower()
    if len(host) > _MAX_HOST_LENGTH:
        return None
    labels = host.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return None
    for label in labels:
        if label.startswith("xn--"):
            try:
                label.encode("ascii").decode("idna")
            except (UnicodeError, ValueError):
                return None
    if _NUMERIC_LABEL.match(labels[-1]):
        return None
    if len(labels) >= 4 and labels[1] == "m":
        del labels[1]
    elif len(labels) == 3 and labels[0] == "m":
        labels[0] = "www"
    return ".".join(labels)


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Wiki:
    """A wiki the tool may query.  ``api_url`` is always built by the tool or set by an operator."""

    host: str
    dbname: str | None
    api_url: str
    lang: str | None
    closed: bool = False
    private: bool = False
    # The wiki's own name for itself (sitematrix ``sitename``: "Wikipedia", "ويكيبيديا", "Meta");
    # a name, not part of which wiki it is.
    sitename: str | None = field(default=None, compare=False)

    @property
    def script_path(self) -> str:
        """The ``$wgScriptPath`` implied by the API URL (``/w`` for Wikimedia wikis)."""
        path = urlsplit(self.api_url).path
        return path.rsplit("/", 1)[0] if "/" in path else ""


def _family_of(host: str) -> tuple[str | None, str | None]:
    """(language, family) for ``<lang>.<family>.org`` hosts, else (None, None)."""
    parts = host.split(".")
    if len(parts) == 3 and parts[1] in FAMILIES and parts[2] == "org":
        return parts[0], parts[1]
    return None, None


def _builtin_dbname(lang: str, family: str) -> str:
    code = "be_x_old" if lang == "be-tarask" else lang.replace("-", "_")
    return code + ("wiki" if family == "wikipedia" else family)


def _wikimedia_api_url(host: str) -> str:
    return f"https://{host}/w/api.php"


@dataclass(frozen=True)
class _ExtraWiki:
    wiki: Wiki
    port: int | None


def _split_authority(raw: str) -> tuple[str, str | None] | None:
    """Split ``host[:port]``; None when the authority has user-info or is an IPv6 literal."""
    if "@" in raw or raw.startswith("["):
        return None
    if raw.count(":") == 1:
        host, port = raw.split(":")
        return host, port
    if ":" in raw:
        return None
    return raw, None


class WikiRegistry:
    """The set of wikis evidence may come from.

    Three sources, in this order: wikis an operator registered (``with_extra``), the sitematrix
    (authoritative once loaded), otherwise the built-in Wikimedia domain rule.
    """

    def __init__(
        self,
        sites: dict[str, Wiki] | None,
        languages: frozenset[str] | None,
        extra: dict[str, _ExtraWiki] | None = None,
        language_names: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        self._sites = sites
        self._languages = languages
        self._extra: dict[str, _ExtraWiki] = dict(extra or {})
        # Language code -> its names in the sitematrix (the autonym, the English name).
        self._language_names: dict[str, tuple[str, ...]] = dict(language_names or {})

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def builtin(cls) -> WikiRegistry:
        """A registry recognising Wikimedia project domains without any network access."""
        return cls(None, None)

    @classmethod
    def from_sitematrix(cls, data: dict) -> WikiRegistry:
        """Build from ``action=sitematrix&format=json&formatversion=2&smlimit=5000`` output.

        Malformed entries are skipped; a response without any site raises ValueError so that a
        broken refresh never replaces a working registry with an empty one.
        """
        matrix = data.get("sitematrix") if isinstance(data, dict) else None
        if not isinstance(matrix, dict):
            raise ValueError("not a sitematrix response")  # noqa: TRY004 - callers catch ValueError
        sites: dict[str, Wiki] = {}
        languages: set[str] = set()
        language_names: dict[str, tuple[str, ...]] = {}

        def add(site: object, lang: str | None) -> None:
            if not isinstance(site, dict) or not isinstance(site.get("url"), str):
                return
            try:
                parts = urlsplit(site["url"])
                host = parts.hostname or ""
            except ValueError:
                return
            # Only a bare https host: no user-info, port or look-alike ever enters the registry.
            if parts.netloc != host or normalize_host(host) != host or host in sites:
                return
            dbname = site.get("dbname") if isinstance(site.get("dbname"), str) else None
            sitename = site.get("sitename") if isinstance(site.get("sitename"), str) else None
            sites[host] = Wiki(
                host=host,
                dbname=dbname,
                api_url=_wikimedia_api_url(host),
                lang=lang,
                closed=_flag(site.get("closed")),
                private=_flag(site.get("private")),
                sitename=sitename,
            )

        for key, group in matrix.items():
            if key.isdigit() and isinstance(group, dict):
                code = group.get("code")
                lang = code if isinstance(code, str) else None
                if lang:
                    languages.add(lang)
                    names = tuple(dict.fromkeys(
                        name for name in (group.get("name"), group.get("localname")) if isinstance(name, str) and name))
                    if names:
                        language_names[lang] = names
                for site in group.get("site") or []:
                    add(site, lang)
        for site in matrix.get("specials") or []:
            lang = site.get("lang") if isinstance(site, dict) else None
            add(site, lang if isinstance(lang, str) else None)
        if not sites:
            raise ValueError("sitematrix lists no wiki")
        return cls(sites, frozenset(languages), language_names=language_names)

    def with_extra(self, extra: dict[str, str]) -> WikiRegistry:
        """Return a registry that also accepts operator-registered wikis (host -> API URL).

        The host may carry a port; links to it are then accepted with that port.  A link may also
        use the port of the API URL, which is how tests point a name at a loopback MediaWiki.
        """
        merged = dict(self._extra)
        for raw_host, api_url in extra.items():
            parts = urlsplit(api_url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"extra wiki {raw_host!r}: API URL must be http(s)")
            split = _split_authority(raw_host.strip().lower().rstrip("."))
            if split is None:
                raise ValueError(f"extra wiki {raw_host!r}: bad host")
            host, port_text = split
            if not _is_ip_literal(host) and host != "localhost":
                normalized = normalize_host(host)
                if normalized is None:
                    raise ValueError(f"extra wiki {raw_host!r}: bad host")
                host = normalized
            port = int(port_text) if port_text and port_text.isdigit() else parts.port
            merged[host] = _ExtraWiki(
                Wiki(host=host, dbname=None, api_url=api_url, lang=None), port
            )
        return WikiRegistry(self._sites, self._languages, merged, self._language_names)

    # -- queries ------------------------------------------------------------------------------

    @property
    def is_builtin(self) -> bool:
        """True until a sitematrix has been loaded."""
        return self._sites is None

    def lookup(self, host: str) -> Wiki | None:
        """The wiki for a (raw or normalised) host name without port, or None."""
        if not isinstance(host, str):
            return None
        key = host.strip().lower()
        key = key.removesuffix(".")
        if key in self._extra:
            return self._extra[key].wiki
        normalized = normalize_host(host.strip())
        if normalized is None:
            return None
        candidates = [normalized]
        if normalized.startswith("www."):
            candidates.append(normalized[4:])
        if normalized.count(".") == 1:
            candidates.append("www." + normalized)
        for candidate in candidates:
            wiki = self._lookup_exact(candidate)
            if wiki is not None:
                return wiki
        return None

    def _lookup_exact(self, host: str) -> Wiki | None:
        if host in self._extra:
            return self._extra[host].wiki
        if self._sites is not None:
            return self._sites.get(host)
        if host in _BUILTIN_SPECIAL_WIKIS:
            dbname, special_lang = _BUILTIN_SPECIAL_WIKIS[host]
            return Wiki(host=host, dbname=dbname, api_url=_wikimedia_api_url(host), lang=special_lang)
        lang, family = _family_of(host)
        if lang and family and lang != "www" and _LANG_CODE.match(lang):
            return Wiki(
                host=host,
                dbname=_builtin_dbname(lang, family),
                api_url=_wikimedia_api_url(host),
                lang=lang,
                private=host in _BUILTIN_PRIVATE_WIKIS,
            )
        return None

    def check(self, raw_host: str) -> tuple[Wiki | None, str | None]:
        """Accept or reject the authority (``host`` or ``host:port``) of a pasted link."""
        if not isinstance(raw_host, str):
            return None, "forbidden-host"
        split = _split_authority(raw_host.strip())
        if split is None:
            return None, "forbidden-host"
        host, port_text = split
        port: int | None = None
        if port_text is not None:
            if not port_text.isascii() or not port_text.isdigit() or len(port_text) > 5:
                return None, "forbidden-host"
            port = int(port_text)
        key = host.lower()
        key = key.removesuffix(".")
        extra = self._extra.get(key)
        if extra is None:
            normalized = normalize_host(host)
            if normalized is None:
                return None, "forbidden-host"
            extra = self._extra.get(normalized)
            if extra is None and port is not None:
                return None, "forbidden-host"
        if extra is not None:
            if port is not None and port != extra.port:
                return None, "forbidden-host"
            return extra.wiki, None
        wiki = self.lookup(host)
        if wiki is None:
            return None, "unknown-wiki"
        if wiki.private:
            return None, "private-wiki"
        return wiki, None

    def is_extra(self, wiki: Wiki) -> bool:
        """Whether ``wiki`` was registered by an operator (its layout is then read from siteinfo)."""
        extra = self._extra.get(wiki.host)
        return extra is not None and extra.wiki == wiki

    def interwiki(self, prefix: str, from_wiki: Wiki) -> tuple[bool, Wiki | None]:
        """Resolve a Wikimedia interwiki prefix as written on ``from_wiki``.

        Returns ``(is_prefix, wiki)``: ``is_prefix`` says whether MediaWiki would treat the prefix
        as an interwiki link at all; ``wiki`` is the target when the registry knows it.  Language
        prefixes stay in the project of ``from_wiki`` (Wikipedia from non-language wikis);
        project prefixes keep the language.  Operator-registered wikis have no interwiki map here.
        """
        if self.is_extra(from_wiki):
            return False, None
        key = prefix.strip().lower().replace(" ", "_")
        from_lang, from_family = _family_of(from_wiki.host)
        if key in _FAMILY_PREFIXES:
            family = _FAMILY_PREFIXES[key]
            return True, self._lookup_exact(f"{from_lang or 'en'}.{family}.org")
        if key in _SINGLE_WIKI_PREFIXES:
            return True, self._lookup_exact(_SINGLE_WIKI_PREFIXES[key])
        if self.is_language_code(key):
            return True, self._lookup_exact(f"{key}.{from_family or 'wikipedia'}.org")
        return False, None

    def is_language_code(self, code: str) -> bool:
        """Whether ``code`` is a Wikimedia language (sitematrix) or looks like one (built-in)."""
        if self._languages is not None:
            return code in self._languages
        return code != "www" and bool(_LANG_CODE.match(code))

    def language_names(self) -> dict[str, tuple[str, ...]]:
        """Language code -> its names from the sitematrix (autonym, English name); empty when built in."""
        return dict(self._language_names)

    def wikis(self) -> list[Wiki]:
        """Every wiki listed by the sitematrix and every operator-registered wiki."""
        listed = list(self._sites.values()) if self._sites is not None else []
        return listed + [extra.wiki for extra in self._extra.values()]

    # -- persistence --------------------------------------------------------------------------

    def to_json(self) -> str:
        """Serialise the sitematrix part.  Operator wikis are configuration, re-applied on load."""
        return json.dumps(
            {
                "format": 1,
                "sites": None
                if self._sites is None
                else [asdict(wiki) for wiki in sorted(self._sites.values(), key=lambda w: w.host)],
                "languages": None if self._languages is None else sorted(self._languages),
                "language_names": {code: list(names) for code, names in sorted(self._language_names.items())},
            },
            ensure_ascii=False,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> WikiRegistry:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != 1:
            raise ValueError("unknown registry format")
        if data.get("sites") is None:
            return cls.builtin()
        sites = {}
        for item in data["sites"]:
            wiki = Wiki(
                host=item["host"],
                dbname=item.get("dbname"),
                api_url=_wikimedia_api_url(item["host"]),
                lang=item.get("lang"),
                closed=bool(item.get("closed", False)),
                private=bool(item.get("private", False)),
                sitename=item["sitename"] if isinstance(item.get("sitename"), str) else None,
            )
            if normalize_host(wiki.host) != wiki.host:
                raise ValueError(f"bad host in stored registry: {wiki.host!r}")
            sites[wiki.host] = wiki
        stored_names = data.get("language_names")
        language_names = {code: tuple(name for name in names if isinstance(name, str))
                          for code, names in stored_names.items() if isinstance(names, list)} \
            if isinstance(stored_names, dict) else {}
        return cls(sites, frozenset(data.get("languages") or ()), language_names=language_names)


def _flag(value: object) -> bool:
    """Sitematrix flags: present-and-true in formatversion=2, present-as-"" in formatversion=1."""
    return value is not None and value is not False
