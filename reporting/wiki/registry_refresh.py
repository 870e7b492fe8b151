"""Keeping the stored list of Wikimedia wikis (the sitematrix) fresh for every replica."""
from __future__ import annotations

import logging
from collections.abc import Callable

from reporting.storage.wiki_registry import WikiRegistryStore
from reporting.wiki.registry import WikiRegistry

log = logging.getLogger(__name__)

DAY_SECONDS = 86400.0


class RegistryRefresh:
    """``fetch()`` downloads the sitematrix (raising when it is unusable);
    ``forget()`` makes this process re-read the stored list on next use."""

    def __init__(self, store: WikiRegistryStore, fetch: Callable[[], WikiRegistry],
                 forget: Callable[[], None]) -> None:
        self.store = store
        self.fetch = fetch
        self.forget = forget

    def refresh(self) -> int:
        """Fetch the sitematrix and store it for every replica; return the number of wikis.

        Raises when the download fails or is unusable: the stored list stays.
        """
        registry = self.fetch()
        self.store.save(registry.to_json())
        self.forget()
        return len(registry.wikis())

    def refresh_if_stale(self, max_age_seconds: float = DAY_SECONDS) -> None:
        """The worker's daily refresh; failures are logged, never raised."""
        age = self.store.age_seconds()
        if age is not None and age < max_age_seconds:
            return
        try:
            log.info("refreshed the wiki registry: %d wikis", self.refresh())
        except Exception:
            log.warning("wiki registry refresh failed; keeping the stored list", exc_info=True)
