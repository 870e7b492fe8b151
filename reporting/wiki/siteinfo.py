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

from reporting.wiki.client import WikiClient, WikiUnavailable
from reporting.wiki.registry import Wiki

__all__ = [
    "SiteInfo",
    "SiteInfoCache",
    "fetch_siteinfo",
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
            raise ValueError("not a siteinfo response")  # noqa: TRY004 - callers catch ValueError
        general = query.get("general")
        namespaces = query.get("namespaces")
        if not isinstance(general, dict) or not isinstance(namespaces, dict):
            raise ValueError("siteinfo lacks general or namespaces")  # noqa: TRY004
        lang = general.get("lang")
        if not isinstance(lang, str):
            raise ValueError("siteinfo lacks the content language")  # noqa: TRY004

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


def fetch_siteinfo(client: WikiClient, api_url: str) -> dict:
    """The raw `meta=siteinfo` answer (general, namespaces, aliases, special page aliases).

    Callers cache it (it changes rarely, see ``SiteInfoCache``); it gives the localised names
    that link parsing and signature detection need.
    """
    return client.get(api_url, {
        "action": "query", "meta": "siteinfo",
        "siprop": "general|namespaces|namespacealiases|specialpagealiases",
    })


@dataclass(frozen=True)
class _Entry:
    expires: float
    answer: dict | None  # the raw answer; None when the fetch failed
    info: SiteInfo | None  # None when the fetch failed or the answer is unusable for SiteInfo


#: WikiUnavailable reasons that are the caller's deadline or the process's limit, not the wiki's fault.
_CALLERS_TIME = frozenset({"deadline", "busy"})
_NOTHING = _Entry(0.0, None, None)


class SiteInfoCache:
    """Each wiki's siteinfo, fetched once and kept for ``ttl_seconds``. The evidence service owns
    one (so there is one per process) and shares it between the link parser and the resolver.

    Two readers, two failure rules:

    - ``get(wiki)`` (the link parser) gives the parsed ``SiteInfo`` or None, and never raises.
      A failed fetch (exception or unusable response) is remembered as None for
      ``failure_ttl_seconds`` so a down wiki is not hammered; callers then fall back to the
      English canonical names, which every wiki accepts.
    - ``answer(api_url, client)`` (the resolver, which reads more than ``SiteInfo`` keeps) gives
      the raw answer. It does not settle for a remembered failure: it asks again through the
      caller's client (so the caller's deadline applies) and lets the client's error
      (``WikiUnavailable``, ``WikiApiError``) propagate, so the links wait for a retry instead of
      being analysed without the wiki's names.

    A failure seen by either reader is remembered for both: the parser does not make a reporter
    wait for a wiki the resolver just found down. Entries are keyed by API URL. Thread-safe: at
    most one fetch per wiki runs at a time, and threads asking for the same wiki meanwhile wait
    for its answer.
    """

    def __init__(
        self,
        fetch: Callable[[Wiki], dict],
        ttl_seconds: float = 86400,
        *,
        failure_ttl_seconds: float = 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``fetch`` is how ``get`` asks a wiki (e.g. ``fetch_siteinfo`` with the service's client)."""
        self._fetch = fetch
        self._ttl = ttl_seconds
        self._failure_ttl = failure_ttl_seconds
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self._wiki_locks: dict[str, threading.Lock] = {}

    def get(self, wiki: Wiki, client: WikiClient | None = None) -> SiteInfo | None:
        """The wiki's SiteInfo, fetched when not cached (through ``client`` when given, e.g. a
        web request's bounded view; else the cache's own fetch). Never raises."""
        if client is None:
            return self._entry(wiki.api_url, lambda: self._fetch(wiki), retry_failure=False).info
        return self._entry(wiki.api_url, lambda: fetch_siteinfo(client, wiki.api_url), retry_failure=False,
                           wait=client.remaining()).info

    def __call__(self, wiki: Wiki) -> SiteInfo | None:
        return self.get(wiki)

    def peek(self, wiki: Wiki) -> SiteInfo | None:
        """What is cached for the wiki now, without asking it (None: nothing usable yet)."""
        with self._lock:
            entry = self._entries.get(wiki.api_url)
        return entry.info if entry is not None and entry.expires > self._clock() else None

    def cached(self, wiki: Wiki) -> bool:
        """Whether an answer for the wiki, or a recent failure, is remembered."""
        with self._lock:
            entry = self._entries.get(wiki.api_url)
        return entry is not None and entry.expires > self._clock()

    def answer(self, api_url: str, client: WikiClient) -> dict:
        """The raw answer for ``api_url``, fetched through ``client`` when not cached."""
        entry = self._entry(api_url, lambda: fetch_siteinfo(client, api_url), retry_failure=True,
                            wait=client.remaining())
        if entry.answer is None:  # not reached: with retry_failure, _entry raises the failure
            raise RuntimeError(f"no siteinfo for {api_url}")
        return entry.answer

    def _entry(self, key: str, fetch: Callable[[], dict], *, retry_failure: bool,
               wait: float | None = None) -> _Entry:
        """The current entry for ``key``, fetching under the wiki's lock when there is none (or
        when it records a failure and ``retry_failure``, in which case the failure is raised).

        ``wait``: how long a caller with a deadline may wait for another thread's fetch of the
        same wiki (None: as long as it takes). A caller that runs out of time, waiting or
        fetching, leaves no failure behind: the wiki did nothing wrong."""

        def usable(entry: _Entry) -> bool:
            return entry.expires > self._clock() and (entry.answer is not None or not retry_failure)

        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and usable(entry):
                return entry
            wiki_lock = self._wiki_locks.setdefault(key, threading.Lock())
        if not wiki_lock.acquire(timeout=-1 if wait is None else max(0.0, wait)):
            if retry_failure:
                raise WikiUnavailable(key, "busy")
            return _NOTHING
        try:
            with self._lock:
                entry = self._entries.get(key)
            if entry is not None and usable(entry):
                return entry  # another thread fetched it while this one waited
            try:
                answer = fetch()
            except Exception as error:  # any fetch failure means "no siteinfo for now"
                ours = isinstance(error, WikiUnavailable) and error.reason in _CALLERS_TIME
                failed = _NOTHING if ours else self._store(key, _Entry(self._clock() + self._failure_ttl, None, None))
                if retry_failure:
                    raise
                return failed
            try:
                info: SiteInfo | None = SiteInfo.from_api(answer)
            except Exception:  # noqa: BLE001 - an unusable answer means "no SiteInfo for now"
                info = None
            ttl = self._ttl if info is not None else self._failure_ttl
            return self._store(key, _Entry(self._clock() + ttl, answer, info))
        finally:
            wiki_lock.release()

    def _store(self, key: str, entry: _Entry) -> _Entry:
        with self._lock:
            self._entries[key] = entry
        return entry
