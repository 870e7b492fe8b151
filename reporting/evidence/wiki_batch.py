"""Resolving the links of one wiki: which requests, batched how, and what they answered.

The request budget of :func:`reporting.evidence.resolve.resolve_links` is kept here: one
``prop=revisions|info`` request per 50 known revision ids (the new revisions, and old ones named
in the link), one more per 50 for what is only known afterwards (parent revisions, the current
revision for ``diff=cur``), a third only for ``direction=prev`` permanent links; siteinfo
(localised namespace names) once per wiki, only when there is wikitext to analyse; each pair of
revisions is analysed once, however many links show it. ``diff=next``,
log entries and comments cost one request each; page titles, page ids and users one request per
50 of each. What the answers mean for a link is written by :mod:`reporting.evidence.facts`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any, Literal, TypeGuard

from reporting.evidence.facts import (
    REASON_COMMENTS_UNSUPPORTED,
    REASON_LOG_TOO_OLD,
    REASON_NOT_CHECKED,
    ApiRevision,
    NamespaceNames,
    comment_id_parts,
    describe_change,
    is_file_page,
    log_facts,
    mark_media,
    mark_unresolved,
    revision_facts,
)
from reporting.evidence.types import Analysis, ResolvedLink
from reporting.evidence.wikitext import contributions_aliases_from_siteinfo, namespace_names_from_siteinfo
from reporting.identity.usernames import canonical_username
from reporting.wiki.client import WikiApiError, WikiClient

__all__ = ["BATCH", "RECENT_LOG_WINDOW", "WikiBatch"]

BATCH = 50
REVISION_PROPS = "ids|timestamp|flags|user|userid|comment|size|sha1|tags|content"
REVISION_PROPS_NO_CONTENT = "ids|timestamp|flags|user|userid|comment|size|sha1|tags"
RECENT_LOG_WINDOW = 500


class WikiBatch:
    """Resolves every link of one wiki; raises WikiUnavailable/WikiApiError for the caller to soften."""

    def __init__(self, client: WikiClient, api_url: str, siteinfo_for: Callable[[str], dict]):
        self.client = client
        self.api_url = api_url
        self.siteinfo_for = siteinfo_for
        self.revisions: dict[int, ApiRevision] = {}   # revid -> revision (+ "_page": page info)
        self.missing: set[int] = set()        # revids answered as bad/missing (deleted or unknown)
        self._namespaces: NamespaceNames | None = None
        self.analyses: dict[tuple[int, int], Analysis] = {}  # (old revid, new revid) -> what the edit did

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

    def _store(self, query: dict[str, Any]) -> None:
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

    def namespaces(self) -> NamespaceNames:
        if self._namespaces is None:
            siteinfo = self.siteinfo_for(self.api_url)
            self._namespaces = (namespace_names_from_siteinfo(siteinfo), contributions_aliases_from_siteinfo(siteinfo))
        return self._namespaces

    # dispatch ---------------------------------------------------------------------------

    def resolve(self, links: list[ResolvedLink]) -> None:
        by_kind: dict[str, list[ResolvedLink]] = defaultdict(list)
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

    def resolve_revision_links(self, links: list[ResolvedLink]) -> None:
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
        for link, (old_id, new_id) in zip(links, plans, strict=True):
            if self._out_of_time():
                # A web request's deadline passed: analysing more edits would keep the reporter
                # waiting; the links are checked again later.
                mark_unresolved(link, REASON_NOT_CHECKED, retryable=True, detail="deadline")
                continue
            new = self.revisions.get(new_id) if new_id else None
            old = self.revisions.get(old_id) if old_id else None
            describe_change(link, old_id, new_id, old, new, self.namespaces, self.analyses)

    def _out_of_time(self) -> bool:
        remaining = self.client.remaining()
        return remaining is not None and remaining <= 0

    def _parent(self, revid: int | None) -> int | None:
        revision = self.revisions.get(revid) if revid else None
        return int(revision.get("parentid", 0)) if revision else None

    def _plan(self, link: ResolvedLink, nexts: dict[int, int | None]) -> tuple[int | None, int | None]:
        """(old revid, new revid) of the change this link shows; old 0 = page creation, None = unknown."""
        if link["kind"] == "revision":
            revid: int | None
            revid = link["revid"]
            direction = link.get("direction")
            if direction == "prev":
                revid = self._parent(revid) or None
            elif direction == "next":
                revid = nexts.get(revid) or revid
            return self._parent(revid), revid
        # Which (oldid, newid) combinations occur is the parser's contract (EvidenceLink).
        oldid: Any = link.get("oldid")
        newid: Any = link.get("newid")
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

    # pages ---------------------------------------------------------------------------------------

    def resolve_pages(self, links: list[ResolvedLink]) -> None:
        lookups: tuple[tuple[Literal["title", "pageid"], str], ...] = (("title", "titles"), ("pageid", "pageids"))
        for key, param in lookups:
            subset, chunks = _batches(links, key)
            found: dict[str, dict[str, Any]] = {}
            for chunk in chunks:
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
                if is_file_page(page):
                    mark_media(link)
                    continue
                if page is None or page.get("missing") or page.get("invalid"):
                    link.update({"status": "missing", "deleted": bool(page and page.get("missing")),
                                 "page_title": page.get("title") if page else None})
                    continue
                revision = (page.get("revisions") or [{}])[0]
                link.update({"status": "resolved", "page_title": page["title"], "page_id": page["pageid"],
                             "new_revid": page.get("lastrevid"), "old_revid": None, "deleted": False,
                             "content_model": page.get("contentmodel"), **revision_facts(revision)})
        for link in links:
            if "status" not in link and "error" not in link:
                link["status"] = "missing"

    # users -------------------------------------------------------------------------------------

    def resolve_users(self, links: list[ResolvedLink]) -> None:
        lookups: tuple[tuple[Literal["user", "userid"], str], ...] = (("user", "ususers"), ("userid", "ususerids"))
        for key, param in lookups:
            subset, chunks = _batches(links, key)
            found: dict[str, dict[str, Any]] = {}
            for chunk in chunks:
                data = self.client.get(self.api_url, {
                    "action": "query", "list": "users", param: "|".join(chunk),
                    "usprop": "blockinfo|editcount|registration|groups",
                })
                for user in data.get("query", {}).get("users", []):
                    found[str(user.get("userid") if key == "userid" else user.get("name"))] = user
                    for value in chunk:  # names come back normalised ("alice" -> "Alice")
                        if canonical_username(value) == canonical_username(str(user.get("name", ""))):
                            found.setdefault(value, user)
            for link in subset:
                user = found.get(str(link[key]))
                if user is None or user.get("missing"):
                    link.update({"status": "missing"})
                elif user.get("invalid"):  # an IP address (or range): no account, contributions still exist
                    link.update({"status": "resolved", "author": user.get("name"), "is_ip": True})
                else:
                    link.update({"status": "resolved", "author": user.get("name"), "user_id": user.get("userid"),
                                 "is_ip": False, "edit_count": user.get("editcount"),
                                 "registration": user.get("registration"),
                                 "groups": [g for g in user.get("groups", []) if g != "*"],
                                 "blocked": "blockid" in user})
        for link in links:
            link.setdefault("status", "missing")

    # logs ---------------------------------------------------------------------------------------

    def resolve_logs(self, links: list[ResolvedLink]) -> None:
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
                    link.update({"status": "resolved", **log_facts(entry)})
                elif oldest is not None and int(link["logid"]) >= oldest or len(entries) < RECENT_LOG_WINDOW:
                    link.update({"status": "missing"})
                else:
                    mark_unresolved(link, REASON_LOG_TOO_OLD, retryable=False)
        for link in links:
            if link.get("logid") is not None:
                continue
            params: dict[str, str] = {"action": "query", "list": "logevents", "lelimit": "20",
                      "leprop": "ids|title|type|user|timestamp|comment|details|tags"}
            log_type = link.get("log_type")
            if log_type:
                params["letype"] = log_type
            if link.get("title"):
                params["letitle"] = link["title"]
            if link.get("user"):
                params["leuser"] = link["user"]
            try:
                data = self.client.get(self.api_url, params)
            except WikiApiError:  # e.g. an unknown log type on this wiki
                link.update({"status": "missing"})
                continue
            link.update({"status": "resolved",
                         "entries": [log_facts(e) for e in data.get("query", {}).get("logevents", [])]})

    # comments ---------------------------------------------------------------------------------

    def resolve_comment(self, link: ResolvedLink) -> None:
        try:
            data = self.client.get(self.api_url, {"action": "discussiontoolsfindcomment",
                                                  "idorname": str(link["comment_id"])})
        except WikiApiError as error:
            if error.code in ("badvalue", "unknown_action"):  # DiscussionTools not installed
                mark_unresolved(link, REASON_COMMENTS_UNSUPPORTED, retryable=False)
                return
            raise
        found = data.get("discussiontoolsfindcomment", [])
        if not found:
            link["status"] = "missing"
            return
        first = found[0]
        link.update({"status": "resolved", "page_title": first.get("title"), "new_revid": first.get("oldid"),
                     "comment_name": first.get("name")})
        author, timestamp = comment_id_parts(str(first.get("id") or link["comment_id"]))
        if author:
            link.update({"author": author, "timestamp": timestamp})


def _is_revid(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _next_anchor(link: ResolvedLink) -> int | None:
    if link["kind"] == "diff" and link.get("newid") == "next" and _is_revid(link.get("oldid")):
        return link["oldid"]
    if link["kind"] == "revision" and link.get("direction") == "next":
        return link["revid"]
    return None


def _batches(links: list[ResolvedLink], key: str) -> tuple[list[ResolvedLink], list[list[str]]]:
    """The links that name a ``key`` (title, page id, user...), and its distinct
    values in chunks of :data:`BATCH`, one API request each."""
    subset = [link for link in links if link.get(key) not in (None, "")]
    values = list(dict.fromkeys(str(link[key]) for link in subset))  # type: ignore[literal-required]
    return subset, [values[start:start + BATCH] for start in range(0, len(values), BATCH)]
