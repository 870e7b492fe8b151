"""Turn parsed evidence links into facts, with as few API requests as possible.

Input: link dicts from `reporting.evidence.links` (already checked against the wiki
registry; error dicts pass through untouched). Output: the same dicts plus "status"
("resolved" | "missing" | "unresolved") and the facts described in `resolve_links`
(`reporting.evidence.types.ResolvedLink`).

Request budget: links are grouped by wiki and each wiki's links resolved in batches
(`reporting.evidence.wiki_batch`); a w.wiki short link costs one more request.

Privacy contract: everything is read anonymously through `WikiClient`, so hidden parts
(user, comment, text of revision-deleted or suppressed edits, deleted pages) never reach
us; where the API marks something hidden the output says so and carries no value, and no
text analysis is done on a side whose text is hidden.

Failure contract: a wiki that is down, slow or answering garbage never raises out of
`resolve_links`; its links come back with status "unresolved", a "reason" code and
"retryable" (True when trying again later may help). With a client that has a deadline (a
web request's), what is left when it passes is "not-checked" (retryable), analyses included.
Reason codes map to messages `reporting-evidence-unresolved-<reason>`.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Callable
from typing import Any, cast

from reporting.evidence.facts import (
    CALLERS_TIME,
    FACT_KEYS,
    REASON_API_ERROR,
    REASON_INTERNAL,
    REASON_NOT_CHECKED,
    REASON_SHORT_LINK_TARGET,
    REASON_SHORT_LINK_UNSUPPORTED,
    REASON_UNAVAILABLE,
    REASON_UNKNOWN_WIKI,
    mark_unresolved,
)
from reporting.evidence.types import EvidenceLink, ResolvedLink
from reporting.evidence.wiki_batch import WikiBatch
from reporting.wiki.client import WikiApiError, WikiClient, WikiUnavailable
from reporting.wiki.siteinfo import fetch_siteinfo

log = logging.getLogger(__name__)

KINDS = frozenset({"diff", "revision", "page", "log", "contribs", "comment", "shorturl"})
SHORT_LINK_BASE = "https://w.wiki/"
_SHORT_CODE_RE = re.compile(r"[A-Za-z0-9_$\-]{1,40}")
_RETRYABLE_API_ERRORS = frozenset({"readonly", "maxlag", "ratelimited", "internal_api_error_DBQueryError"})


def resolve_links(links: list[EvidenceLink], client: WikiClient, api_url_for: Callable[[str], str | None],
                  reparse: Callable[[str], EvidenceLink] | None = None, *,
                  siteinfo_for: Callable[[str], dict] | None = None,
                  short_link_base: str = SHORT_LINK_BASE) -> list[ResolvedLink]:
    """Resolve `links` (in order; one output dict per input dict). Never raises for wiki trouble.

    `api_url_for(wiki)` gives the registry's API URL for a link's "wiki" (None: unknown wiki).
    `reparse(url)` is the link parser, used on the target of a w.wiki short link (whose
    result must again be a registry-checked link dict). `siteinfo_for(api_url)` returns the
    raw siteinfo, raising the client's errors when it cannot: pass the evidence service's
    `SiteInfoCache.answer` so it is fetched once per wiki; the default fetches it once per call.

    Facts of a resolved diff/revision: page_title, page_id, old_revid, new_revid, author
    (None if hidden), author_hidden, timestamp, comment (None if hidden), comment_hidden,
    size_change, tags, deleted, revision_deleted, suppressed, cross_page, reversed,
    content_model, analysis ({added_text, removed_text, signatures, mentions, user_links,
    section, structured_data} or None with "analysis_unavailable": reason).
    A revision link (permanent link) is described by the edit that created that revision.
    Short links: the output keeps the short link's own fields, adds "expanded_url" and
    "target" (the resolved target link) and copies the target's status and facts.
    """
    siteinfo_for = siteinfo_for or (lambda api_url: fetch_siteinfo(client, api_url))
    # Resolution adds facts to copies; links that cannot be resolved pass through as given.
    results: list[ResolvedLink] = [cast(ResolvedLink, dict(link)) for link in links]
    work: list[ResolvedLink] = []
    short_targets: list[tuple[int, ResolvedLink]] = []
    for index, link in enumerate(results):
        if not _is_resolvable(link):
            results[index] = cast(ResolvedLink, links[index])
        elif link["kind"] == "shorturl":
            target = _expand_short_link(link, client, reparse, short_link_base)
            if target is not None:
                short_targets.append((index, target))
                work.append(target)
        else:
            work.append(link)

    groups: dict[str, list[ResolvedLink]] = defaultdict(list)
    for link in work:
        api_url = api_url_for(link.get("wiki", ""))
        if api_url is None:
            mark_unresolved(link, REASON_UNKNOWN_WIKI, retryable=False)
        else:
            groups[api_url].append(link)
    for api_url, group in groups.items():
        try:
            WikiBatch(client, api_url, siteinfo_for).resolve(group)
        except WikiUnavailable as error:
            _fail_group(group, _unavailable_reason(error), retryable=True, detail=error.reason)
        except WikiApiError as error:
            _fail_group(group, REASON_API_ERROR, retryable=error.code in _RETRYABLE_API_ERRORS, detail=error.code)
        except Exception as error:  # noqa: BLE001 - a bug or a wiki answering nonsense must not lose the report
            log.error("evidence resolution failed on %s: %s", api_url, type(error).__name__)
            _fail_group(group, REASON_INTERNAL, retryable=True, detail=type(error).__name__)

    for index, target in short_targets:
        short = results[index]
        short["target"] = target
        if "error" in target:  # e.g. a short link to a file page: refused like the page
            short["error"] = target["error"]
            continue
        for key, value in target.items():
            if key not in ("input", "wiki", "kind"):
                cast(dict[str, Any], short).setdefault(key, value)
        short["status"] = target["status"]
    return results


# --- helpers on single links ----------------------------------------------------------------


def _unavailable_reason(error: WikiUnavailable) -> str:
    """"not checked yet" when our own time ran out, "wiki unavailable" when the wiki failed."""
    return REASON_NOT_CHECKED if error.reason in CALLERS_TIME else REASON_UNAVAILABLE


def _is_resolvable(link: EvidenceLink) -> bool:
    return isinstance(link, dict) and "error" not in link and link.get("kind") in KINDS


def _fail_group(group: list[ResolvedLink], reason: str, *, retryable: bool, detail: str) -> None:
    for link in group:
        for key in [k for k in link if k in FACT_KEYS]:
            del cast(dict[str, Any], link)[key]
        mark_unresolved(link, reason, retryable=retryable, detail=detail)


def _expand_short_link(link: ResolvedLink, client: WikiClient, reparse: Callable[[str], EvidenceLink] | None,
                       base: str) -> ResolvedLink | None:
    """Expand a w.wiki code with one HEAD request; returns the parsed target link or None
    (then `link` already carries its status)."""
    code = str(link.get("code", ""))
    if reparse is None:
        mark_unresolved(link, REASON_SHORT_LINK_UNSUPPORTED, retryable=False)
        return None
    if not _SHORT_CODE_RE.fullmatch(code):
        link["status"] = "missing"
        return None
    try:
        location = client.head_location(base + code)
    except WikiUnavailable as error:
        mark_unresolved(link, _unavailable_reason(error), retryable=True, detail=error.reason)
        return None
    if not location:
        link["status"] = "missing"
        return None
    link["expanded_url"] = location
    target = reparse(location)
    if not _is_resolvable(target) or target.get("kind") == "shorturl":
        link["target"] = cast(ResolvedLink, target)
        mark_unresolved(link, REASON_SHORT_LINK_TARGET, retryable=False)
        return None
    return cast(ResolvedLink, dict(target))
