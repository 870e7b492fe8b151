"""Turn pasted evidence (URLs, wikilinks, templates, bare special page titles) into link facts.

Pure: no network, no clock.  Every input yields dicts, never an exception, and never names a host
outside the registry.  Each result is either
``{"input", "wiki", "kind", ...fields}`` with kind one of ``diff``, ``revision``, ``page``,
``log``, ``contribs``, ``comment``, ``shorturl``, or ``{"input", "error": code}``.

The meaning of a link is MediaWiki's (1.39): ``index.php`` parameters are read like PHP and
``WebRequest`` read them (see ``mwrequest``), titles like ``MediaWikiTitleCodec`` (see
``titles``), and each special page like its own class (``SpecialDiff``, ``SpecialPermanentLink``,
``SpecialRedirect``, ``SpecialComparePages``, ``SpecialLog``, ``SpecialContributions``,
MobileFrontend's ``SpecialMobileDiff``, DiscussionTools' ``SpecialGoToComment``).

Shapes (a contract with the resolver):
- diff: ``oldid`` int|None, ``newid`` int|"prev"|"next"|"cur"; MediaWiki's pair is kept as
  written (``diff=prev&oldid=N`` is oldid N, newid "prev").  ``reversed: True`` when both are
  numbers and oldid > newid.  ``title`` (informational, the revision's page wins) when the link
  named a page.  When there is no oldid and newid is "cur" (``?title=T&diff=cur``: the page's
  last edit) the target page is required and given as ``title`` or ``pageid``.  ``direction``
  ("prev"|"next") when the URL had one next to an oldid: MediaWiki first moves the oldid to the
  revision before/after it.
- revision: ``revid`` and optional ``direction``.
- page: ``title`` or ``pageid``.
- log: ``logid``, or ``log_type`` (None for all logs) with optional ``title`` and ``user``.
- contribs: ``user`` (IP addresses and ranges allowed), or ``userid``.
- comment: ``comment_id`` and optional ``title``.
- shorturl: ``{"wiki": "w.wiki", "code"}``; the resolver expands it and re-parses the target.
- ``fragment`` (decoded) whenever the link had one.

Error codes: ``not-a-link``, ``unknown-wiki``, ``forbidden-host``, ``private-wiki``,
``unsupported``, ``bad-revision-id``, ``bad-id`` (page, log or user id), ``no-context-wiki``
(a wikilink, template or bare title without a wiki to read it on), ``siteinfo-unavailable``
(a localised special page name while the wiki's aliases cannot be read: try again later).
"""

from __future__ import annotations

import html
import ipaddress
import posixpath
import re
from typing import Callable

from reporting.evidence.mwrequest import (
    Params,
    ctype_digit,
    parse_query,
    php_intval,
    raw_url_decode,
)
from reporting.evidence.titles import (
    NS_SPECIAL,
    ParsedTitle,
    SiteInfoLookup,
    memoize_siteinfo,
    normalize_text,
    resolve_special_page,
    split_title,
)
from reporting.wiki.registry import Wiki, WikiRegistry
from reporting.wiki.siteinfo import SiteInfo

__all__ = ["parse_evidence", "parse_link", "MAX_ID", "SHORT_URL_HOST"]

# MediaWiki's id columns are unsigned 32-bit integers; anything larger names nothing.
MAX_ID = 2**32 - 1
SHORT_URL_HOST = "w.wiki"
MAX_INPUT_LENGTH = 4000

# DiscussionTools comment ids: c-<author>-<timestamp>[-<parent>] (new and legacy timestamps).
_COMMENT_ID = re.compile(
    r"c-.+?-(?:\d{14}|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{3})?Z)(?:-.*)?\Z", re.S
)
# UrlShortener's code alphabet.
_SHORT_CODE = re.compile(r"[0-9A-Za-z$\-_.!~]{1,64}\Z")
# Bounded so that searching long prose stays linear.
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]{0,31})://")
_MAX_AUTHORITY_LENGTH = 300
_HOSTISH_AUTHORITY = re.compile(
    r"(?:[^\s/?#\\@\[\]]*@)?(?:\[[^\s/?#\\\]]*\]|[^\s/?#\\:@\[\]]*\.[^\s/?#\\:@\[\]]*)(?::\d*)?\Z"
)

# Core and Wikimedia log types (LogPage::validTypes on Wikimedia wikis); Special:Log/<x> is a
# type only when it is one of these, otherwise it is a user name (SpecialLog::parseParams).
_LOG_TYPES = frozenset(
    """abusefilter abusefilterblockeduser block contentmodel create delete gblblock gblrename
    gblrights globalauth import interwiki lock managetags massmessage merge move newusers
    notifytranslators oath pagetranslation pagetriage-curation pagetriage-deletion patrol
    protect renameuser review rights spamblacklist stable suppress tag thanks timedmediahandler
    titleblacklist translationreview upload urlshortener usermerge""".split()
)
_LOG_ALL = ("*", "all")

# Actions (Action::getActionName) that show a page, its history or metadata.
_PAGE_ACTIONS = frozenset(
    {"history", "info", "edit", "submit", "raw", "protect", "unprotect", "delete", "watch",
     "unwatch", "purge", "credits", "markpatrolled", "rollback", "revert", "mcrundo",
     "mcrrestore", "revisiondelete", "editchangetags"}
)
_REVISION_ACTIONS = frozenset({"edit", "submit", "raw"})


def _error(text: str, code: str) -> dict:
    return {"input": text, "error": code}


class _Parser:
    def __init__(
        self, context_wiki: str | None, registry: WikiRegistry, siteinfo_for: SiteInfoLookup
    ) -> None:
        self.registry = registry
        self.siteinfo = memoize_siteinfo(siteinfo_for)
        self.context: Wiki | None = None
        if context_wiki:
            self.context, _ = registry.check(context_wiki)

    # -- entry points -----------------------------------------------------------------------

    def parse(self, text: str) -> dict:
        result = self._dispatch(text.strip())
        if "error" in result:
            return _error(text, result["error"])
        return {"input": text, **result}

    def _dispatch(self, text: str) -> dict:
        if not text or len(text) > MAX_INPUT_LENGTH:
            return {"error": "not-a-link"}
        text = _unwrap(text)
        if text.startswith("[[") and text.endswith("]]"):
            return self._wikilink(text[2:-2])
        if text.startswith("{{") and text.endswith("}}"):
            return self._template(text[2:-2])
        if text.startswith("[") and text.endswith("]") and len(text) > 2:
            # An external link in wikitext: [url label].
            words = text[1:-1].split(None, 1)
            if not words or not _looks_like_url(words[0]):
                return {"error": "not-a-link"}
            return self._url(words[0])
        if _looks_like_url(text):
            return self._url(text)
        if ":" in text:
            return self._bare_title(text)
        return {"error": "not-a-link"}

    # -- URLs -------------------------------------------------------------------------------

    def _url(self, text: str) -> dict:
        # Browsers drop tabs and newlines inside URLs and read "\" as "/" in http(s) URLs.
        text = re.sub(r"[\t\n\r]", "", text)
        scheme_match = _SCHEME.match(text)
        if scheme_match:
            if scheme_match.group(1).lower() not in ("http", "https"):
                return {"error": "unsupported"}
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
            return {"error": "not-a-link"}
        before_fragment, hash_sign, fragment = remainder.partition("#")
        path, _, query = before_fragment.partition("?")
        if _is_short_url_host(authority):
            return self._short_url(path)
        wiki, error = self.registry.check(authority)
        if wiki is None:
            return {"error": error or "unknown-wiki"}
        decoded_fragment = raw_url_decode(fragment) if hash_sign and fragment else None
        return self._request(wiki, path or "/", parse_query(query), decoded_fragment)

    def _short_url(self, path: str) -> dict:
        code = raw_url_decode(path.lstrip("/"))
        if not _SHORT_CODE.match(code):
            return {"error": "unsupported"}
        return {"wiki": SHORT_URL_HOST, "kind": "shorturl", "code": code}

    def _request(self, wiki: Wiki, path: str, params: Params, fragment: str | None) -> dict:
        matched, path_title = self._title_from_path(wiki, path)
        if not matched:
            return {"error": "unsupported"}
        title_text = path_title if path_title else params.get_val("title")
        title: ParsedTitle | None = None
        if title_text:
            parsed = split_title(title_text, wiki, self.registry, self.siteinfo)
            if isinstance(parsed, str):
                return {"error": parsed}
            title = parsed
            if parsed.wiki != wiki:
                if params.get_int("curid") == 0 and not _has_revision_id(params):
                    # MediaWiki redirects an interwiki title to the other wiki, query included.
                    return self._interpret(parsed.wiki, parsed, params, fragment)
                title = None
        return self._interpret(wiki, title, params, fragment)

    def _title_from_path(self, wiki: Wiki, path: str) -> tuple[bool, str | None]:
        """PathRouter: the title in ``/wiki/<t>``, ``<script>/<t>`` or a variant path."""
        script_path = wiki.script_path
        layouts = [("/wiki/$1", script_path + "/index.php", None, ())]
        info: SiteInfo | None = None
        for attempt in range(2):
            for layout in layouts:
                for candidate in (path, _normalized_path(path)):
                    result = _match_path(candidate, script_path, *layout)
                    if result[0]:
                        return result
            if attempt == 0:
                info = self.siteinfo(wiki)
                if info is None:
                    break
                layouts = [
                    (info.article_path, info.script, info.variant_article_path, info.variants)
                ]
        return False, None

    # -- what index.php does with a title and parameters -------------------------------------

    def _interpret(
        self, wiki: Wiki, title: ParsedTitle | None, params: Params, fragment: str | None
    ) -> dict:
        fragment = fragment or (title.fragment if title else None)
        curid = params.get_int("curid")
        if curid == 0 and title is not None and title.namespace == NS_SPECIAL:
            return self._with_fragment(self._special(wiki, title, params), fragment)
        if curid < 0 or curid > MAX_ID:
            return {"error": "bad-id"}
        page_ref: dict = (
            {"pageid": curid} if curid else ({"title": title.text} if title and title.text else {})
        )
        action = _action_name(params)
        if action in ("view", "render"):
            result = self._view(wiki, title, params, page_ref, fragment)
        elif action in _REVISION_ACTIONS and (params.get_int_or_null("oldid") or 0) > 0:
            result = self._revision(wiki, params.get_int_or_null("oldid") or 0, None)
        elif action in _PAGE_ACTIONS and page_ref and not _has_revision_id(params):
            result = {"wiki": wiki.host, "kind": "page", **page_ref}
        else:
            result = {"error": "unsupported"}
        return self._with_fragment(result, fragment)

    def _view(
        self,
        wiki: Wiki,
        title: ParsedTitle | None,
        params: Params,
        page_ref: dict,
        fragment: str | None,
    ) -> dict:
        oldid = params.get_int_or_null("oldid") or 0
        raw_direction = params.get_val("direction")
        direction = raw_direction if raw_direction in ("prev", "next") else None
        if params.get_check("diff"):
            return self._diff(wiki, oldid, params.get_val("diff") or "", direction, title, page_ref)
        if oldid:
            return self._revision(wiki, oldid, direction)
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
        self,
        wiki: Wiki,
        oldid: int,
        diff: str,
        direction: str | None,
        title: ParsedTitle | None,
        page_ref: dict,
    ) -> dict:
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
        result: dict = {"wiki": wiki.host, "kind": "diff", "oldid": old, "newid": newid}
        if isinstance(newid, int) and old is not None and old > newid:
            result["reversed"] = True
        if direction and old is not None:
            result["direction"] = direction
        if title is not None and title.text:
            result["title"] = title.text
        return result

    def _revision(self, wiki: Wiki, revid: int, direction: str | None) -> dict:
        if revid <= 0 or revid > MAX_ID:
            return {"error": "bad-revision-id"}
        result: dict = {"wiki": wiki.host, "kind": "revision", "revid": revid}
        if direction:
            result["direction"] = direction
        return result

    # -- special pages ----------------------------------------------------------------------

    def _special(self, wiki: Wiki, title: ParsedTitle, params: Params) -> dict:
        name, subpage, siteinfo_missing = resolve_special_page(title.dbkey, wiki, self.siteinfo)
        if name is None:
            return {"error": "siteinfo-unavailable" if siteinfo_missing else "unsupported"}
        handler: Callable[[Wiki, str | None, Params], dict] | None = {
            "Diff": self._special_diff,
            "PermanentLink": self._special_permanent_link,
            "Redirect": self._special_redirect,
            "ComparePages": self._special_compare_pages,
            "MobileDiff": self._special_mobile_diff,
            "Log": self._special_log,
            "Contributions": self._special_contributions,
            "GoToComment": self._special_go_to_comment,
            "PageHistory": self._special_page_action,
            "EditPage": self._special_page_action,
            "PageInfo": self._special_page_action,
        }.get(name)
        if handler is None:
            return {"error": "unsupported"}
        return handler(wiki, subpage, params)

    def _special_diff(self, wiki: Wiki, subpage: str | None, params: Params) -> dict:
        """SpecialDiff::getRedirect: N -> diff=N; M/N -> oldid=M&diff=N; anything else: a form."""
        parts = subpage.split("/") if subpage is not None else []
        if len(parts) == 1 and parts[0] != "":
            redirect = Params({"diff": parts[0]})
        elif len(parts) == 2:
            redirect = Params({"oldid": parts[0], "diff": parts[1]})
        else:
            return {"error": "unsupported"}
        return self._interpret(wiki, None, redirect, None)

    def _special_permanent_link(self, wiki: Wiki, subpage: str | None, params: Params) -> dict:
        """SpecialPermanentLink::getRedirect: intval of the subpage, 0 shows the form."""
        revid = php_intval(subpage)
        if revid == 0:
            return {"error": "unsupported"}
        return self._interpret(wiki, None, Params({"oldid": str(revid)}), None)

    def _special_redirect(self, wiki: Wiki, subpage: str | None, params: Params) -> dict:
        """SpecialRedirect::dispatch: <type>/<digits> for revision, page, logid and user."""
        if subpage is None:
            return {"error": "unsupported"}
        kind, slash, value = subpage.partition("/")
        if kind not in ("revision", "page", "logid", "user"):
            return {"error": "unsupported"}
        if not slash or not ctype_digit(value) or int(value) == 0 or int(value) > MAX_ID:
            return {"error": "bad-revision-id" if kind == "revision" else "bad-id"}
        number = int(value)
        if kind == "revision":
            return self._revision(wiki, number, None)
        if kind == "page":
            return {"wiki": wiki.host, "kind": "page", "pageid": number}
        if kind == "logid":
            return {"wiki": wiki.host, "kind": "log", "logid": number}
        return {"wiki": wiki.host, "kind": "contribs", "userid": number}

    def _special_compare_pages(self, wiki: Wiki, subpage: str | None, params: Params) -> dict:
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
        result: dict = {"wiki": wiki.host, "kind": "diff", "oldid": revs[0], "newid": revs[1]}
        if revs[0] > revs[1]:
            result["reversed"] = True
        return result

    def _special_mobile_diff(self, wiki: Wiki, subpage: str | None, params: Params) -> dict:
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
            result: dict = {"wiki": wiki.host, "kind": "diff", "oldid": old, "newid": new}
            if old > new:
                result["reversed"] = True
            return result
        new = php_intval(parts[0])
        if new == 0:
            return {"error": "unsupported"}
        if not 0 < new <= MAX_ID:
            return {"error": "bad-revision-id"}
        return {"wiki": wiki.host, "kind": "diff", "oldid": None, "newid": new}

    def _special_log(self, wiki: Wiki, subpage: str | None, params: Params) -> dict:
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
        result: dict = {
            "wiki": wiki.host,
            "kind": "log",
            "log_type": log_type if log_type in _LOG_TYPES else None,
        }
        if normalize_text(page):
            result["title"] = normalize_text(page)
        if _normalize_user(user):
            result["user"] = _normalize_user(user)
        return result

    def _special_contributions(self, wiki: Wiki, subpage: str | None, params: Params) -> dict:
        """SpecialContributions::execute: the subpage, else ?target=."""
        target = subpage if subpage is not None else (params.get_val("target") or "")
        user = _normalize_user(target)
        if not user:
            return {"error": "unsupported"}
        return {"wiki": wiki.host, "kind": "contribs", "user": user}

    def _special_go_to_comment(self, wiki: Wiki, subpage: str | None, params: Params) -> dict:
        if not subpage:
            return {"error": "unsupported"}
        return {"wiki": wiki.host, "kind": "comment", "comment_id": subpage}

    def _special_page_action(self, wiki: Wiki, subpage: str | None, params: Params) -> dict:
        """SpecialRedirectWithAction (PageHistory, EditPage, PageInfo): the subpage's page."""
        text = normalize_text(subpage or "")
        if not text:
            return {"error": "unsupported"}
        return {"wiki": wiki.host, "kind": "page", "title": text}

    # -- wikitext forms ---------------------------------------------------------------------

    def _wikilink(self, inner: str) -> dict:
        target = html.unescape(inner.split("|", 1)[0])
        if "%" in target:
            target = raw_url_decode(target)
        if self.context is None:
            return {"error": "no-context-wiki"}
        if not target.strip(" _:"):
            return {"error": "not-a-link"}
        parsed = split_title(target, self.context, self.registry, self.siteinfo)
        if isinstance(parsed, str):
            return {"error": parsed}
        return self._interpret(parsed.wiki, parsed, Params(), None)

    def _template(self, inner: str) -> dict:
        """Wikimedia's evidence templates: {{diff|page|diff|oldid|label}}, {{diff2|N|label}},
        {{oldid|page|oldid|label}}, {{oldid2|N|label}} — expanded as their code does."""
        if self.context is None:
            return {"error": "no-context-wiki"}
        pieces = [html.unescape(piece) for piece in inner.split("|")]
        if len(pieces) < 2:
            return {"error": "not-a-link"}
        name = normalize_text(pieces[0]).lower()
        positional: list[str] = []
        named: dict[str, str] = {}
        for piece in pieces[1:]:
            key, equals, value = piece.partition("=")
            if equals and key.strip().isidentifier():
                named[key.strip()] = value.strip()
            else:
                positional.append(piece.strip())

        def arg(key: str, position: int) -> str:
            if key in named:
                return named[key]
            return positional[position] if len(positional) > position else ""

        if name == "diff2":
            return self._special_diff(self.context, arg("diff", 0), Params())
        if name == "oldid2":
            return self._special_permanent_link(self.context, arg("oldid", 0), Params())
        if name == "diff":
            params = Params({"diff": arg("diff", 1), "oldid": arg("oldid", 2)})
        elif name == "oldid":
            params = Params({"oldid": arg("oldid", 1)})
        else:
            return {"error": "not-a-link"}
        page = arg("page", 0)
        title: ParsedTitle | None = None
        if page:
            parsed = split_title(page, self.context, self.registry, self.siteinfo)
            if isinstance(parsed, str):
                return {"error": parsed}
            title = parsed if parsed.wiki == self.context else None
        return self._interpret(self.context, title, params, None)

    def _bare_title(self, text: str) -> dict:
        """``Special:Diff/5`` typed without brackets: a title on the context wiki."""
        if self.context is None:
            return {"error": "no-context-wiki"}
        parsed = split_title(text, self.context, self.registry, self.siteinfo)
        if isinstance(parsed, str):
            return {"error": parsed}
        if parsed.namespace != NS_SPECIAL:
            return {"error": "not-a-link"}
        return self._interpret(parsed.wiki, parsed, Params(), None)

    @staticmethod
    def _with_fragment(result: dict, fragment: str | None) -> dict:
        """Keep the fragment, unless it already became the comment id."""
        if fragment and "error" not in result and result.get("comment_id") != fragment:
            result["fragment"] = fragment
        return result

    def is_bare_special_title(self, token: str) -> bool:
        """Whether a prose token is a special page title on the context wiki."""
        if self.context is None or ":" not in token or "/" not in token:
            return False
        parsed = split_title(token, self.context, self.registry, self.siteinfo)
        return not isinstance(parsed, str) and parsed.namespace == NS_SPECIAL


# -- helpers ----------------------------------------------------------------------------------


def _unwrap(text: str) -> str:
    """Drop the angle brackets or quotes people put around a pasted link."""
    pairs = {"<": ">", '"': '"', "'": "'", "“": "”", "«": "»", "(": ")"}
    while len(text) >= 2 and text[0] in pairs and text[-1] == pairs[text[0]]:
        text = text[1:-1].strip()
    return text


def _looks_like_url(text: str) -> bool:
    if _SCHEME.match(text) or text.startswith("//"):
        return True
    authority = re.split(r"[/?#\\]", text, maxsplit=1)[0]
    if not authority or len(authority) > _MAX_AUTHORITY_LENGTH:
        return False
    return bool(_HOSTISH_AUTHORITY.match(authority))


def _is_short_url_host(authority: str) -> bool:
    host = authority.lower()
    return (host[:-1] if host.endswith(".") else host) == SHORT_URL_HOST


def _has_revision_id(params: Params) -> bool:
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


def _php_truthy(value: str) -> bool:
    return value not in ("", "0")


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


def _normalize_user(name: str) -> str:
    """A user name as MediaWiki stores it: spaces, first letter upper case, IPs sanitised."""
    text = normalize_text(name.replace("_", " "))
    if not text:
        return ""
    ip_text, slash, prefix = text.partition("/")
    try:
        address = ipaddress.ip_address(ip_text)
    except ValueError:
        address = None
    if address is not None and (not slash or prefix.isdigit()):
        if address.version == 6:
            groups = address.exploded.split(":")
            ip_text = ":".join(group.lstrip("0") or "0" for group in groups).upper()
        else:
            ip_text = str(address)
        return ip_text + (f"/{int(prefix)}" if slash else "")
    return text[0].upper() + text[1:]


# -- public API -------------------------------------------------------------------------------


def parse_link(
    one: str,
    context_wiki: str | None,
    registry: WikiRegistry,
    siteinfo_for: Callable[[Wiki], SiteInfo | None] = lambda wiki: None,
) -> dict:
    """Parse one pasted item (URL, ``[[wikilink]]``, ``{{diff|...}}`` or special page title).

    ``context_wiki`` is the host the reporter came from; wikilinks, templates and bare titles are
    read on it.  Never raises: an unexpected failure is reported as ``unsupported``.
    """
    try:
        return _Parser(context_wiki, registry, siteinfo_for).parse(one)
    except Exception:  # noqa: BLE001 - pasted text must never break the form
        return _error(one, "unsupported")


_WIKILINK = re.compile(r"\[\[([^\[\]\n]{1,1000}?)\]\]")
_TEMPLATE = re.compile(r"\{\{\s*[Dd]iff2?\s*\|[^{}\n]{0,1000}\}\}|\{\{\s*[Oo]ldid2?\s*\|[^{}\n]{0,1000}\}\}")
_TOKEN = re.compile(r"\S+")
# MediaWiki's free external links end before these characters.
_URL_END = re.compile(r"[\[\]<>\"\x00-\x20\x7f\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\ufffd]")
_LEADING_JUNK = "([<\"'“«"
_TRAILING_SEPARATORS = ",;.:!?\"'”»>"


def _trim_token(token: str) -> str:
    """Parser::makeFreeExternalLink: drop trailing punctuation, and ")" unless "(" is inside."""
    token = token.lstrip(_LEADING_JUNK)
    end = _URL_END.search(token)
    if end:
        token = token[: end.start()]
    while token:
        separators = _TRAILING_SEPARATORS + ("" if "(" in token else ")")
        if token[-1] in separators:
            token = token[:-1]
        else:
            break
    return token


def _find_items(parser: _Parser, line: str) -> list[tuple[int, str]]:
    items: list[tuple[int, str]] = []
    blanked = list(line)
    for pattern in (_WIKILINK, _TEMPLATE):
        for match in pattern.finditer("".join(blanked)):
            items.append((match.start(), match.group(0)))
            blanked[match.start():match.end()] = " " * (match.end() - match.start())
    rest = "".join(blanked)
    for match in _TOKEN.finditer(rest):
        token = _trim_token(match.group(0))
        if not token or len(token) > MAX_INPUT_LENGTH:
            continue
        scheme = _SCHEME.search(token)
        if scheme:
            # Prose glued to a URL ("see:https://..."): the link starts at its scheme.
            items.append((match.start() + scheme.start(), token[scheme.start():]))
        elif token.startswith("//") or ("/" in token and _looks_like_url(token)):
            items.append((match.start(), token))
        elif parser.is_bare_special_title(token):
            items.append((match.start(), token))
    items.sort(key=lambda item: item[0])
    return items


def parse_evidence(
    text: str,
    context_wiki: str | None,
    registry: WikiRegistry,
    siteinfo_for: Callable[[Wiki], SiteInfo | None] = lambda wiki: None,
) -> list[dict]:
    """Every link in a textarea, in order, each parsed like ``parse_link``.

    Links may be one per line or mixed with prose.  A line that holds a single word which is not
    a link is reported as ``not-a-link`` (it was probably meant as one); other prose is skipped.
    """
    parser = _Parser(context_wiki, registry, siteinfo_for)
    results: list[dict] = []
    for line in (text or "").splitlines():
        try:
            items = _find_items(parser, line)
        except Exception:  # noqa: BLE001 - pasted text must never break the form
            items = []
        if not items:
            words = line.split()
            if len(words) == 1:
                results.append(_error(words[0], "not-a-link"))
            continue
        for _, item in items:
            try:
                results.append(parser.parse(item))
            except Exception:  # noqa: BLE001
                results.append(_error(item, "unsupported"))
    return results
