"""Evidence for the app: one registry, one wiki client, one siteinfo cache.

Views, ``Services.submit`` and the worker all go through :class:`Evidence`,
so the SSRF rules (only registry wikis, API URLs built by us) and the
request budget hold everywhere. The registry comes from the database (the
sitematrix stored by ``flask --app app reporting refresh-wikis``), falls back
to the built-in Wikimedia domain rule on a fresh install, and always
includes the wikis an operator registered in ``wikis.extra``.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from reporting.config import (
    Setting,
    parse_mapping,
    parse_positive_float,
    parse_positive_int,
    parse_str,
    register_settings,
)
from reporting.evidence.links import parse_evidence, parse_link
from reporting.evidence.resolve import resolve_links
from reporting.evidence.titles import SiteInfoLookup
from reporting.evidence.types import EvidenceLink, ResolvedLink
from reporting.wiki.client import WikiClient
from reporting.wiki.names import Suggestion, names_of
from reporting.wiki.registry import Wiki, WikiRegistry
from reporting.wiki.siteinfo import SiteInfo, SiteInfoCache, fetch_siteinfo

log = logging.getLogger(__name__)

register_settings(
    Setting("wikis.extra", parse_mapping, {},
            "Extra wikis evidence may come from, host → API URL (e.g. a test wiki); "
            "a mapping in config.yaml or a JSON object in the envvar. Operators only."),
    Setting("wikis.sitematrix_api_url", parse_str, "https://meta.wikimedia.org/w/api.php",
            "API that answers `action=sitematrix` for `refresh-wikis`."),
    Setting("wikis.timeout_seconds", parse_positive_float, 8.0,
            "Timeout of one request to a wiki (link checks on the form, the worker's retries)."),
    Setting("wikis.submit_timeout_seconds", parse_positive_float, 4.0,
            "Timeout of the one try per wiki made while a report is submitted; the worker retries later."),
    Setting("wikis.max_concurrent_requests", parse_positive_int, 4,
            "Requests to wikis one process (web or worker) has in flight at most; a link check that "
            "finds none free before its deadline leaves its links \"not checked yet\", the worker waits."),
)

REGISTRY_RELOAD_SECONDS = 3600.0


class Evidence:
    """Parse and resolve evidence links against known wikis only."""

    def __init__(self, client: WikiClient, extra_wikis: dict[str, str],
                 load_sitematrix: Callable[[], str | None] = lambda: None) -> None:
        self.client = client
        self._extra = {str(host): str(url) for host, url in extra_wikis.items()}
        self._load_sitematrix = load_sitematrix
        self._registry: WikiRegistry | None = None
        self._loaded_at = 0.0
        self._lock = threading.Lock()
        # The one siteinfo cache: the parser's aliases and the resolver's
        # namespace names. A cache per service, not per module, so each app
        # (and each test) starts empty.
        self.siteinfo = SiteInfoCache(lambda wiki: fetch_siteinfo(self.client, wiki.api_url))

    @property
    def registry(self) -> WikiRegistry:
        """The current registry; re-read from the database hourly so every
        replica picks up a refreshed sitematrix."""
        if self._registry is None or time.monotonic() - self._loaded_at > REGISTRY_RELOAD_SECONDS:
            with self._lock:
                self._registry = self._build_registry()
                self._loaded_at = time.monotonic()
        return self._registry

    def forget_registry(self) -> None:
        """Re-read the registry on next use (after a refresh)."""
        self._registry = None

    def _build_registry(self) -> WikiRegistry:
        registry = WikiRegistry.builtin()
        try:
            stored = self._load_sitematrix()
            if stored:
                registry = WikiRegistry.from_json(stored)
        except Exception as error:  # noqa: BLE001 - a broken row must not take the form down
            log.error("stored wiki registry unusable (%s); using the built-in rule", type(error).__name__)
        return registry.with_extra(self._extra)

    def normalize_wiki(self, raw: str) -> str | None:
        """The registry's host for what a reporter typed in the wiki field, or None.

        Accepts a bare host or a pasted URL of the wiki (people paste what their address bar
        shows), a database name (``enwiki``), an interwiki prefix (``commons``) and the wiki's
        name in many languages ("English Wikipedia"): :mod:`reporting.wiki.names`.
        """
        wiki, error = names_of(self.registry).find(raw)
        return wiki.host if wiki is not None and error is None else None

    def wiki_problem(self, raw: str) -> str | None:
        """Why ``raw`` names no wiki (``unknown-wiki``, ``ambiguous-wiki``, ``private-wiki``, ...), or None."""
        wiki, error = names_of(self.registry).find(raw)
        return error if wiki is None or error is not None else None

    def wiki_suggestions(self, lang: str) -> list[Suggestion]:
        """The short list the form's Wiki field offers (a ``<datalist>``)."""
        return names_of(self.registry).suggestions(lang)

    def site_of(self, raw: str) -> tuple[str, str] | None:
        """(host, script path) of the wiki a reporter or the gadget named, for building links to
        it (``/w`` on Wikimedia wikis); None when the registry does not know the wiki."""
        host = self.normalize_wiki(raw)
        wiki = self.registry.lookup(host) if host else None
        return (wiki.host, wiki.script_path) if wiki is not None else None

    def is_known_api(self, api_url: str) -> bool:
        """Whether ``api_url`` is exactly the API the registry has for its host (publishing the
        gadget talks to no other)."""
        try:
            host = urlsplit(api_url).hostname
        except ValueError:
            return False
        return bool(host) and self.api_url_for(str(host)) == api_url

    def api_url_for(self, host: str) -> str | None:
        wiki = self.registry.lookup(host)
        return wiki.api_url if wiki is not None else None

    def parse(self, text: str, context_wiki: str | None, client: WikiClient | None = None, *,
              cached_only: bool = False) -> list[EvidenceLink]:
        """The links in ``text``. Localised names missing from the siteinfo cache are fetched
        through ``client`` (default: the service's own), or not at all with ``cached_only``."""
        return parse_evidence(text, context_wiki, self.registry, self._siteinfo_lookup(client, cached_only))

    def parse_offline(self, text: str, context_wiki: str | None) -> tuple[list[EvidenceLink], dict[str, Wiki]]:
        """The links in ``text`` as far as the cached siteinfo reads them (no request at all),
        and the wikis (host -> Wiki) whose siteinfo the parser wanted and the cache lacks."""
        wanted: dict[str, Wiki] = {}

        def lookup(wiki: Wiki) -> SiteInfo | None:
            if not self.siteinfo.cached(wiki):
                wanted[wiki.host] = wiki
            return self.siteinfo.peek(wiki)

        return parse_evidence(text, context_wiki, self.registry, lookup), wanted

    def _siteinfo_lookup(self, client: WikiClient | None, cached_only: bool) -> SiteInfoLookup:
        if cached_only:
            return self.siteinfo.peek
        if client is None:
            return self.siteinfo
        return lambda wiki: self.siteinfo.get(wiki, client)

    def resolve(self, links: list[EvidenceLink], client: WikiClient | None = None) -> list[ResolvedLink]:
        """Resolve parsed links; never raises for wiki trouble (links stay
        ``unresolved`` with a reason and are retried later). ``client``
        replaces the default one for every request, siteinfo included, e.g. a
        web request's view with a deadline (``WikiClient.within``)."""
        registry = self.registry
        lookup = self._siteinfo_lookup(client, cached_only=False)
        client = client or self.client
        return resolve_links(
            links, client, self.api_url_for,
            reparse=lambda url: parse_link(url, None, registry, lookup),
            siteinfo_for=lambda api_url: self.siteinfo.answer(api_url, client),
        )

    def fetch_sitematrix(self, api_url: str) -> WikiRegistry:
        """Download the sitematrix; raises if it is unusable (the old one stays)."""
        data = self.client.get(api_url, {"action": "sitematrix", "smlimit": "5000"})
        return WikiRegistry.from_sitematrix(data)
