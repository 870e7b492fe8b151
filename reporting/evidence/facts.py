"""Turning what the API answered (revisions, log entries, comment ids) into a link's facts.

No I/O: :mod:`reporting.evidence.wiki_batch` fetches, this module writes the facts onto the
links (:class:`reporting.evidence.types.ResolvedLink`). Privacy contract: what the API marks
hidden (user, comment, text of revision-deleted or suppressed edits) is flagged and carries no
value, and no text analysis is done on a side whose text is hidden.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, cast

from reporting.evidence.types import Analysis, LogFacts, ResolvedLink, RevisionFacts
from reporting.evidence.wikitext import analyze_change

__all__ = [
    "CALLERS_TIME",
    "FACT_KEYS",
    "REASON_API_ERROR",
    "REASON_COMMENTS_UNSUPPORTED",
    "REASON_INTERNAL",
    "REASON_LOG_TOO_OLD",
    "REASON_NOT_CHECKED",
    "REASON_SHORT_LINK_TARGET",
    "REASON_SHORT_LINK_UNSUPPORTED",
    "REASON_UNAVAILABLE",
    "REASON_UNKNOWN_WIKI",
    "ApiRevision",
    "NamespaceNames",
    "FILE_NAMESPACES",
    "comment_id_parts",
    "describe_change",
    "is_file_page",
    "log_facts",
    "mark_media",
    "mark_unresolved",
    "revision_facts",
]

#: A revision as the API gives it (formatversion=2), plus "_page": its page's info.
ApiRevision = dict[str, Any]
#: A wiki's namespace names -> numbers, and its names of Special:Contributions.
NamespaceNames = tuple[Mapping[str, int], tuple[str, ...]]

# Reason codes (each maps to the message reporting-evidence-unresolved-<reason>).
REASON_UNAVAILABLE = "wiki-unavailable"
REASON_UNKNOWN_WIKI = "unknown-wiki"
REASON_API_ERROR = "api-error"
REASON_INTERNAL = "internal-error"
REASON_SHORT_LINK_TARGET = "short-link-target-rejected"
REASON_SHORT_LINK_UNSUPPORTED = "short-link-unsupported"
REASON_LOG_TOO_OLD = "log-entry-not-recent"
REASON_COMMENTS_UNSUPPORTED = "comments-unsupported"
#: Not the wiki's fault: a web request's time ran out (or the process had no free slot) first.
REASON_NOT_CHECKED = "not-checked"
#: WikiUnavailable reasons that mean REASON_NOT_CHECKED rather than REASON_UNAVAILABLE.
CALLERS_TIME = frozenset({"deadline", "busy"})

#: The facts a failed wiki's links lose again (partial answers are not kept).
FACT_KEYS = frozenset({
    "page_title", "page_id", "old_revid", "new_revid", "author", "author_hidden", "timestamp", "comment",
    "comment_hidden", "size_change", "tags", "deleted", "revision_deleted", "suppressed", "cross_page",
    "content_model", "analysis", "analysis_unavailable", "old_author", "old_timestamp",
})


#: Namespaces whose pages show a file (File, and Media, which MediaWiki serves as the file itself).
FILE_NAMESPACES = frozenset({6, -2})


def is_file_page(page: dict[str, Any] | None) -> bool:
    """Whether the API's page info is a file page (``?curid=`` or ``?diff=N`` can name one
    without its title ever appearing in the link)."""
    return page is not None and page.get("ns") in FILE_NAMESPACES


def mark_media(link: ResolvedLink) -> None:
    """Refuse a link that turned out to show a file: no facts, the parser's ``media-link`` error."""
    for key in [k for k in link if k in FACT_KEYS or k in ("status", "reason", "retryable", "reason_detail")]:
        del cast(dict[str, Any], link)[key]
    link["error"] = "media-link"


def mark_unresolved(link: ResolvedLink, reason: str, *, retryable: bool, detail: str | None = None) -> None:
    link["status"] = "unresolved"
    link["reason"] = reason
    link["retryable"] = retryable
    if detail:
        link["reason_detail"] = detail


def revision_facts(revision: ApiRevision) -> RevisionFacts:
    """The visible facts of one revision; hidden parts are None and flagged."""
    main = revision.get("slots", {}).get("main", {})
    author_hidden = bool(revision.get("userhidden"))
    comment_hidden = bool(revision.get("commenthidden"))
    text_hidden = bool(main.get("texthidden"))
    return {
        "author": None if author_hidden else revision.get("user"),
        "author_hidden": author_hidden,
        "timestamp": revision.get("timestamp"),
        "comment": None if comment_hidden else revision.get("comment"),
        "comment_hidden": comment_hidden,
        "tags": list(revision.get("tags", [])),
        "revision_deleted": author_hidden or comment_hidden or text_hidden or bool(revision.get("sha1hidden")),
        "suppressed": bool(revision.get("suppressed")),
    }


def _text_of(revision: ApiRevision) -> str | None:
    main = revision.get("slots", {}).get("main", {})
    if main.get("texthidden") or "content" not in main:
        return None
    return main["content"]


def _is_structured(revision: ApiRevision) -> bool:
    slots = revision.get("slots", {})
    main = slots.get("main", {})
    return main.get("contentmodel", "wikitext") != "wikitext" or any(name != "main" for name in slots)


def describe_change(link: ResolvedLink, old_id: int | None, new_id: int | None, old: ApiRevision | None,
                    new: ApiRevision | None, namespaces: Callable[[], NamespaceNames],
                    analyses: dict[tuple[int, int], Analysis] | None = None) -> None:
    """The facts of the change from revision `old_id` to `new_id` (old 0: page creation, None:
    unknown; `old`/`new` the fetched revisions, None when not found). `namespaces` is only
    called when there is wikitext to analyse. `analyses` keeps each revision pair's analysis
    for the caller's batch: ten links to one hostile diff cost one analysis, not ten. (Never
    across requests: a revision's text may be hidden on the wiki in between.)"""
    if new is None:
        link.update({"status": "missing", "deleted": True, "new_revid": new_id, "old_revid": old_id or None})
        return
    page = new["_page"]
    if is_file_page(page) or (old is not None and is_file_page(old["_page"])):
        mark_media(link)
        return
    link.update({
        "status": "resolved",
        "page_title": page.get("title"),
        "page_id": page.get("pageid"),
        "old_revid": old_id or None,
        "new_revid": new_id,
        "deleted": False,
        "content_model": new.get("slots", {}).get("main", {}).get("contentmodel", page.get("contentmodel")),
        **revision_facts(new),
    })
    cross_page = bool(old and old["_page"].get("pageid") != page.get("pageid"))
    link["cross_page"] = cross_page or bool(link.get("cross_page"))
    link["reversed"] = bool(old_id and new_id and old_id > new_id) or bool(link.get("reversed"))
    if old_id == 0:
        link["size_change"] = new.get("size")
    elif old is not None:
        link["size_change"] = (new.get("size") or 0) - (old.get("size") or 0)
        link["old_author"] = None if old.get("userhidden") else old.get("user")
        link["old_timestamp"] = old.get("timestamp")
    else:
        link["size_change"] = None
    if link["kind"] == "diff" and link.get("oldid") is not None and old_id and old is None:
        link["old_deleted"] = True
    _analyse(link, old_id, old, new, namespaces, {} if analyses is None else analyses)


def _analyse(link: ResolvedLink, old_id: int | None, old: ApiRevision | None, new: ApiRevision,
             namespaces: Callable[[], NamespaceNames], analyses: dict[tuple[int, int], Analysis]) -> None:
    if _is_structured(new) or (old is not None and _is_structured(old)):
        link["analysis"] = {"added_text": "", "removed_text": "", "signatures": [], "mentions": [],
                            "user_links": [], "section": None, "structured_data": True}
        return
    new_text = _text_of(new)
    old_text = "" if old_id == 0 else (_text_of(old) if old is not None else None)
    if new_text is None or old_text is None:
        link["analysis"] = None
        link["analysis_unavailable"] = "text-hidden" if (
            new.get("slots", {}).get("main", {}).get("texthidden")
            or (old is not None and old.get("slots", {}).get("main", {}).get("texthidden"))
        ) else "old-revision-unavailable"
        return
    key = (int(old_id or 0), int(new.get("revid") or 0))
    if key not in analyses:
        names, contributions = namespaces()
        analyses[key] = analyze_change(old_text, new_text, names, contributions)
    link["analysis"] = analyses[key].copy()


def log_facts(entry: dict[str, Any]) -> LogFacts:
    """The visible facts of one `list=logevents` entry; hidden parts are None and flagged."""
    user_hidden = bool(entry.get("userhidden"))
    comment_hidden = bool(entry.get("commenthidden"))
    action_hidden = bool(entry.get("actionhidden"))
    return {
        "log_id": entry.get("logid"),
        "log_type": entry.get("type"),
        "log_action": entry.get("action"),
        "page_title": None if action_hidden else entry.get("title"),
        "author": None if user_hidden else entry.get("user"),
        "author_hidden": user_hidden,
        "timestamp": entry.get("timestamp"),
        "comment": None if comment_hidden else entry.get("comment"),
        "comment_hidden": comment_hidden,
        "action_hidden": action_hidden,
        "suppressed": bool(entry.get("suppressed")),
        "tags": list(entry.get("tags", [])),
    }


def comment_id_parts(comment_id: str) -> tuple[str | None, str | None]:
    """Author and ISO timestamp encoded in a DiscussionTools id `c-<author>-<YYYYMMDDhhmmss>-...`."""
    match = re.match(r"c-(.+?)-(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:-|$)", comment_id)
    if match:
        y, mo, d, h, mi, s = match.groups()[1:]
        return match.group(1).replace("_", " "), f"{y}-{mo}-{d}T{h}:{mi}:{s}Z"
    match = re.match(r"c-(.+?)-(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.\d+)?Z", comment_id)
    if match:
        return match.group(1).replace("_", " "), match.group(2) + "Z"
    return None, None
