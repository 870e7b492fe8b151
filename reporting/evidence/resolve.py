"""Turn parsed evidence links into facts, with as few API requests as possible.

Input: link dicts from `reporting.evidence.links` (already checked against the wiki
registry; error dicts pass through untouched). Output: the same dicts plus "status"
("resolved" | "missing" | "unresolved") and the facts described in `resolve_links`.

Request budget per wiki (links are grouped by wiki): one `prop=revisions|info` request per
50 known revision ids (the new revisions, and old ones named in the link), one more per 50
for what is only known afterwards (parent revisions, the current revision for `diff=cur`);
siteinfo (localised namespace names) once per wiki, from the caller's cache. `diff=next`, log entries,
comments and short links cost one request each; page titles, page ids and users cost one
request per 50 of each.

Privacy contract: everything is read anonymously through `WikiClient`, so hidden parts
(user, comment, text of revision-deleted or suppressed edits, deleted pages) never reach
us; where the API marks something hidden the output says so and carries no value, and no
text analysis is done on a side whose text is hidden.

Failure contract: a wiki that is down, slow or answering garbage never raises out of
`resolve_links`; its links come back with status "unresolved", a "reason" code and
"retryable" (True when trying again later may help). Reason codes map to messages
`reporting-evidence-unresolved-<reason>`.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Callable, Iterable

from reporting.evidence.wikitext import (
    analyze_change,
    contributions_aliases_from_siteinfo,
    namespace_names_from_siteinfo,
)
from reporting.wiki.client import WikiApiError, WikiClient, WikiUnavailable
from reporting.wiki.siteinfo import fetch_siteinfo

log = logging.getLogger(__name__)

BATCH = 50
KINDS = frozenset({"diff", "revision", "page", "log", "contribs", "comment", "shorturl"})
REVISION_PROPS = "ids|timestamp|flags|user|userid|comment|size|sha1|tags|content"
REVISION_PROPS_NO_CONTENT = "ids|timestamp|flags|user|userid|comment|size|sha1|tags"
RECENT_LOG_WINDOW = 500
SHORT_LINK_BASE = "https://w.wiki/"
_SHORT_CODE_RE = re.compile(r"[A-Za-z0-9_$\-]{1,40}")
_RETRYABLE_API_ERRORS = frozenset({"readonly", "maxlag", "ratelimited", "internal_api_error_DBQueryError"})

# Reason codes (each maps to the message reporting-evidence-unresolved-<reason>).
REASON_UNAVAILABLE = "wiki-unavailable"
REASON_UNKNOWN_WIKI = "unknown-wiki"
REASON_API_ERROR = "api-error"
REASON_INTERNAL = "internal-error"
REASON_SHORT_LINK_TARGET = "short-link-target-rejected"
REASON_SHORT_LINK_UNSUPPORTED = "short-link-unsupported"
REASON_LOG_TOO_OLD = "log-entry-not-recent"
REASON_COMMENTS_UNSUPPORTED = "comments-unsupported"


def resolve_links(links: list[dict], client: WikiClient, api_url_for: Callable[[str], str | None],
                  reparse: Callable[[str], dict] | None = None, *,
                  siteinfo_for: Callable[[str], dict] | None = None,
                  short_link_base: str = SHORT_LINK_BASE) -> list[dict]:
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
    results: list[dict] = [dict(link) for link in links]
    work: list[dict] = []
    short_targets: list[tuple[int, dict]] = []
    for index, link in enumerate(results):
        if not _is_resolvable(link):
            results[index] = links[index]
        elif link["kind"] == "shorturl":
            target = _expand_short_link(link, client, reparse, short_link_base)
            if target is not None:
                short_targets.append((index, target))
                work.append(target)
        else:
            work.append(link)

    groups: dict[str, list[dict]] = defaultdict(list)
    for link in work:
        api_url = api_url_for(link.get("wiki", ""))
        if api_url is None:
            _unresolved(link, REASON_UNKNOWN_WIKI, retryable=False)
        else:
            groups[api_url].append(link)
    for api_url, group in groups.items():
        try:
            _WikiBatch(client, api_url, siteinfo_for).resolve(group)
        except WikiUnavailable as error:
            _fail_group(group, REASON_UNAVAILABLE, retryable=True, detail=error.reason)
        except WikiApiError as error:
            _fail_group(group, REASON_API_ERROR, retryable=error.code in _RETRYABLE_API_ERRORS, detail=error.code)
        except Exception as error:  # a bug or a wiki answering nonsense must not lose the report
            log.error("evidence resolution failed on %s: %s", api_url, type(error).__name__)
            _fail_group(group, REASON_INTERNAL, retryable=True, detail=type(error).__name__)

    for index, target in short_targets:
        short = results[index]
        short["target"] = target
        for key, value in target.items():
            if key not in ("input", "wiki", "kind"):
                short.setdefault(key, value)
        short["status"] = target["status"]
    return results


# --- helpers on single links ----------------------------------------------------------------


def _is_resolvable(link: dict) -> bool:
    return isinstance(link, dict) and "error" not in link and link.get("kind") in KINDS


def _unresolved(link: dict, reason: str, *, retryable: bool, detail: str | None = None) -> None:
    link["status"] = "unresolved"
    link["reason"] = reason
    link["retryable"] = retryable
    if detail:
        link["reason_detail"] = detail


def _fail_group(group: list[dict], reason: str, *, retryable: bool, detail: str) -> None:
    for link in group:
        for key in [k for k in link if k in _FACT_KEYS]:
            del link[key]
        _unresolved(link, reason, retryable=retryable, detail=detail)


def _expand_short_link(link: dict, client: WikiClient, reparse, base: str) -> dict | None:
    """Expand a w.wiki code with one HEAD request; returns the parsed target link or None
    (then `link` already carries its status)."""
    code = str(link.get("code", ""))
    if reparse is None:
        _unresolved(link, REASON_SHORT_LINK_UNSUPPORTED, retryable=False)
        return None
    if not _SHORT_CODE_RE.fullmatch(code):
        link["status"] = "missing"
        return None
    try:
        location = client.head_location(base + code)
    except WikiUnavailable as error:
        _unresolved(link, REASON_UNAVAILABLE, retryable=True, detail=error.reason)
        return None
    if not location:
        link["status"] = "missing"
        return None
    link["expanded_url"] = location
    target = reparse(location)
    if not _is_resolvable(target) or target.get("kind") == "shorturl":
        link["target"] = target
        _unresolved(link, REASON_SHORT_LINK_TARGET, retryable=False)
        return None
    return dict(target)


_FACT_KEYS = frozenset({
    "page_title", "page_id", "old_revid", "new_revid", "author", "author_hidden", "timestamp", "comment",
    "comment_hidden", "size_change", "tags", "deleted", "revision_deleted", "suppressed", "cross_page",
    "content_model", "analysis", "analysis_unavailable", "old_author", "old_timestamp",
})


def _revision_facts(revision: dict) -> dict:
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


def _text_of(revision: dict) -> str | None:
    main = revision.get("slots", {}).get("main", {})
    if main.get("texthidden") or "content" not in main:
        return None
    return main["content"]


def _is_structured(revision: dict) -> bool:
    slots = revision.get("slots", {})
    main = slots.get("main", {})
    return main.get("contentmodel", "wikitext") != "wikitext" or any(name != "main" for name in slots)


# --- one wiki ---------------------------------------------------------------------------------


class _WikiBatch:
    """Resolves every link of one wiki; raises WikiUnavailable/WikiApiError for the caller to soften."""

    def __init__(self, client: WikiClient, api_url: str, siteinfo_for: Callable[[str], dict]):
        self.client = client
        self.api_url = api_url
        self.siteinfo_for = siteinfo_for
        self.revisions: dict[int, dict] = {}   # revid -> revision (+ "_page": page info)
        self.missing: set[int] = set()        # revids answered as bad/missing (deleted or unknown)
        self._namespaces: tuple[dict, tuple] | None = None

    # revisions ------------------------------------------------------------------------

    def fetch_revisions(self, revids: Iterable[int]) -> None:
        wanted = sorted({r for r in revids if r and r > 0 and r not in self.revisions and r not in self.missing})
        for start in range(0, len(wanted), BATCH):
            chunk = wanted[start:start + BATCH]
            data = self.client.query_all(self.api_url, {
                "prop": "revisions|info", "revids": "|".join(map(str, chunk)),
                "rvprop": REVISION_PROPS, "rvslots": "*",
            })
            self._store(data["query"])
            self.missing.update(r for r in chunk if r not in self.revisions)

    def _store(self, query: dict) -> None:
        for key in query.get("badrevids", {}):
            self.missing.add(int(key))
        for page in query.get("pages", []):
            info = {k: v for k, v in page.items() if k != "revisions"}
            for revision in page.get("revisions", []):
                self.revisions[int(revision["revid"])] = {**revision, "_page": info}

    def fetch_next(self, revid: int) -> int | None:
        """The revision after `revid` on its page (one request); None if `revid` is the latest."""
        revision = self.revisions.get(revid)
        if revision is None:
            return None
        data = self.client.get(self.api_url, {
            "action": "query", "prop": "revisions|info", "pageids": str(revision["_page"]["pageid"]),
            "rvstartid": str(revid), "rvdir": "newer", "rvlimit": "2", "rvprop": REVISION_PROPS, "rvslots": "*",
        })
        self._store(data.get("query", {}))
        later = [int(r["revid"]) for p in data.get("query", {}).get("pages", []) for r in p.get("revisions", [])
                 if int(r["revid"]) != revid]
        return later[0] if later else None

    def namespaces(self) -> tuple[dict, tuple]:
        if self._namespaces is None:
            siteinfo = self.siteinfo_for(self.api_url)
            self._namespaces = (namespace_names_from_siteinfo(siteinfo), contributions_aliases_from_siteinfo(siteinfo))
        return self._namespaces

    # dispatch ---------------------------------------------------------------------------

    def resolve(self, links: list[dict]) -> None:
        by_kind: dict[str, list[dict]] = defaultdict(list)
        for link in links:
            by_kind[link["kind"]].append(link)
        revision_links = by_kind["diff"] + by_kind["revision"]
        if revision_links:
            self.resolve_revision_links(revision_links)
        if by_kind["page"]:
            self.resolve_pages(by_kind["page"])
        if by_kind["contribs"]:
            self.resolve_users(by_kind["contribs"])
        if by_kind["log"]:
            self.resolve_logs(by_kind["log"])
        for link in by_kind["comment"]:
            self.resolve_comment(link)

    # diffs and revisions ----------------------------------------------------------------------

    def resolve_revision_links(self, links: list[dict]) -> None:
        # Pass 1: every revision id written in a link.
        known: list[int] = []
        for link in links:
            if link["kind"] == "diff":
                known += [v for v in (link.get("oldid"), link.get("newid")) if _is_revid(v)]
            else:
                known.append(link["revid"])
        self.fetch_revisions(known)

        # "next" needs the page of its revision: one request each.
        nexts: dict[int, int | None] = {}
        for link in links:
            anchor = _next_anchor(link)
            if anchor is not None and anchor not in nexts:
                nexts[anchor] = self.fetch_next(anchor)

        # Pass 2: what pass 1 revealed (parents, current revisions).
        plans = [self._plan(link, nexts) for link in links]
        self.fetch_revisions(rid for plan in plans for rid in plan if rid)
        # Pass 3, only for "direction=prev" permanent links: the parent of the parent.
        plans = [self._plan(link, nexts) for link in links]
        self.fetch_revisions(plan[0] for plan in plans if plan[0])
        plans = [self._plan(link, nexts) for link in links]
        for link, (old_id, new_id) in zip(links, plans):
            self._describe(link, old_id, new_id)

    def _parent(self, revid: int | None) -> int | None:
        revision = self.revisions.get(revid) if revid else None
        return int(revision.get("parentid", 0)) if revision else None

    def _plan(self, link: dict, nexts: dict[int, int | None]) -> tuple[int | None, int | None]:
        """(old revid, new revid) of the change this link shows; old 0 = page creation, None = unknown."""
        if link["kind"] == "revision":
            revid = link["revid"]
            direction = link.get("direction")
            if direction == "prev":
                revid = self._parent(revid) or None
            elif direction == "next":
                revid = nexts.get(revid) or revid
            return self._parent(revid), revid
        oldid, newid = link.get("oldid"), link.get("newid")
        if newid == "prev" or (oldid is None and _is_revid(newid)):
            target = oldid if newid == "prev" else newid
            return self._parent(target), target
        if newid == "next":
            return oldid, nexts.get(oldid) or oldid
        if newid == "cur" or newid == 0:
            revision = self.revisions.get(oldid)
            if revision is None:
                return oldid, None
            return oldid, int(revision["_page"].get("lastrevid", 0)) or None
        return oldid, newid

    def _describe(self, link: dict, old_id: int | None, new_id: int | None) -> None:
        new = self.revisions.get(new_id) if new_id else None
        old = self.revisions.get(old_id) if old_id else None
        if new is None:
            link.update(status="missing", deleted=True, new_revid=new_id, old_revid=old_id or None)
            return
        page = new["_page"]
        link.update(
            status="resolved",
            page_title=page.get("title"),
            page_id=page.get("pageid"),
            old_revid=old_id or None,
            new_revid=new_id,
            deleted=False,
            content_model=new.get("slots", {}).get("main", {}).get("contentmodel", page.get("contentmodel")),
            **_revision_facts(new),
        )
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
        self._analyse(link, old_id, old, new)

    def _analyse(self, link: dict, old_id: int | None, old: dict | None, new: dict) -> None:
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
        namespaces, contributions = self.namespaces()
        link["analysis"] = analyze_change(old_text, new_text, namespaces, contributions)

    # pages ---------------------------------------------------------------------------------------

    def resolve_pages(self, links: list[dict]) -> None:
        for key, param in (("title", "titles"), ("pageid", "pageids")):
            subset = [link for link in links if link.get(key) not in (None, "")]
            values = list(dict.fromkeys(str(link[key]) for link in subset))
            found: dict[str, dict] = {}
            for start in range(0, len(values), BATCH):
                chunk = values[start:start + BATCH]
                data = self.client.query_all(self.api_url, {
                    "prop": "info|revisions", param: "|".join(chunk),
                    "rvprop": REVISION_PROPS_NO_CONTENT, "rvslots": "main",
                })
                query = data["query"]
                aliases = {n["from"]: n["to"] for n in query.get("normalized", [])}
                for page in query.get("pages", []):
                    if key == "pageid":
                        found[str(page.get("pageid"))] = page
                    else:
                        found[page.get("title")] = page
                for value in chunk:
                    if key == "title" and value not in found and aliases.get(value) in found:
                        found[value] = found[aliases[value]]
            for link in subset:
                page = found.get(str(link[key]))
                if page is None or page.get("missing") or page.get("invalid"):
                    link.update(status="missing", deleted=bool(page and page.get("missing")),
                                page_title=page.get("title") if page else None)
                    continue
                revision = (page.get("revisions") or [{}])[0]
                link.update(status="resolved", page_title=page["title"], page_id=page["pageid"],
                            new_revid=page.get("lastrevid"), old_revid=None, deleted=False,
                            content_model=page.get("contentmodel"), **_revision_facts(revision))
        for link in links:
            if "status" not in link:
                link["status"] = "missing"

    # users -------------------------------------------------------------------------------------

    def resolve_users(self, links: list[dict]) -> None:
        for key, param in (("user", "ususers"), ("userid", "ususerids")):
            subset = [link for link in links if link.get(key) not in (None, "")]
            values = list(dict.fromkeys(str(link[key]) for link in subset))
            found: dict[str, dict] = {}
            for start in range(0, len(values), BATCH):
                chunk = values[start:start + BATCH]
                data = self.client.get(self.api_url, {
                    "action": "query", "list": "users", param: "|".join(chunk),
                    "usprop": "blockinfo|editcount|registration|groups",
                })
                for user in data.get("query", {}).get("users", []):
                    found[str(user.get("userid") if key == "userid" else user.get("name"))] = user
                    for value in chunk:  # names come back normalised ("alice" -> "Alice")
                        if _fold_user(value) == _fold_user(str(user.get("name", ""))):
                            found.setdefault(value, user)
            for link in subset:
                user = found.get(str(link[key]))
                if user is None or user.get("missing"):
                    link.update(status="missing")
                elif user.get("invalid"):  # an IP address (or range): no account, contributions still exist
                    link.update(status="resolved", author=user.get("name"), is_ip=True)
                else:
                    link.update(status="resolved", author=user.get("name"), user_id=user.get("userid"), is_ip=False,
                                edit_count=user.get("editcount"), registration=user.get("registration"),
                                groups=[g for g in user.get("groups", []) if g != "*"],
                                blocked="blockid" in user)
        for link in links:
            link.setdefault("status", "missing")

    # logs ---------------------------------------------------------------------------------------

    def resolve_logs(self, links: list[dict]) -> None:
        by_id = [link for link in links if link.get("logid") is not None]
        if by_id:
            # The API cannot look a log entry up by id: read the recent window once and search it.
            data = self.client.get(self.api_url, {
                "action": "query", "list": "logevents", "lelimit": str(RECENT_LOG_WINDOW),
                "leprop": "ids|title|type|user|timestamp|comment|details|tags",
            })
            entries = {int(e["logid"]): e for e in data.get("query", {}).get("logevents", []) if "logid" in e}
            oldest = min(entries) if entries else None
            for link in by_id:
                entry = entries.get(int(link["logid"]))
                if entry is not None:
                    link.update(status="resolved", **_log_facts(entry))
                elif oldest is not None and int(link["logid"]) >= oldest or len(entries) < RECENT_LOG_WINDOW:
                    link.update(status="missing")
                else:
                    _unresolved(link, REASON_LOG_TOO_OLD, retryable=False)
        for link in links:
            if link.get("logid") is not None:
                continue
            params = {"action": "query", "list": "logevents", "lelimit": "20",
                      "leprop": "ids|title|type|user|timestamp|comment|details|tags"}
            if link.get("log_type"):
                params["letype"] = link["log_type"]
            if link.get("title"):
                params["letitle"] = link["title"]
            if link.get("user"):
                params["leuser"] = link["user"]
            try:
                data = self.client.get(self.api_url, params)
            except WikiApiError:  # e.g. an unknown log type on this wiki
                link.update(status="missing")
                continue
            link.update(status="resolved", entries=[_log_facts(e) for e in data.get("query", {}).get("logevents", [])])

    # comments ---------------------------------------------------------------------------------

    def resolve_comment(self, link: dict) -> None:
        try:
            data = self.client.get(self.api_url, {"action": "discussiontoolsfindcomment",
                                                  "idorname": str(link["comment_id"])})
        except WikiApiError as error:
            if error.code in ("badvalue", "unknown_action"):  # DiscussionTools not installed
                _unresolved(link, REASON_COMMENTS_UNSUPPORTED, retryable=False)
                return
            raise
        found = data.get("discussiontoolsfindcomment", [])
        if not found:
            link["status"] = "missing"
            return
        first = found[0]
        link.update(status="resolved", page_title=first.get("title"), new_revid=first.get("oldid"),
                    comment_name=first.get("name"))
        author, timestamp = _comment_id_parts(str(first.get("id") or link["comment_id"]))
        if author:
            link.update(author=author, timestamp=timestamp)


def _log_facts(entry: dict) -> dict:
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


def _comment_id_parts(comment_id: str) -> tuple[str | None, str | None]:
    """Author and ISO timestamp encoded in a DiscussionTools id `c-<author>-<YYYYMMDDhhmmss>-...`."""
    match = re.match(r"c-(.+?)-(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:-|$)", comment_id)
    if match:
        y, mo, d, h, mi, s = match.groups()[1:]
        return match.group(1).replace("_", " "), f"{y}-{mo}-{d}T{h}:{mi}:{s}Z"
    match = re.match(r"c-(.+?)-(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.\d+)?Z", comment_id)
    if match:
        return match.group(1).replace("_", " "), match.group(2) + "Z"
    return None, None


def _is_revid(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _next_anchor(link: dict) -> int | None:
    if link["kind"] == "diff" and link.get("newid") == "next" and _is_revid(link.get("oldid")):
        return link["oldid"]
    if link["kind"] == "revision" and link.get("direction") == "next":
        return link["revid"]
    return None


def _fold_user(name: str) -> str:
    name = re.sub(r"[ _]+", " ", name).strip()
    return name[:1].upper() + name[1:]
