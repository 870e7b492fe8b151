"""Reading a block of changed wikitext: its readable text, signatures, pings and user links.

Every step is bounded, because the text comes from anyone who can edit a wiki:

- mwparserfromhell gives the best readable text and the exact templates and links, but it is
  superlinear on unclosed structures (1,000 characters of ``{{a|`` cost 12 ms, 8,000 cost
  1.2 s) and slow on tables. It only reads blocks that fit the analysis's ``parse_chars``
  budget *and* pass :func:`safe_to_parse` (brackets and braces balanced and nested, few tags,
  no table). Everything else is read by regular expressions written to run in linear time
  (no nested or overlapping quantifiers), which find the same facts with a rougher text.
- Only the first ``scan_chars`` of changed text are searched and the first ``read_chars`` made
  readable, and only so many user links, timestamps and pinged names are looked at (the
  budget's fields). Whatever is cut sets ``budget.limited``.

Namespace names are localised (see ``namespace_names_from_siteinfo`` in ``wikitext``).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator, Mapping
from itertools import islice
from typing import Literal

import mwparserfromhell
from mwparserfromhell.parser import ParserError

from reporting.evidence.linediff import Budget
from reporting.evidence.types import Signature
from reporting.identity.usernames import canonical_username

__all__ = [
    "CANONICAL_NAMESPACES",
    "DEFAULT_CONTRIBUTIONS_ALIASES",
    "PING_TEMPLATES",
    "Structures",
    "UserLinkMatcher",
    "cut_at_line",
    "read_block",
    "readable_text",
    "safe_to_parse",
]

NS_SPECIAL, NS_USER, NS_USER_TALK = -1, 2, 3
CANONICAL_NAMESPACES: dict[str, int] = {"Special": NS_SPECIAL, "User": NS_USER, "User talk": NS_USER_TALK}
DEFAULT_CONTRIBUTIONS_ALIASES: tuple[str, ...] = ("Contributions",)
#: Templates whose positional parameters are users being notified (names compared case-insensitively,
#: `_` = space). The common English ones and their widespread translations.
PING_TEMPLATES = frozenset({
    "ping", "re", "reply", "reply to", "replyto", "reply-to", "yo", "mention", "u", "user",
    "ping2", "antwort", "pingback", "notify", "hi",
})
#: Users one ping template can notify (Echo's own limit, $wgEchoMaxMentionsCount).
MAX_PINGS_PER_TEMPLATE = 50
#: Tags (``<``) a block may hold and still be given to mwparserfromhell.
MAX_PARSED_TAGS = 16
#: Longest text `readable_text` parses with mwparserfromhell (a heading, a short snippet).
MAX_READABLE_PARSE = 500

Structures = dict[str, list]

# A signature timestamp: "12:34, 5 January 2024 (UTC)", "12:34, 5. Jan. 2024 (CET)",
# "2024年1月5日 (金) 12:34 (UTC)". A time and a 4-digit year close together, then a time zone in
# parentheses. Deliberately loose: the time zone abbreviation and the date words are localised.
# Every quantifier is bounded or cannot overlap its neighbour, and nothing crosses a line.
_TIMESTAMP_RE = re.compile(
    r"(?:(?<!\d)\d{1,2}:\d{2}(?!\d)[^\n\[\]{}|<>]{1,40}?(?<!\d)\d{4}(?!\d)"
    r"|(?<!\d)\d{4}(?!\d)[^\n\[\]{}|<>]{1,40}?(?<!\d)\d{1,2}:\d{2}(?!\d))"
    r"[^\S\n]*\((?:UTC|GMT|[A-Za-z]{2,6}|UTC[+\-−]\d{1,2}(?::?\d{2})?|[^\s()\[\]]{1,8})\)"
)
# {{name|params}}: the leading spaces are taken possessively and the name starts with a
# non-space, so they cannot trade characters (which made "{{" + many spaces quadratic).
_PING_RE = re.compile(r"\{\{\s*+(?:[Tt]emplate:)?([^{}|\s][^{}|]*)\|([^{}]*)\}\}")
_BALANCE_RE = re.compile(r"\{\{|\}\}|\[\[|\]\]")


# --- user links ----------------------------------------------------------------------------------


class UserLinkMatcher:
    """Recognises link targets that name a user: User:X, User talk:X(/sub), Special:Contributions/X,
    under every localised name."""

    def __init__(self, namespaces: Mapping[str, int] | None, contributions_aliases: Iterable[str]):
        names = dict(CANONICAL_NAMESPACES)
        names.update(namespaces or {})
        self.user_namespaces = {fold(name) for name, number in names.items() if number in (NS_USER, NS_USER_TALK)}
        self.special_namespaces = {fold(name) for name, number in names.items() if number == NS_SPECIAL}
        self.contributions = {fold(alias) for alias in [*contributions_aliases, *DEFAULT_CONTRIBUTIONS_ALIASES]}
        alternatives = sorted({re.escape(name).replace(r"\ ", "[ _]+") for name, number in names.items()
                               if number in (NS_SPECIAL, NS_USER, NS_USER_TALK)}, key=len, reverse=True)
        # Raw-text link finder (signatures need positions): a link closed on its line, as
        # MediaWiki needs. Possessive "\s*+(?::\s*+)?" rather than "\s*:?\s*": "[[" and many
        # spaces made the latter quadratic; the label class cannot overlap the target's.
        self.link_re = re.compile(r"\[\[\s*+(?::\s*+)?((?i:" + "|".join(alternatives)
                                  + r"))\s*+:([^\[\]|#\n]*)(?:[|#][^\[\]\n]*)?\]\]")

    def user_of(self, namespace: str, rest: str) -> str | None:
        folded = fold(namespace)
        if folded in self.user_namespaces:
            return canonical_username(rest.split("/", 1)[0])
        if folded in self.special_namespaces:
            page, _, target = rest.partition("/")
            if fold(page) in self.contributions and target:
                return canonical_username(target)
        return None

    def user_of_title(self, title: str) -> str | None:
        title = title.strip().lstrip(":").strip()
        namespace, sep, rest = title.partition(":")
        if not sep:
            return None
        return self.user_of(namespace, rest.split("#", 1)[0])

    def links(self, text: str, budget: Budget) -> tuple[list[tuple[int, str]], int]:
        """(position, user) of the user links in raw text, within the budget's links, and
        where the search stopped (``len(text)`` when it did not)."""
        matches, stop = _capped(self.link_re.finditer(text), budget, "links", len(text))
        return [(match.start(), user) for match in matches
                if (user := self.user_of(match.group(1), match.group(2)))], stop


# --- reading a block -------------------------------------------------------------------------------


def read_block(wikitext: str, matcher: UserLinkMatcher, budget: Budget) -> tuple[str, Structures, bool]:
    """(readable text, structures, complete) of a block of whole lines, within ``budget``.

    ``complete`` is False when the budget cut the search for structures short: the caller must
    then not compare this block's structures with the other side's (a signature found on one
    side only would look new).
    """
    if not wikitext.strip():
        return "", {"signatures": [], "pings": [], "user_links": []}, True
    already_limited, budget.limited = budget.limited, False
    try:
        return _read(wikitext, matcher, budget)
    finally:
        budget.limited = budget.limited or already_limited


def _read(wikitext: str, matcher: UserLinkMatcher, budget: Budget) -> tuple[str, Structures, bool]:
    if len(wikitext) > budget.scan_chars:
        budget.limited = True
        wikitext = cut_at_line(wikitext, budget.scan_chars)
    budget.scan_chars -= len(wikitext)
    links, stop = matcher.links(wikitext, budget)
    signatures = _signatures(wikitext, links, stop, budget)
    if len(wikitext) <= budget.parse_chars and safe_to_parse(wikitext):
        budget.parse_chars -= len(wikitext)
        try:
            code = mwparserfromhell.parse(wikitext)
            parsed_pings = [user for template in code.filter_templates(recursive=True)
                            if _template_name(template) in PING_TEMPLATES for user in _ping_users(template)]
            parsed_links = [user for link in code.filter_wikilinks(recursive=True)
                            if (user := matcher.user_of_title(str(link.title)))]
            return (_readable(code), {"signatures": signatures, "pings": parsed_pings, "user_links": parsed_links},
                    not budget.limited)
        except (ParserError, ValueError, RecursionError):
            pass
    user_links = [user for _, user in links]
    pings: list[str] = []
    for match in _capped(_PING_RE.finditer(wikitext), budget, "pings", len(wikitext))[0]:
        if fold(match.group(1)) in PING_TEMPLATES:
            names = _ping_names(match.group(2))
            budget.pings -= len(names)
            if budget.pings < 0:
                budget.pings, budget.limited = 0, True
                break
            pings += names
    complete = not budget.limited
    readable_part = wikitext
    if len(readable_part) > budget.read_chars:
        budget.limited = True
        readable_part = cut_at_line(readable_part, budget.read_chars)
    budget.read_chars -= len(readable_part)
    return crude_readable(readable_part), {"signatures": signatures, "pings": pings, "user_links": user_links}, complete


def safe_to_parse(wikitext: str) -> bool:
    """Whether mwparserfromhell reads this text in about linear time: every ``{{``/``[[`` closed
    in order, few tags, no table, no template parameter (``{{{``). Linear itself."""
    if wikitext.count("<") > MAX_PARSED_TAGS or "{|" in wikitext or "{{{" in wikitext:
        return False
    open_brackets: list[str] = []
    for match in _BALANCE_RE.finditer(wikitext):
        token = match.group(0)
        if token in ("{{", "[["):
            open_brackets.append(token)
        elif not open_brackets or open_brackets.pop() != ("{{" if token == "}}" else "[["):
            return False
    return not open_brackets


def cut_at_line(text: str, limit: int) -> str:
    """At most ``limit`` characters of ``text``, ending at a line break when there is one."""
    if len(text) <= limit:
        return text
    end = text.rfind("\n", 0, limit)
    return text[:end + 1] if end > 0 else text[:limit]


def _capped(matches: Iterator[re.Match[str]], budget: Budget, kind: Literal["links", "stamps", "pings"],
            end: int) -> tuple[list[re.Match[str]], int]:
    """The matches, up to what is left of the budget for their ``kind``, and where the first
    match not taken starts (``end`` when all were taken)."""
    left: int = getattr(budget, kind)
    found = list(islice(matches, left + 1))
    stop = end
    if len(found) > left:
        budget.limited = True
        stop = found[left].start()
        del found[left:]
    setattr(budget, kind, left - len(found))
    return found, stop


def _signatures(wikitext: str, links: list[tuple[int, str]], stop: int, budget: Budget) -> list[Signature]:
    """A timestamp signs for the last user link before it on its line, after the previous timestamp.

    ``links``: (position, user) of the user links; ``stop``: where the budget stopped the search
    for them. Timestamps after that point are not paired: the link that signs for them may be
    one that was not found.
    """
    if not links:
        return []
    signatures: list[Signature] = []
    index = 0
    previous_end = 0
    for stamp in _capped(_TIMESTAMP_RE.finditer(wikitext, 0, stop), budget, "stamps", stop)[0]:
        start = stamp.start()
        floor = max(previous_end, wikitext.rfind("\n", 0, start) + 1)
        while index < len(links) and links[index][0] < floor:
            index += 1
        last = index
        while last < len(links) and links[last][0] < start:
            last += 1
        if last > index:
            signatures.append({"user": links[last - 1][1], "timestamp": stamp.group(0).strip()})
        index = last
        previous_end = stamp.end()
    return signatures


def _template_name(template) -> str:
    return fold(str(template.name).strip().split(":", 1)[-1] if str(template.name).lower().startswith("template:")
                else str(template.name))


def _ping_names(params: str) -> list[str]:
    """The users named by a ping template's positional parameters (``a|b|c``), at most
    :data:`MAX_PINGS_PER_TEMPLATE`."""
    pieces = params.split("|", MAX_PINGS_PER_TEMPLATE * 2)[:MAX_PINGS_PER_TEMPLATE * 2]  # not the unsplit rest
    names = (name for name in pieces if name.strip() and "=" not in name)
    return [user for name in islice(names, MAX_PINGS_PER_TEMPLATE) if (user := canonical_username(name))]


def _ping_users(template) -> list[str]:
    users: list[str] = []
    for param in template.params[:MAX_PINGS_PER_TEMPLATE * 2]:
        if param.showkey or len(users) >= MAX_PINGS_PER_TEMPLATE:
            continue
        name = canonical_username(mwparserfromhell.parse(str(param.value)).strip_code())
        if name:
            users.append(name)
    return users


# --- readable text ------------------------------------------------------------------------------


def readable_text(wikitext: str) -> str:
    """Wikitext as a reader would see it, roughly: markup stripped, links as their labels,
    pings as "@User". Never raises; short well-formed text is parsed by mwparserfromhell,
    the rest read by linear regular expressions."""
    if not wikitext.strip():
        return ""
    if len(wikitext) <= MAX_READABLE_PARSE and safe_to_parse(wikitext):
        try:
            return _readable(mwparserfromhell.parse(wikitext))
        except (ParserError, ValueError, RecursionError):
            pass
    return crude_readable(wikitext)


def _readable(code) -> str:
    """Readable text of parsed wikicode (mutates `code`: pings become "@User")."""
    for template in code.filter_templates(recursive=False):
        if _template_name(template) in PING_TEMPLATES:
            code.replace(template, " ".join("@" + user for user in _ping_users(template)))
    return tidy(code.strip_code(normalize=True, collapse=True))


_INNER_TEMPLATE_RE = re.compile(r"\{\{[^{}]*\}\}")
_WIKILINK_RE = re.compile(r"\[\[(?:[^\[\]|]*\|)?([^\[\]]*)\]\]")
# One separator character, then the label: "[ \t]+" before a label that may start with spaces
# would backtrack quadratically.
_EXTERNAL_LINK_RE = re.compile(r"\[(?:[a-zA-Z][a-zA-Z0-9+.\-]{0,20}:)?//[^\s\[\]]*(?:[ \t]([^\[\]\n]*))?\]")
_TAG_RE = re.compile(r"<[^<>]*>")
# A heading's text is found by str.strip in a callback: a regex with "=" runs and spaces on both
# sides of a lazy group backtracks quadratically on a long line of "=" or spaces.
_HEADING_LINE_RE = re.compile(r"^=[^\n]*", re.MULTILINE)
_LIST_MARK_RE = re.compile(r"^[*#:;]+[ \t]*", re.MULTILINE)


def crude_readable(wikitext: str) -> str:
    """Readable text by regular expressions only (linear time): comments, templates, tags and
    formatting dropped, links as their labels, pings as "@User"."""
    text = _strip_comments(wikitext)
    text = _PING_RE.sub(_ping_as_mentions, text)
    for _ in range(3):  # nested templates, innermost first
        text, count = _INNER_TEMPLATE_RE.subn("", text)
        if not count:
            break
    text = _WIKILINK_RE.sub(r"\1", text)
    text = _EXTERNAL_LINK_RE.sub(lambda m: m.group(1) or "", text)
    text = _TAG_RE.sub("", text)
    text = _HEADING_LINE_RE.sub(lambda m: m.group(0).strip(" \t="), text)
    text = _LIST_MARK_RE.sub("", text)
    text = re.sub(r"'{2,}", "", text)
    return tidy(html.unescape(text))


def _ping_as_mentions(match: re.Match[str]) -> str:
    if fold(match.group(1)) not in PING_TEMPLATES:
        return match.group(0)
    return " ".join("@" + name for name in _ping_names(match.group(2)))


def _strip_comments(text: str) -> str:
    """HTML comments removed; an unclosed one runs to the end, as in MediaWiki. Linear."""
    if "<!--" not in text:
        return text
    parts = []
    position = 0
    while (start := text.find("<!--", position)) != -1:
        parts.append(text[position:start])
        end = text.find("-->", start + 4)
        if end == -1:
            return "".join(parts)
        position = end + 3
    parts.append(text[position:])
    return "".join(parts)


def tidy(text: str) -> str:
    """Runs of spaces and tabs as one space, lines stripped, empty lines dropped (C-speed steps
    only: a block may have tens of thousands of lines)."""
    return "\n".join(filter(None, map(str.strip, re.sub(r"[ \t]+", " ", text).splitlines())))


def fold(name: str) -> str:
    return re.sub(r"[ _]+", " ", name).strip().casefold()
