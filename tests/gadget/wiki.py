"""A local MediaWiki for the gadget: Debian's 1.39 with every bundled skin and the Gadgets extension.

The wiki calls itself ``gadget-wiki.test`` (``$wgCanonicalServer``, hence ``wgServerName``) while
the browser reaches it at 127.0.0.1:<port> — the way a Wikimedia wiki is ``de.wikipedia.org`` to
its pages. The tool registers that name with the wiki's API URL (``wikis.extra``), as an operator
registers a test wiki, so the links the gadget builds resolve against this wiki.

User scripts are allowed (``$wgAllowUserJs``) to try the global.js way of loading the gadget
(on a single wiki, User:<name>/common.js plays global.js's part). Used by tests/gadget and by
``bench/gadget.py``.
"""
from __future__ import annotations

from pathlib import Path

from tests.evidence.mediawiki import MediaWiki, start_mediawiki

WIKI_NAME = "gadget-wiki.test"
SKINS = ("vector-2022", "vector", "monobook", "timeless", "minerva")
SETTINGS = f"""
wfLoadSkin( 'MonoBook' );
wfLoadSkin( 'Timeless' );
wfLoadSkin( 'MinervaNeue' );
wfLoadExtension( 'Gadgets' );
$wgCanonicalServer = 'http://{WIKI_NAME}';
$wgAllowUserJs = true;
"""


def start_gadget_wiki(root: Path) -> MediaWiki:
    """Install and start the wiki under ``root`` (which must not exist); stop it with ``.stop()``."""
    return start_mediawiki(root, lang="en", extra_settings=SETTINGS)


def password_file(wiki: MediaWiki, user: str, directory: Path) -> Path:
    """A mode-600 file with ``user``'s bot password, as the publish command wants it."""
    path = directory / f"{user}.password"
    path.write_text(wiki.bot_passwords[user] + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path
