"""What each wiki calls its namespaces and special pages, from ``meta=siteinfo``.

Why: ``Spezial:Unterschied/5`` is ``Special:Diff/5`` on the German Wikipedia, and only the wiki
knows its localised names.  ``SiteInfo`` mirrors how MediaWiki matches namespace names
(lower-cased, spaces and underscores alike) and special page aliases (``Language::caseFold``, i.e.
upper-cased, canonical names first); ``SiteInfoCache`` keeps each wiki's answer so it is asked
rarely.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from reporting.wiki.registry import Wiki

__all__ = [
    "SiteInfo",
    "SiteInfoCache",
    "fold_special_name",
]


def _fold_namespace(name: str) -> str:
    """MediaWiki's key for namespace lookups: ``Language::lc`` with underscores for spaces."""
    return re.sub(r"[ _]+", "_", name.strip(" _")).lower()


def fold_special_name(name: str) -> str:
    """MediaWiki's key for special page aliases: ``Language::caseFold`` (upper case), ``_``."""
    return name.replace(" ", "_").upper()


@dataclass
class SiteInfo:
    """What the parser needs from ``meta=siteinfo``: namespaces, special page aliases, paths."""

    lang: str
    fallback: tuple[str, ...] = ()
    article_path: str = "/wiki/$1"
    script: str = "/w/index.php"
    variant_article_path: str | None = None
    variants: tuple[str, ...] = ()
    namespace_ids: dict[str, int] = field(default_factory=dict)
    special_aliases: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_api(cls, data: dict) -> SiteInfo:
        """Build from ``siprop=general|namespaces|namespacealiases|specialpagealiases`` JSON.

        Accepts formatversion=2 (``name``) and formatversion=1 (``*``) namespace objects.
        Raises ValueError when the response lacks the general or namespaces sections.
        """
        query = data.get("query", data) if isinstance(data, dict) else None
        if not isinstance(query, dict):
            raise ValueError("not a siteinfo response")
        general = query.get("general")
        namespaces = query.get("namespaces")
        if not isinstance(general, dict) or not isinstance(namespaces, dict):
            raise ValueError("siteinfo lacks general or namespaces")
        lang = general.get("lang")
        if not isinstance(lang, str):
            raise ValueError("siteinfo lacks the content language")

        namespace_ids: dict[str, int] = {}
        for item in namespaces.values():
            if not isinstance(item, dict) or not isinstance(item.get("id"), int):
                continue
            for key in ("name", "*", "canonical"):
                name = item.get(key)
                if isinstance(name, str) and name:
                    namespace_ids.setdefault(_fold_namespace(name), item["id"])
        for item in query.get("namespacealiases") or []:
            if isinstance(item, dict) and isinstance(item.get("id"), int):
                alias = item.get("alias", item.get("*"))
                if isinstance(alias, str) and alias:
                    namespace_ids.setdefault(_fold_namespace(alias), item["id"])

        special_aliases = _special_alias_list(query.get("specialpagealiases") or [])

        fallback = tuple(
            item["code"]
            for item in general.get("fallback") or []
            if isinstance(item, dict) and isinstance(item.get("code"), str)
        )
        variants = tuple(
            item["code"]
            for item in general.get("variants") or []
            if isinstance(item, dict) and isinstance(item.get("code"), str)
        )
        variant_path = general.get("variantarticlepath")
        return cls(
            lang=lang,
            fallback=fallback,
            article_path=general.get("articlepath") or "/wiki/$1",
            script=general.get("script") or "/w/index.php",
            variant_article_path=variant_path if isinstance(variant_path, str) else None,
            variants=variants,
            namespace_ids=namespace_ids,
            special_aliases=special_aliases,
        )

    def namespace_id(self, name: str) -> int | None:
        """The namespace id for a local, canonical or alias name (any case), else None."""
        return self.namespace_ids.get(_fold_namespace(name))

    def special_page_name(self, alias: str) -> str | None:
        """The canonical special page name for ``alias`` (case-insensitive), else None."""
        return self.special_aliases.get(fold_special_name(alias))


def _special_alias_list(entries: list) -> dict[str, str]:
    """Mirror ``SpecialPageFactory::getAliasList``: canonical names win, then first aliases."""
    aliases: dict[str, str] = {}
    keep: set[str] = set()
    valid = [
        entry
        for entry in entries
        if isinstance(entry, dict)
        and isinstance(entry.get("realname"), str)
        and isinstance(entry.get("aliases"), list)
    ]
    for entry in valid:
        folded = fold_special_name(entry["realname"])
        aliases[folded] = entry["realname"]
        keep.add(folded)
    for entry in valid:
        real = entry["realname"]
        for index, alias in enumerate(a for a in entry["aliases"] if isinstance(a, str)):
            folded = fold_special_name(alias)
            if aliases.get(folded) == real:
                continue
            if folded not in keep:
                aliases[folded] = real
                if index == 0:
                    keep.add(folded)
    return aliases


class SiteInfoCache:
    """Fetch each wiki's siteinfo once and keep it for ``ttl_seconds``.

    A failed fetch (exception or unusable response) is remembered as None for
    ``failure_ttl_seconds`` so a down wiki is not hammered; callers then fall back to the
    English canonical names, which every wiki accepts.  Thread-safe; at most one fetch per wiki
    runs at a time.
    """

    def __init__(
        self,
        fetch: Callable[[Wiki], dict],
        ttl_seconds: float = 86400,
        *,
        failure_ttl_seconds: float = 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl_seconds
        self._failure_ttl = failure_ttl_seconds
        self._clock = clock
        self._entries: dict[tuple[str, str], tuple[float, SiteInfo | None]] = {}
        self._lock = threading.Lock()
        self._wiki_locks: dict[tuple[str, str], threading.Lock] = {}

    def get(self, wiki: Wiki) -> SiteInfo | None:
        key = (wiki.host, wiki.api_url)
        entry = self._entries.get(key)
        if entry is not None and entry[0] > self._clock():
            return entry[1]
        with self._lock:
            wiki_lock = self._wiki_locks.setdefault(key, threading.Lock())
        with wiki_lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > self._clock():
                return entry[1]
            try:
                info: SiteInfo | None = SiteInfo.from_api(self._fetch(wiki))
                ttl = self._ttl
            except Exception:  # noqa: BLE001 - any fetch failure means "no siteinfo for now"
                info = None
                ttl = self._failure_ttl
            self._entries[key] = (self._clock() + ttl, info)
            return info

    def __call__(self, wiki: Wiki) -> SiteInfo | None:
        return self.get(wiki)
