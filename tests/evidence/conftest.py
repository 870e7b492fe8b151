"""Session-wide local MediaWikis (English and German) for evidence tests.

Other test packages can reuse them with `pytest_plugins = ["tests.evidence.conftest"]`
or call `tests.evidence.mediawiki.start_mediawiki` themselves.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.evidence.mediawiki import MediaWiki, start_mediawiki


@pytest.fixture(scope="session")
def mediawiki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MediaWiki]:
    """An English wiki with users Admin (sysop, suppress), Alice, Mallory and Carol."""
    wiki = start_mediawiki(tmp_path_factory.mktemp("mediawiki-en") / "wiki", lang="en")
    yield wiki
    wiki.stop()


@pytest.fixture(scope="session")
def mediawiki_de(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MediaWiki]:
    """The same on a wiki with $wgLanguageCode = 'de' (localised namespace names and aliases)."""
    wiki = start_mediawiki(tmp_path_factory.mktemp("mediawiki-de") / "wiki", lang="de")
    yield wiki
    wiki.stop()
