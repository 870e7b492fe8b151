"""Evidence special pages, read like their MediaWiki classes (1.39, plus Wikimedia's extensions).

``Special:Diff/5``, ``Special:PermanentLink/5``, ``Special:Redirect/revision/5``,
``Special:ComparePages``, MobileFrontend's ``Special:MobileDiff``, ``Special:Log``,
``Special:Contributions``, DiscussionTools' ``Special:GoToComment`` and the page action
redirects (``Special:PageHistory``...) each decide on their own what their subpage and
parameters mean. A reader gets the subpage (database form, as MediaWiki passes it) and the
request parameters; the pages that redirect to ``index.php`` (Diff, PermanentLink) hand the
new parameters to the ``Interpreter`` they are given.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Protocol

from reporting.evidence.mwrequest import MAX_ID, Params, ctype_digit, php_intval
from reporting.evidence.titles import ParsedTitle, normalize_text
from reporting.evidence.types import EvidenceLink
from reporting.identity.usernames import canonical_username
from reporting.wiki.registry import Wiki

__all__ = ["SPECIAL_PAGES", "Interpreter", "special_diff", "special_permanent_link"]

# Core and Wikimedia log types (LogPage::validTypes on Wikimedia wikis); Special:Log/<x> is a
# type only when it is one of these, otherwise it is a user name (SpecialLog::parseParams).
_LOG_TYPES = frozenset({
    "abusefilter", "abusefilterblockeduser", "block", "contentmodel", "create", "delete",
    "gblblock", "gblrename", "gblrights", "globalauth", "import", "interwiki", "lock",
    "managetags", "massmessage", "merge", "move", "newusers", "notifytranslators", "oath",
    "pagetranslation", "pagetriage-curation", "pagetriage-deletion", "patrol", "protect",
    "renameuser", "review", "rights", "spamblacklist", "stable", "suppress", "tag", "thanks",
    "timedmediahandler", "titleblacklist", "translationreview", "upload", "urlshortener",
    "usermerge",
})
_LOG_ALL = ("*", "all")


class Interpreter(Protocol):
    """What a special page redirects to: ``index.php`` (see ``index_php.IndexPhp``)."""

    def interpret(
        self, wiki: Wiki, title: ParsedTitle | None, params: Params, fragment: str | None
    ) -> EvidenceLink: ...

    def revision(self, wiki: Wiki, revid: int, direction: str | None) -> EvidenceLink: ...


SpecialPageReader = Callable[[Interpreter, Wiki, "str | None", Params], EvidenceLink]


def special_diff(index: Interpreter, wiki: Wiki, subpage: str | None, params: Params) -> EvidenceLink:
    """SpecialDiff::getRedirect: N -> diff=N; M/N -> oldid=M&diff=N; anything else: a form."""
    parts = subpage.split("/") if subpage is not None else []
    if len(parts) == 1 and parts[0] != "":
        redirect = Params({"diff": parts[0]})
    elif len(parts) == 2:
        redirect = Params({"oldid": parts[0], "diff": parts[1]})
    else:
        return {"error": "unsupported"}
    return index.interpret(wiki, None, redirect, None)


def special_permanent_link(index: Interpreter, wiki: Wiki, subpage: str | None, params: Params) -> EvidenceLink:
    """SpecialPermanentLink::getRedirect: intval of the subpage, 0 shows the form."""
    revid = php_intval(subpage)
    if revid == 0:
        return {"error": "unsupported"}
    return index.interpret(wiki, None, Params({"oldid": str(revid)}), None)


def _special_redirect(index: Interpreter, wiki: Wiki, subpage: str | None, params: Params) -> EvidenceLink:
    """SpecialRedirect::dispatch: <type>/<digits> for revision, page, logid and user; ``file``
    (subpage or the form's ``wptype``) serves a file and is refused."""
    kind = (subpage or "").partition("/")[0]
    if kind.lower() == "file" or (params.get_val("wptype") or "").lower() == "file":
        return {"error": "media-link"}
    if subpage is None:
        return {"error": "unsupported"}
    kind, slash, value = subpage.partition("/")
    if kind not in ("revision", "page", "logid", "user"):
        return {"error": "unsupported"}
    if not slash or not ctype_digit(value) or int(value) == 0 or int(value) > MAX_ID:
        return {"error": "bad-revision-id" if kind == "revision" else "bad-id"}
    number = int(value)
    if kind == "revision":
        return index.revision(wiki, number, None)
    if kind == "page":
        return {"wiki": wiki.host, "kind": "page", "pageid": number}
    if kind == "logid":
        return {"wiki": wiki.host, "kind": "log", "logid": number}
    return {"wiki": wiki.host, "kind": "contribs", "userid": number}


def _special_compare_pages(index: Interpreter, wiki: Wiki, subpage: str | None, params: Params) -> EvidenceLink:
    """SpecialComparePages: rev1/rev2 (HTMLIntField) win over page1/page2.

    A side given only as a page means "that page's latest revision at viewing time"; the
    link then names no fixed revision and is reported as unsupported.
    """
    revs: list[int] = []
    for name in ("rev1", "rev2"):
        value = (params.get_val(name) or "").strip()
        if not re.fullmatch(r"[+-]?\d*", value):
            return {"error": "unsupported"}
        number = int(value) if value not in ("", "+", "-") else 0
        if number < 0 or number > MAX_ID:
            return {"error": "bad-revision-id"}
        if number == 0:
            return {"error": "unsupported"}
        revs.append(number)
    result: EvidenceLink = {"wiki": wiki.host, "kind": "diff", "oldid": revs[0], "newid": revs[1]}
    if revs[0] > revs[1]:
        result["reversed"] = True
    return result


def _special_mobile_diff(index: Interpreter, wiki: Wiki, subpage: str | None, params: Params) -> EvidenceLink:
    """MobileFrontend's SpecialMobileDiff::getRevisionsToCompare: N or M...N."""
    if subpage is None:
        return {"error": "unsupported"}
    parts = subpage.split("...", 1)
    if len(parts) == 2:
        if not _php_truthy(parts[0]) or not _php_truthy(parts[1]):
            return {"error": "unsupported"}
        old, new = php_intval(parts[0]), php_intval(parts[1])
        if old == 0 or new == 0:
            return {"error": "unsupported"}
        if old == new or not (0 < old <= MAX_ID) or not (0 < new <= MAX_ID):
            return {"error": "bad-revision-id"}
        result: EvidenceLink = {"wiki": wiki.host, "kind": "diff", "oldid": old, "newid": new}
        if old > new:
            result["reversed"] = True
        return result
    new = php_intval(parts[0])
    if new == 0:
        return {"error": "unsupported"}
    if not 0 < new <= MAX_ID:
        return {"error": "bad-revision-id"}
    return {"wiki": wiki.host, "kind": "diff", "oldid": None, "newid": new}


def _special_log(index: Interpreter, wiki: Wiki, subpage: str | None, params: Params) -> EvidenceLink:
    """SpecialLog::execute/parseParams: logid, or type + user + page filters."""
    log_type = params.get_val("type") or ""
    user = params.get_val("user") or ""
    page = params.get_val("page") or ""
    logid = (params.get_val("logid") or "").strip()
    if subpage is not None:
        parts = subpage.split("/")
        if parts[0] != "" and (subpage in _LOG_TYPES or subpage in _LOG_ALL):
            log_type = subpage
        elif len(parts) == 2:
            log_type, user = parts
        elif subpage != "":
            user = subpage
    if logid:
        if not ctype_digit(logid) or int(logid) == 0 or int(logid) > MAX_ID:
            return {"error": "bad-id"}
        return {"wiki": wiki.host, "kind": "log", "logid": int(logid)}
    result: EvidenceLink = {
        "wiki": wiki.host,
        "kind": "log",
        "log_type": log_type if log_type in _LOG_TYPES else None,
    }
    if normalize_text(page):
        result["title"] = normalize_text(page)
    if canonical_username(user):
        result["user"] = canonical_username(user)
    return result


def _special_contributions(index: Interpreter, wiki: Wiki, subpage: str | None, params: Params) -> EvidenceLink:
    """SpecialContributions::execute: the subpage, else ?target=."""
    target = subpage if subpage is not None else (params.get_val("target") or "")
    user = canonical_username(target)
    if not user:
        return {"error": "unsupported"}
    return {"wiki": wiki.host, "kind": "contribs", "user": user}


def _special_go_to_comment(index: Interpreter, wiki: Wiki, subpage: str | None, params: Params) -> EvidenceLink:
    if not subpage:
        return {"error": "unsupported"}
    return {"wiki": wiki.host, "kind": "comment", "comment_id": subpage}


def _special_page_action(index: Interpreter, wiki: Wiki, subpage: str | None, params: Params) -> EvidenceLink:
    """SpecialRedirectWithAction (PageHistory, EditPage, PageInfo): the subpage's page."""
    text = normalize_text(subpage or "")
    if not text:
        return {"error": "unsupported"}
    return {"wiki": wiki.host, "kind": "page", "title": text}


def _file_page(index: Interpreter, wiki: Wiki, subpage: str | None, params: Params) -> EvidenceLink:
    """Special pages that serve a file (FilePath) or show them (NewFiles, ListFiles, ...)."""
    return {"error": "media-link"}


def _php_truthy(value: str) -> bool:
    return value not in ("", "0")


#: Canonical special page name -> its reader.
SPECIAL_PAGES: dict[str, SpecialPageReader] = {
    "Diff": special_diff,
    "PermanentLink": special_permanent_link,
    "Redirect": _special_redirect,
    "ComparePages": _special_compare_pages,
    "MobileDiff": _special_mobile_diff,
    "Log": _special_log,
    "Contributions": _special_contributions,
    "GoToComment": _special_go_to_comment,
    "PageHistory": _special_page_action,
    "EditPage": _special_page_action,
    "PageInfo": _special_page_action,
    # Under our names (titles._ENGLISH_SPECIAL_PAGES) and MediaWiki's internal ones (siteinfo's
    # "realname" for localised aliases).
    **dict.fromkeys(("FilePath", "NewFiles", "ListFiles", "MIMESearch", "FileDuplicateSearch", "UploadStash",
                     "ListDuplicatedFiles", "UnusedFiles", "UncategorizedFiles", "MostLinkedFiles", "MediaSearch",
                     "Filepath", "Newimages", "Listfiles", "MIMEsearch", "Unusedimages", "Uncategorizedimages",
                     "Mostimages"),
                    _file_page),
}
