"""What MediaWiki's ``index.php`` shows for a title and request parameters, as a link fact.

``MediaWiki::parseTitle``, ``Action::getActionName``, ``Article::showDiffPage`` and
``DifferenceEngine::mapDiffPrevNext`` decide whether ``?title=T&diff=prev&oldid=5`` shows an
edit, a revision, a page or nothing useful; :class:`IndexPhp` follows them (1.39).  Titles in
the Special namespace go to their special page (:mod:`reporting.evidence.special_pages`), which
may redirect back here with other parameters.
"""

from __future__ import annotations

import re

from reporting.evidence.mwrequest import MAX_ID, Params, php_intval
from reporting.evidence.special_pages import SPECIAL_PAGES
from reporting.evidence.titles import NS_FILE, NS_SPECIAL, ParsedTitle, SiteInfoLookup, resolve_special_page
from reporting.evidence.types import EvidenceLink
from reporting.wiki.registry import Wiki

__all__ = ["IndexPhp", "has_revision_id"]

# DiscussionTools comment ids: c-<author>-<timestamp>[-<parent>] (new and legacy timestamps).
_COMMENT_ID = re.compile(
    r"c-.+?-(?:\d{14}|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{3})?Z)(?:-.*)?\Z", re.DOTALL
)

# Actions (Action::getActionName) that show a page, its history or metadata.
_PAGE_ACTIONS = frozenset(
    {"history", "info", "edit", "submit", "raw", "protect", "unprotect", "delete", "watch",
     "unwatch", "purge", "credits", "markpatrolled", "rollback", "revert", "mcrundo",
     "mcrrestore", "revisiondelete", "editchangetags"}
)
_REVISION_ACTIONS = frozenset({"edit", "submit", "raw"})


class IndexPhp:
    """Reads requests on any wiki; ``siteinfo_for`` gives the localised special page names."""

    def __init__(self, siteinfo_for: SiteInfoLookup) -> None:
        self.siteinfo = siteinfo_for

    def interpret(
        self, wiki: Wiki, title: ParsedTitle | None, params: Params, fragment: str | None
    ) -> EvidenceLink:
        """The link fact for ``index.php`` on ``wiki`` with ``title`` (None: no title) and
        ``params``; ``fragment`` is the URL's, decoded."""
        fragment = fragment or (title.fragment if title else None)
        if title is not None and title.namespace == NS_FILE:
            # Any view of a file page shows the file (Media: titles are File: ones by now).
            return {"error": "media-link"}
        curid = params.get_int("curid")
        if curid == 0 and title is not None and title.namespace == NS_SPECIAL:
            return _with_fragment(self._special(wiki, title, params), fragment)
        if curid < 0 or curid > MAX_ID:
            return {"error": "bad-id"}
        page_ref: EvidenceLink = (
            {"pageid": curid} if curid else ({"title": title.text} if title and title.text else {})
        )
        action = _action_name(params)
        result: EvidenceLink
        if action in ("view", "render"):
            result = _view(wiki, title, params, page_ref, fragment)
        elif action in _REVISION_ACTIONS and (params.get_int_or_null("oldid") or 0) > 0:
            result = self.revision(wiki, params.get_int_or_null("oldid") or 0, None)
        elif action in _PAGE_ACTIONS and page_ref and not has_revision_id(params):
            result = {"wiki": wiki.host, "kind": "page", **page_ref}
        else:
            result = {"error": "unsupported"}
        return _with_fragment(result, fragment)

    def revision(self, wiki: Wiki, revid: int, direction: str | None) -> EvidenceLink:
        """A permanent link to ``revid`` (``direction``: first step to the previous/next one)."""
        return _revision(wiki, revid, direction)

    def _special(self, wiki: Wiki, title: ParsedTitle, params: Params) -> EvidenceLink:
        name, subpage, siteinfo_missing = resolve_special_page(title.dbkey, wiki, self.siteinfo)
        if name is None:
            return {"error": "siteinfo-unavailable" if siteinfo_missing else "unsupported"}
        reader = SPECIAL_PAGES.get(name)
        if reader is None:
            return {"error": "unsupported"}
        return reader(self, wiki, subpage, params)


def has_revision_id(params: Params) -> bool:
    """MediaWiki::parseTitle lets oldid (or else diff) replace the title of a non-special page."""
    return bool(params.get_int("oldid") or params.get_int("diff"))


def _action_name(params: Params) -> str:
    """Action::getActionName for the actions that matter here."""
    action = params.get_val("action")
    if not action:
        return "view"
    if action == "historysubmit":
        if params.get_val("revisiondelete"):
            return "revisiondelete"
        if params.get_val("editchangetags"):
            return "editchangetags"
        return "view"
    if action == "editredlink":
        return "edit"
    return action


def _view(
    wiki: Wiki,
    title: ParsedTitle | None,
    params: Params,
    page_ref: EvidenceLink,
    fragment: str | None,
) -> EvidenceLink:
    oldid = params.get_int_or_null("oldid") or 0
    raw_direction = params.get_val("direction")
    direction = raw_direction if raw_direction in ("prev", "next") else None
    if params.get_check("diff"):
        return _diff(wiki, oldid, params.get_val("diff") or "", direction, title, page_ref)
    if oldid:
        return _revision(wiki, oldid, direction)
    if params.get_int("oldid") or params.get_int("diff"):
        # e.g. oldid=12abc: MediaWiki shows the current version of revision 12's page.
        return {"error": "unsupported"}
    if not page_ref:
        return {"error": "unsupported"}
    if "title" in page_ref and fragment and _COMMENT_ID.match(fragment):
        return {
            "wiki": wiki.host,
            "kind": "comment",
            "comment_id": fragment,
            "title": page_ref["title"],
        }
    return {"wiki": wiki.host, "kind": "page", **page_ref}


def _diff(
    wiki: Wiki,
    oldid: int,
    diff: str,
    direction: str | None,
    title: ParsedTitle | None,
    page_ref: EvidenceLink,
) -> EvidenceLink:
    """Article::showDiffPage + DifferenceEngine::mapDiffPrevNext/loadRevisionData."""
    if oldid < 0 or oldid > MAX_ID:
        return {"error": "bad-revision-id"}
    old = oldid or None
    newid: int | str
    if diff in ("prev", "next"):
        if old is None:
            if not page_ref:
                return {"error": "unsupported"}
            if diff == "prev":
                # No revision to step back from: MediaWiki shows the page's latest revision.
                return {"wiki": wiki.host, "kind": "page", **page_ref}
            return {"wiki": wiki.host, "kind": "diff", "oldid": None, "newid": "cur", **page_ref}
        newid = diff
    else:
        number = php_intval(diff)
        if number < 0 or number > MAX_ID:
            return {"error": "bad-revision-id"}
        if number == 0:
            if old is None:
                if not page_ref:
                    return {"error": "unsupported"}
                return {
                    "wiki": wiki.host, "kind": "diff", "oldid": None, "newid": "cur", **page_ref
                }
            newid = "cur"
        else:
            newid = number
    result: EvidenceLink = {"wiki": wiki.host, "kind": "diff", "oldid": old, "newid": newid}
    if isinstance(newid, int) and old is not None and old > newid:
        result["reversed"] = True
    if direction and old is not None:
        result["direction"] = direction
    if title is not None and title.text:
        result["title"] = title.text
    return result


def _revision(wiki: Wiki, revid: int, direction: str | None) -> EvidenceLink:
    if revid <= 0 or revid > MAX_ID:
        return {"error": "bad-revision-id"}
    result: EvidenceLink = {"wiki": wiki.host, "kind": "revision", "revid": revid}
    if direction:
        result["direction"] = direction
    return result


def _with_fragment(result: EvidenceLink, fragment: str | None) -> EvidenceLink:
    """Keep the fragment, unless it already became the comment id."""
    if fragment and "error" not in result and result.get("comment_id") != fragment:
        result["fragment"] = fragment
    return result
