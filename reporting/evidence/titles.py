"""Splitting a page title the way MediaWiki's title codec does: namespace, interwiki, fragment.

Why: ``Spezial:Unterschied/5`` on the German Wikipedia, ``[[:de:Spezial:Diff/5]]`` written on the
English one and ``/wiki/Special:Diff/5`` are the same evidence.  MediaWiki decides this in
``MediaWikiTitleCodec::splitTitleString``: whitespace and underscores are one thing, a leading
colon is dropped, a prefix is first tried as a namespace name (any case) and only then as an
interwiki prefix, and the part after ``#`` is the fragment.  Special page names are then matched
through ``SpecialPageFactory::resolveAlias`` (case-insensitive).

English canonical names work on every wiki without siteinfo; anything else asks the wiki's
siteinfo (``siteinfo_for``), and only when it is actually needed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from reporting.wiki.registry import Wiki, WikiRegistry
from reporting.wiki.siteinfo import SiteInfo, fold_special_name

__all__ = [
    "NS_FILE",
    "NS_SPECIAL",
    "ParsedTitle",
    "SiteInfoLookup",
    "normalize_text",
    "resolve_special_page",
    "split_title",
]

NS_MEDIA = -2
NS_SPECIAL = -1
NS_FILE = 6

SiteInfoLookup = Callable[[Wiki], "SiteInfo | None"]

# NamespaceInfo's canonical names (lower case, underscores) plus the 'Image' aliases.
_CANONICAL_NAMESPACES: dict[str, int] = {
    "media": -2,
    "special": -1,
    "talk": 1,
    "user": 2,
    "user_talk": 3,
    "project": 4,
    "project_talk": 5,
    "file": 6,
    "file_talk": 7,
    "image": 6,
    "image_talk": 7,
    "mediawiki": 8,
    "mediawiki_talk": 9,
    "template": 10,
    "template_talk": 11,
    "help": 12,
    "help_talk": 13,
    "category": 14,
    "category_talk": 15,
}

# English names and aliases (MessagesEn.php, plus the extensions Wikimedia runs) of the special
# pages that carry evidence.  Every wiki's alias list falls back to English, so these always work.
_ENGLISH_SPECIAL_PAGES: dict[str, str] = {
    fold_special_name(alias): canonical
    for canonical, aliases in {
        "Diff": ["Diff"],
        "PermanentLink": ["PermanentLink", "PermaLink"],
        "Redirect": ["Redirect"],
        "ComparePages": ["ComparePages"],
        "MobileDiff": ["MobileDiff"],
        "Log": ["Log", "Logs"],
        "Contributions": ["Contributions", "Contribs"],
        "GoToComment": ["GoToComment"],
        "PageHistory": ["PageHistory", "History"],
        "EditPage": ["EditPage", "Edit"],
        "PageInfo": ["PageInfo", "Info"],
        # Pages that serve or list files: read only to be refused (special_pages).
        "FilePath": ["FilePath"],
        "NewFiles": ["NewFiles", "NewImages"],
        "ListFiles": ["ListFiles", "FileList", "ImageList"],
        "MIMESearch": ["MIMESearch"],
        "FileDuplicateSearch": ["FileDuplicateSearch"],
        "UploadStash": ["UploadStash"],
        "ListDuplicatedFiles": ["ListDuplicatedFiles"],
        "UnusedFiles": ["UnusedFiles", "UnusedImages"],
        "UncategorizedFiles": ["UncategorizedFiles", "UncategorizedImages"],
        "MostLinkedFiles": ["MostLinkedFiles", "MostFiles", "MostImages"],
        "MediaSearch": ["MediaSearch"],
    }.items()
    for alias in aliases
}

# MediaWikiTitleCodec: these characters all count as a space; bidi marks are dropped.
_WHITESPACE = re.compile(
    "[ _\u00a0\u1680\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+"
)
_BIDI_MARKS = re.compile("[\u200e\u200f\u202a-\u202e]")
_PREFIX = re.compile(r"(.+?)_*:_*(.*)\Z", re.DOTALL)
_MAX_INTERWIKI_HOPS = 4


def normalize_text(text: str) -> str:
    """Title text as MediaWiki displays it: bidi marks gone, whitespace runs as one space."""
    return _WHITESPACE.sub(" ", _BIDI_MARKS.sub("", text)).strip(" ")


@dataclass(frozen=True)
class ParsedTitle:
    """A title on a wiki: ``namespace`` is an id when known (None: main or unrecognised),
    ``text`` the full display title, ``dbkey`` the part after the namespace prefix in MediaWiki's
    database form (underscores), which is what special pages receive as their subpage."""

    wiki: Wiki
    namespace: int | None
    text: str
    dbkey: str
    fragment: str | None


class _SiteInfoMemo:
    """Calls ``siteinfo_for`` at most once per wiki during one parse."""

    def __init__(self, siteinfo_for: SiteInfoLookup) -> None:
        self._siteinfo_for = siteinfo_for
        self._seen: dict[str, SiteInfo | None] = {}

    def __call__(self, wiki: Wiki) -> SiteInfo | None:
        if wiki.host not in self._seen:
            try:
                self._seen[wiki.host] = self._siteinfo_for(wiki)
            except Exception:  # noqa: BLE001 - a broken lookup means "no siteinfo"
                self._seen[wiki.host] = None
        return self._seen[wiki.host]


def memoize_siteinfo(siteinfo_for: SiteInfoLookup) -> SiteInfoLookup:
    return siteinfo_for if isinstance(siteinfo_for, _SiteInfoMemo) else _SiteInfoMemo(siteinfo_for)


def _namespace_of(prefix: str, wiki: Wiki, siteinfo_for: SiteInfoLookup) -> int | None:
    key = prefix.lower()
    if key in _CANONICAL_NAMESPACES:
        return _CANONICAL_NAMESPACES[key]
    info = siteinfo_for(wiki)
    return info.namespace_id(prefix) if info is not None else None


def split_title(
    raw: str,
    wiki: Wiki,
    registry: WikiRegistry,
    siteinfo_for: SiteInfoLookup,
) -> ParsedTitle | str:
    """Split ``raw`` (already percent-decoded) as a title of ``wiki``.

    Interwiki prefixes are followed to the target wiki (Wikimedia's interwikis are all local, so
    MediaWiki redirects to them).  Returns a ParsedTitle, or an error code: ``unknown-wiki`` when an
    interwiki prefix leads to a wiki the registry does not know, ``private-wiki`` for a private one.
    """
    current = wiki
    dbkey = _WHITESPACE.sub("_", _BIDI_MARKS.sub("", raw)).strip("_")
    if dbkey.startswith(":"):
        dbkey = dbkey[1:].strip("_")
    for _ in range(_MAX_INTERWIKI_HOPS):
        match = _PREFIX.match(dbkey)
        if not match:
            return _finish(current, None, None, dbkey)
        prefix, rest = match.group(1), match.group(2)
        namespace = _namespace_of(prefix, current, siteinfo_for)
        if namespace is not None:
            return _finish(current, namespace, prefix, rest)
        is_interwiki, target = registry.interwiki(prefix, current)
        if not is_interwiki:
            return _finish(current, None, None, dbkey)
        if target is None:
            return "unknown-wiki"
        if target.private:
            return "private-wiki"
        if (
            target == current
            and len(prefix) > 3
            and siteinfo_for(current) is None
        ):
            # Without siteinfo the namespace check above was blind; a project's own name
            # ("Wikipedia:" on a Wikipedia, "Commons:" on Commons) is its project namespace.
            return _finish(current, None, None, dbkey)
        current = target
        dbkey = rest.strip("_")
        if dbkey.startswith(":"):
            dbkey = dbkey[1:].strip("_")
    return "unsupported"


def _finish(wiki: Wiki, namespace: int | None, prefix: str | None, local: str) -> ParsedTitle:
    fragment: str | None = None
    if "#" in local:
        local, _, fragment = local.partition("#")
        fragment = fragment.replace("_", " ")
    local = local.strip("_")
    local_text = normalize_text(local)
    if namespace == NS_MEDIA:
        namespace, prefix = NS_FILE, "File"
    text = f"{normalize_text(prefix)}:{local_text}" if prefix is not None else local_text
    return ParsedTitle(wiki=wiki, namespace=namespace, text=text, dbkey=local, fragment=fragment)


def resolve_special_page(
    dbkey: str, wiki: Wiki, siteinfo_for: SiteInfoLookup
) -> tuple[str | None, str | None, bool]:
    """``SpecialPageFactory::resolveAlias``: (canonical name, subpage, siteinfo_missing).

    ``dbkey`` is the title after ``Special:`` in database form; the subpage keeps it (underscores
    for spaces), exactly as MediaWiki passes it to the special page.  ``siteinfo_missing`` is True when the
    name is not English and the wiki's aliases could not be read, so the caller can say "try again later" rather
    than "unsupported".
    """
    name, slash, sub = dbkey.partition("/")
    subpage = sub if slash else None
    canonical = _ENGLISH_SPECIAL_PAGES.get(fold_special_name(name))
    if canonical is not None:
        return canonical, subpage, False
    info = siteinfo_for(wiki)
    if info is None:
        return None, subpage, True
    return info.special_page_name(name), subpage, False
