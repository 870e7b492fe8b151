"""Turn pasted evidence (URLs, wikilinks, templates, bare special page titles) into link facts.

Pure: no network, no clock.  Every input yields a link dict, never an exception, and never names
a host outside the registry.  Each result is either ``{"input", "wiki", "kind", ...fields}`` with
kind one of ``diff``, ``revision``, ``page``, ``log``, ``contribs``, ``comment``, ``shorturl``, or
``{"input", "error": code}``; the fields of each kind are described by
:class:`reporting.evidence.types.EvidenceLink`.

The meaning of a link is MediaWiki's (1.39): the URL is split like a browser splits it and its
path read like ``PathRouter`` reads it (see ``urls``), ``index.php`` parameters like PHP and
``WebRequest`` read them (see ``mwrequest``), titles like ``MediaWikiTitleCodec`` (see
``titles``), what ``index.php`` shows for them like ``MediaWiki::parseTitle`` and ``Article`` (see
``index_php``), and each special page like its own class (see ``special_pages``).  This module
reads the forms people paste and finds them in prose.

Error codes: ``media-link`` (an image, video or other file, in any form: never accepted),
``not-a-link``, ``unknown-wiki``, ``forbidden-host``, ``private-wiki``, ``unsupported``,
``bad-revision-id``, ``bad-id`` (page, log or user id), ``no-context-wiki``
(a wikilink, template or bare title without a wiki to read it on), ``siteinfo-unavailable``
(a localised special page name while the wiki's aliases cannot be read: try again later).
"""

from __future__ import annotations

import html
import re

from reporting.evidence.index_php import IndexPhp, has_revision_id
from reporting.evidence.media import is_media_link
from reporting.evidence.mwrequest import MAX_ID, Params, parse_query, raw_url_decode
from reporting.evidence.special_pages import special_diff, special_permanent_link
from reporting.evidence.titles import (
    NS_SPECIAL,
    ParsedTitle,
    SiteInfoLookup,
    memoize_siteinfo,
    normalize_text,
    split_title,
)
from reporting.evidence.types import EvidenceLink
from reporting.evidence.urls import (
    SHORT_URL_HOST,
    URL_SCHEME,
    is_short_url_host,
    looks_like_url,
    short_url_code,
    split_url,
    title_from_path,
    unwrap,
)
from reporting.wiki.registry import Wiki, WikiRegistry

__all__ = ["MAX_ID", "SHORT_URL_HOST", "parse_evidence", "parse_link"]

MAX_INPUT_LENGTH = 4000


def _error(text: str, code: str) -> EvidenceLink:
    return {"input": text, "error": code}


class _Parser:
    def __init__(
        self, context_wiki: str | None, registry: WikiRegistry, siteinfo_for: SiteInfoLookup
    ) -> None:
        self.registry = registry
        self.siteinfo = memoize_siteinfo(siteinfo_for)
        self.index = IndexPhp(self.siteinfo)
        self.context: Wiki | None = None
        if context_wiki:
            self.context, _ = registry.check(context_wiki)

    # -- entry points -----------------------------------------------------------------------

    def parse(self, text: str) -> EvidenceLink:
        result = self._dispatch(text.strip())
        if "error" in result:
            return _error(text, result["error"])
        return {"input": text, **result}

    def _dispatch(self, text: str) -> EvidenceLink:
        if not text or len(text) > MAX_INPUT_LENGTH:
            return {"error": "not-a-link"}
        if is_media_link(text):
            # Files are refused in every form before anything else is read (reporting.evidence.media).
            return {"error": "media-link"}
        text = unwrap(text)
        if text.startswith("[[") and text.endswith("]]"):
            return self._wikilink(text[2:-2])
        if text.startswith("{{") and text.endswith("}}"):
            return self._template(text[2:-2])
        if text.startswith("[") and text.endswith("]") and len(text) > 2:
            # An external link in wikitext: [url label].
            words = text[1:-1].split(None, 1)
            if not words or not looks_like_url(words[0]):
                return {"error": "not-a-link"}
            return self._url(words[0])
        if looks_like_url(text):
            return self._url(text)
        if ":" in text:
            return self._bare_title(text)
        return {"error": "not-a-link"}

    # -- URLs -------------------------------------------------------------------------------

    def _url(self, text: str) -> EvidenceLink:
        parts = split_url(text)
        if isinstance(parts, str):
            return {"error": parts}
        if is_short_url_host(parts.authority):
            return self._short_url(parts.path)
        wiki, error = self.registry.check(parts.authority)
        if wiki is None:
            return {"error": error or "unknown-wiki"}
        decoded_fragment = raw_url_decode(parts.fragment) if parts.fragment else None
        return self._request(wiki, parts.path or "/", parse_query(parts.query), decoded_fragment)

    def _short_url(self, path: str) -> EvidenceLink:
        code = short_url_code(path)
        if code is None:
            return {"error": "unsupported"}
        return {"wiki": SHORT_URL_HOST, "kind": "shorturl", "code": code}

    def _request(self, wiki: Wiki, path: str, params: Params, fragment: str | None) -> EvidenceLink:
        matched, path_title = title_from_path(wiki, path, self.siteinfo)
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
                if params.get_int("curid") == 0 and not has_revision_id(params):
                    # MediaWiki redirects an interwiki title to the other wiki, query included.
                    return self.index.interpret(parsed.wiki, parsed, params, fragment)
                title = None
        return self.index.interpret(wiki, title, params, fragment)

    # -- wikitext forms ---------------------------------------------------------------------

    def _wikilink(self, inner: str) -> EvidenceLink:
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
        return self.index.interpret(parsed.wiki, parsed, Params(), None)

    def _template(self, inner: str) -> EvidenceLink:
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
            return special_diff(self.index, self.context, arg("diff", 0), Params())
        if name == "oldid2":
            return special_permanent_link(self.index, self.context, arg("oldid", 0), Params())
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
        return self.index.interpret(self.context, title, params, None)

    def _bare_title(self, text: str) -> EvidenceLink:
        """``Special:Diff/5`` typed without brackets: a title on the context wiki."""
        if self.context is None:
            return {"error": "no-context-wiki"}
        parsed = split_title(text, self.context, self.registry, self.siteinfo)
        if isinstance(parsed, str):
            return {"error": parsed}
        if parsed.namespace != NS_SPECIAL:
            return {"error": "not-a-link"}
        return self.index.interpret(parsed.wiki, parsed, Params(), None)

    def is_bare_special_title(self, token: str) -> bool:
        """Whether a prose token is a special page title on the context wiki."""
        if self.context is None or ":" not in token or "/" not in token:
            return False
        parsed = split_title(token, self.context, self.registry, self.siteinfo)
        return not isinstance(parsed, str) and parsed.namespace == NS_SPECIAL


# -- public API -------------------------------------------------------------------------------


def parse_link(
    one: str,
    context_wiki: str | None,
    registry: WikiRegistry,
    siteinfo_for: SiteInfoLookup = lambda wiki: None,
) -> EvidenceLink:
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
        scheme = URL_SCHEME.search(token)
        if scheme:
            # Prose glued to a URL ("see:https://..."): the link starts at its scheme.
            items.append((match.start() + scheme.start(), token[scheme.start():]))
        elif (token.startswith("//") or ("/" in token and looks_like_url(token))
              or parser.is_bare_special_title(token)):
            items.append((match.start(), token))
    items.sort(key=lambda item: item[0])
    return items


def parse_evidence(
    text: str,
    context_wiki: str | None,
    registry: WikiRegistry,
    siteinfo_for: SiteInfoLookup = lambda wiki: None,
) -> list[EvidenceLink]:
    """Every link in a textarea, in order, each parsed like ``parse_link``.

    Links may be one per line or mixed with prose.  A line that holds a single word which is not
    a link is reported as ``not-a-link`` (it was probably meant as one); other prose is skipped.
    """
    parser = _Parser(context_wiki, registry, siteinfo_for)
    results: list[EvidenceLink] = []
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
