"""One gadget wiki for the whole session (installing MediaWiki takes a while)."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.evidence.mediawiki import MediaWiki
from tests.gadget.wiki import start_gadget_wiki


@pytest.fixture(scope="session")
def gadget_wiki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MediaWiki]:
    wiki = start_gadget_wiki(tmp_path_factory.mktemp("gadget-wiki") / "wiki")
    yield wiki
    wiki.stop()
