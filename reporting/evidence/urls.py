"""Reading the text of a pasted URL: scheme, host, path, query, fragment, and the wiki's paths.

Pure string work, no registry and no network: which host is acceptable is decided by
:class:`reporting.wiki.registry.WikiRegistry`, what the parameters mean by
:mod:`reporting.evidence.index_php`.  URLs are read the way a browser and MediaWiki read them:
tabs and newlines inside a URL are dropped, ``\\`` counts as ``/`` in http(s) URLs, and the title
is taken from the path the way MediaWiki's ``PathRouter`` does (``/wiki/<t>``,
``<script>/<t>``, the wiki's variant paths).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from reporting.evidence.mwrequest import raw_url_decode
from reporting.evidence.titles import SiteInfoLookup
from reporting.wiki.registry import Wiki
from reporting.wiki.siteinfo import SiteInfo

__all__ = [
    "SHORT_URL_HOST",
    "URL_SCHEME",
    "UrlParts",
    "is_short_url_host",
    "looks_like_url",
    "short_url_code",
    "split_url",
    "title_from_path",
    "unwrap",
]

SHORT_URL_HOST = "w.wiki"

# UrlShortener's code alphabet.
_SHORT_CODE = re.compile(r"[0-9A-Za-z$\-_.!~]{1,64}\Z")
# Bounded so that searching long prose stays linear.
URL_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]{0,31})://")
_MAX_AUTHORITY_LENGTH = 300
_HOSTISH_AUTHORITY = re.compile(
    r"(?:[^\s/?#\\@\[\]]*@)?(?:\[[^\s/?#\\\]]*\]|[^\s/?#\\:@\[\]]*\.[^\s/?#\\:@\[\]]*)(?::\d*)?\Z"
)


@dataclass(frozen=True)
class UrlParts:
    """A URL split like a browser splits it; nothing is decoded yet."""

    authority: str  # host, maybe with user-info or port: the registry decides
    path: str
    query: str
    fragment: str | None  # None when the URL has no fragment or an empty one


def unwrap(text: str) -> str:
    """Drop the angle brackets or quotes people put around a pasted link."""
    pairs = {"<": ">", '"': '"', "'": "'", "“": "”", "«": "»", "(": ")"}
    while len(text) >= 2 and text[0] in pairs and text[-1] == pairs[text[0]]:
        text = text[1:-1].strip()
    return text


def looks_like_url(text: str) -> bool:
    """A scheme, ``//``, or something that starts with a host name (``en.wikipedia.org/...``)."""
    if URL_SCHEME.match(text) or text.startswith("//"):
        return True
    authority = re.split(r"[/?#\\]", text, maxsplit=1)[0]
    if not authority or len(authority) > _MAX_AUTHORITY_LENGTH:
        return False
    return bool(_HOSTISH_AUTHORITY.match(authority))


def split_url(text: str) -> UrlParts | str:
    """The parts of a URL, or an error code: ``unsupported`` (not http or https) or
    ``not-a-link`` (no host)."""
    # Browsers drop tabs and newlines inside URLs and read "\" as "/" in http(s) URLs.
    text = re.sub(r"[\t\n\r]", "", text)
    scheme_match = URL_SCHEME.match(text)
    if scheme_match:
        if scheme_match.group(1).lower() not in ("http", "https"):
            return "unsupported"
        rest = text[scheme_match.end():]
    elif text.startswith("//"):
        rest = text[2:]
    else:
        rest = text
    rest = rest.replace("\\", "/").lstrip("/")
    authority_end = len(rest)
    for stop in "/?#":
        index = rest.find(stop)
        if index != -1:
            authority_end = min(authority_end, index)
    authority, remainder = rest[:authority_end], rest[authority_end:]
    if not authority:
        return "not-a-link"
    before_fragment, hash_sign, fragment = remainder.partition("#")
    path, _, query = before_fragment.partition("?")
    return UrlParts(authority, path, query, fragment if hash_sign and fragment else None)


def is_short_url_host(authority: str) -> bool:
    host = authority.lower()
    return host.removesuffix(".") == SHORT_URL_HOST


def short_url_code(path: str) -> str | None:
    """The w.wiki code in a short URL's path, or None when it is not one."""
    code = raw_url_decode(path.lstrip("/"))
    return code if _SHORT_CODE.match(code) else None


def title_from_path(wiki: Wiki, path: str, siteinfo_for: SiteInfoLookup) -> tuple[bool, str | None]:
    """PathRouter: whether ``path`` is one of the wiki's page paths, and the title in it
    (``/wiki/<t>``, ``<script>/<t>`` or a variant path).

    Wikimedia's layout is tried first; the wiki's siteinfo only when that does not match.
    """
    script_path = wiki.script_path
    layouts: list[tuple[str, str, str | None, tuple[str, ...]]] = [
        ("/wiki/$1", script_path + "/index.php", None, ())
    ]
    info: SiteInfo | None = None
    for attempt in range(2):
        for layout in layouts:
            for candidate in (path, _normalized_path(path)):
                result = _match_path(candidate, script_path, *layout)
                if result[0]:
                    return result
        if attempt == 0:
            info = siteinfo_for(wiki)
            if info is None:
                break
            layouts = [
                (info.article_path, info.script, info.variant_article_path, info.variants)
            ]
    return False, None


def _normalized_path(path: str) -> str:
    """PathRouter's second try: dot segments removed, repeated slashes collapsed."""
    collapsed = re.sub("/+", "/", path)
    normalized = posixpath.normpath(collapsed) if collapsed else collapsed
    if collapsed.endswith("/") and not normalized.endswith("/"):
        normalized += "/"
    return normalized if normalized.startswith("/") else "/" + normalized


def _match_path(
    path: str,
    script_path: str,
    article_path: str,
    script: str,
    variant_path: str | None,
    variants: tuple[str, ...],
) -> tuple[bool, str | None]:
    if path in ("", "/", script, script_path, script_path + "/"):
        return True, None
    if path.startswith(script + "/"):
        rest = path[len(script) + 1:]
        return True, (raw_url_decode(rest) or None)
    if article_path.endswith("$1"):
        base = article_path[:-2]
        if path == base or path == base.rstrip("/"):
            return True, None
        if path.startswith(base):
            return True, (raw_url_decode(path[len(base):]) or None)
    if variant_path and variant_path.endswith("$1") and variants:
        pattern = re.escape(variant_path[:-2]).replace(re.escape("$2"), "([^/]+)")
        match = re.match(pattern, path)
        if match and match.group(1) in variants and match.end() < len(path):
            return True, raw_url_decode(path[match.end():])
    return False, None
