"""What an edit did, computed locally from the two wikitexts (no I/O).

Why local: `action=compare` costs one request per diff and fails as a whole when a side
is hidden; fetching both revisions in batches and diffing here is cheaper and lets us
drop exactly what the public API hides.

Why only the changed hunks are parsed: parsing a whole 2 MB talk page with
mwparserfromhell takes seconds; an edit usually touches a few lines. So: trim the
common prefix and suffix (fast, memcmp-sized chunks), widen the middle to whole lines,
diff those lines with `difflib.SequenceMatcher(autojunk=False)`, and parse only the
added and removed line blocks. Structures (signatures, pings, user links) found in the
removed blocks are subtracted from those found in the added ones, so editing inside an
existing comment does not count its old signature as new.

Localisation: namespace names ("User", "Benutzer", "BD", ...) come from the wiki's
siteinfo (`namespace_names_from_siteinfo`); without them only the canonical English
names are known.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable, Mapping

import mwparserfromhell
from mwparserfromhell.parser import ParserError

from reporting.evidence.types import Analysis, Signature
from reporting.identity.usernames import canonical_username

NS_SPECIAL, NS_USER, NS_USER_TALK = -1, 2, 3
CANONICAL_NAMESPACES: dict[str, int] = {"Special": NS_SPECIAL, "User": NS_USER, "User talk": NS_USER_TALK}
DEFAULT_CONTRIBUTIONS_ALIASES: tuple[str, ...] = ("Contributions",)
#: Templates whose positional parameters are users being notified (names compared case-insensitively,
#: `_` = space). The common English ones and their widespread translations.
PING_TEMPLATES = frozenset({
    "ping", "re", "reply", "reply to", "replyto", "reply-to", "yo", "mention", "u", "user",
    "ping2", "antwort", "pingback", "notify", "hi",
})
#: Above this many tokens per side, a changed block is reported whole instead of word-diffed.
MAX_WORD_DIFF_TOKENS = 2000
#: Changed blocks longer than this are not given to mwparserfromhell (about 1.7 s per MB).
MAX_PARSE_CHARS = 200_000
_CHUNK = 4096

# A signature timestamp: "12:34, 5 January 2024 (UTC)", "12:34, 5. Jan. 2024 (CET)",
# "2024年1月5日 (金) 12:34 (UTC)". A time and a 4-digit year close together, then a time zone in
# parentheses. Deliberately loose: the time zone abbreviation and the date words are localised.
_TIMESTAMP_RE = re.compile(
    r"(?:(?<!\d)\d{1,2}:\d{2}(?!\d)[^\n\[\]{}|<>]{1,40}?(?<!\d)\d{4}(?!\d)"
    r"|(?<!\d)\d{4}(?!\d)[^\n\[\]{}|<>]{1,40}?(?<!\d)\d{1,2}:\d{2}(?!\d))"
    r"\s*\((?:UTC|GMT|[A-Za-z]{2,6}|UTC[+\-−]\d{1,2}(?::?\d{2})?|[^\s()\[\]]{1,8})\)"
)
_PING_RE = re.compile(r"\{\{\s*(?:[Tt]emplate:)?([^{}|]+)\|([^{}]*)\}\}")
_HEADING_RE = re.compile(r"^(={1,6})(.+?)\1[ \t]*$")


def analyze_change(old_text: str, new_text: str, namespaces: Mapping[str, int] | None = None,
                   contributions_aliases: Iterable[str] = DEFAULT_CONTRIBUTIONS_ALIASES) -> Analysis:
    """Describe the change from `old_text` to `new_text` (both wikitext).

    Returns {"added_text", "removed_text" (readable text, hunks separated by newlines),
    "signatures": [{"user", "timestamp"}] (new signatures, timestamp as written),
    "mentions": [user] (pinged by template or linked and not the signer),
    "user_links": [user] (new links to user pages / contributions),
    "section": heading of the section the change is in (None at the top of the page),
    "structured_data": False} (`reporting.evidence.types.Analysis`). `namespaces` maps
    localised namespace names and aliases to numbers (see `namespace_names_from_siteinfo`).
    """
    matcher = _UserLinkMatcher(namespaces, contributions_aliases)
    analysis: Analysis = {"added_text": "", "removed_text": "", "signatures": [], "mentions": [], "user_links": [],
                "section": None, "structured_data": False}
    if old_text == new_text:
        return analysis

    start, old_end, new_end = _changed_line_span(old_text, new_text)
    old_lines = old_text[start:old_end].splitlines(keepends=True)
    new_lines = new_text[start:new_end].splitlines(keepends=True)
    added_blocks: list[str] = []
    added: dict[str, list] = {"signatures": [], "pings": [], "user_links": []}
    removed: dict[str, list] = {"signatures": [], "pings": [], "user_links": []}
    added_readable: list[str] = []
    removed_readable: list[str] = []
    first_change_offset: int | None = None
    new_offset = start
    # Lines compare without their line break, so appending after a last line that had none is an insertion.
    old_keys = [line.rstrip("\r\n") for line in old_lines]
    new_keys = [line.rstrip("\r\n") for line in new_lines]
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old_keys, new_keys, autojunk=False).get_opcodes():
        new_block = "".join(new_lines[j1:j2])
        if tag == "equal":
            new_offset += len(new_block)
            continue
        if first_change_offset is None:
            first_change_offset = new_offset
        new_offset += len(new_block)
        old_block = "".join(old_lines[i1:i2])
        added_blocks.append(new_block)
        old_readable, old_structures = _read_block(old_block, matcher)
        new_readable, new_structures = _read_block(new_block, matcher)
        for key in added:
            added[key] += new_structures[key]
            removed[key] += old_structures[key]
        if tag == "replace":
            gained, lost = _word_changes(old_readable, new_readable)
            added_readable += gained
            removed_readable += lost
        else:
            if new_readable:
                added_readable.append(new_readable)
            if old_readable:
                removed_readable.append(old_readable)

    signatures = _subtract(added["signatures"], removed["signatures"])
    signers = {signature["user"] for signature in signatures}
    linked_not_signers = [user for user in _subtract(added["user_links"], removed["user_links"]) if user not in signers]
    mentions = _unique(_subtract(added["pings"], removed["pings"]) + linked_not_signers)

    analysis.update({
        "added_text": "\n".join(added_readable).strip(),
        "removed_text": "\n".join(removed_readable).strip(),
        "signatures": [{"user": user, "timestamp": stamp}
                       for user, stamp in dict.fromkeys((s["user"], s["timestamp"]) for s in signatures)],
        "mentions": mentions,
        "user_links": _unique(_subtract(added["user_links"], removed["user_links"])),
        "section": _section_of_change(new_text, first_change_offset if first_change_offset is not None else start,
                                      "".join(added_blocks)),
    })
    return analysis


def readable_text(wikitext: str) -> str:
    """Wikitext as a reader would see it, roughly: markup stripped, links as their labels,
    pings as "@User". Never raises (falls back to a crude regex strip on parser errors)."""
    if not wikitext.strip():
        return ""
    try:
        return _readable(mwparserfromhell.parse(wikitext))
    except (ParserError, ValueError, RecursionError):
        return _tidy(_crude_strip(wikitext))


def _readable(code) -> str:
    """Readable text of parsed wikicode (mutates `code`: pings become "@User")."""
    for template in code.filter_templates(recursive=False):
        if _template_name(template) in PING_TEMPLATES:
            code.replace(template, " ".join("@" + user for user in _ping_users(template)))
    return _tidy(code.strip_code(normalize=True, collapse=True))


def _tidy(text: str) -> str:
    lines = (re.sub(r"[ \t]+", " ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def namespace_names_from_siteinfo(siteinfo: dict) -> dict[str, int]:
    """Every name and alias of every namespace (local, canonical, aliases) -> its number,
    from a `meta=siteinfo&siprop=namespaces|namespacealiases` answer (formatversion=2)."""
    query = siteinfo.get("query", siteinfo)
    names: dict[str, int] = dict(CANONICAL_NAMESPACES)
    for namespace in query.get("namespaces", {}).values():
        for key in ("name", "canonical"):
            if namespace.get(key):
                names[namespace[key]] = int(namespace["id"])
    for alias in query.get("namespacealiases", []):
        names[alias["alias"]] = int(alias["id"])
    return names


def contributions_aliases_from_siteinfo(siteinfo: dict) -> tuple[str, ...]:
    """Local names of Special:Contributions (e.g. "Beiträge"), always with the English one."""
    query = siteinfo.get("query", siteinfo)
    for entry in query.get("specialpagealiases", []):
        if entry.get("realname") == "Contributions":
            return tuple(_unique(["Contributions", *entry.get("aliases", [])]))
    return DEFAULT_CONTRIBUTIONS_ALIASES


# --- diffing -----------------------------------------------------------------------------------


def _common_prefix_length(a: str, b: str) -> int:
    limit = min(len(a), len(b))
    i = 0
    while i + _CHUNK <= limit and a[i:i + _CHUNK] == b[i:i + _CHUNK]:
        i += _CHUNK
    while i < limit and a[i] == b[i]:
        i += 1
    return i


def _common_suffix_length(a: str, b: str, limit: int) -> int:
    i = 0
    la, lb = len(a), len(b)
    while i + _CHUNK <= limit and a[la - i - _CHUNK:la - i] == b[lb - i - _CHUNK:lb - i]:
        i += _CHUNK
    while i < limit and a[la - i - 1] == b[lb - i - 1]:
        i += 1
    return i


def _changed_line_span(old: str, new: str) -> tuple[int, int, int]:
    """(start, old_end, new_end): the smallest span of whole lines outside which both texts agree."""
    prefix = _common_prefix_length(old, new)
    suffix = _common_suffix_length(old, new, min(len(old), len(new)) - prefix)
    start = old.rfind("\n", 0, prefix) + 1
    old_end = len(old) - suffix
    # Extend the end to the end of its line; the common suffix is identical text in both.
    line_end = old.find("\n", old_end)
    tail = len(old) - (line_end + 1 if line_end != -1 else len(old))
    tail = min(tail, suffix)
    return start, len(old) - tail, len(new) - tail


_TOKEN_RE = re.compile(r"\w+|[^\w\s]|\s+")


def _word_changes(old: str, new: str) -> tuple[list[str], list[str]]:
    """Runs of words inserted into / deleted from `old` to give `new` (both readable text).

    Lines are matched first and only paired lines are word-diffed: word-level matching of
    whole blocks is quadratic in the number of repeated tokens (spaces, punctuation).
    """
    gained: list[str] = []
    lost: list[str] = []
    old_lines, new_lines = old.splitlines(), new.splitlines()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False).get_opcodes():
        if tag == "insert":
            gained += new_lines[j1:j2]
        elif tag == "delete":
            lost += old_lines[i1:i2]
        elif tag == "replace":
            pairs = (list(zip(old_lines[i1:i2], new_lines[j1:j2], strict=True)) if i2 - i1 == j2 - j1
                     else [("\n".join(old_lines[i1:i2]), "\n".join(new_lines[j1:j2]))])
            for old_part, new_part in pairs:
                more_gained, more_lost = _token_changes(old_part, new_part)
                gained += more_gained
                lost += more_lost
    return gained, lost


def _token_changes(old: str, new: str) -> tuple[list[str], list[str]]:
    old_tokens, new_tokens = _TOKEN_RE.findall(old), _TOKEN_RE.findall(new)
    if len(old_tokens) > MAX_WORD_DIFF_TOKENS or len(new_tokens) > MAX_WORD_DIFF_TOKENS:
        return ([new] if new else []), ([old] if old else [])
    gained: list[str] = []
    lost: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old_tokens, new_tokens, autojunk=False).get_opcodes():
        if tag in ("insert", "replace"):
            run = "".join(new_tokens[j1:j2]).strip()
            if run:
                gained.append(run)
        if tag in ("delete", "replace"):
            run = "".join(old_tokens[i1:i2]).strip()
            if run:
                lost.append(run)
    return gained, lost


# --- structures ---------------------------------------------------------------------------------


class _UserLinkMatcher:
    """Recognises link targets that name a user: User:X, User talk:X(/sub), Special:Contributions/X,
    under every localised name."""

    def __init__(self, namespaces: Mapping[str, int] | None, contributions_aliases: Iterable[str]):
        names = dict(CANONICAL_NAMESPACES)
        names.update(namespaces or {})
        self.user_namespaces = {_fold(name) for name, number in names.items() if number in (NS_USER, NS_USER_TALK)}
        self.special_namespaces = {_fold(name) for name, number in names.items() if number == NS_SPECIAL}
        self.contributions = {_fold(alias) for alias in [*contributions_aliases, *DEFAULT_CONTRIBUTIONS_ALIASES]}
        alternatives = sorted({re.escape(name).replace(r"\ ", "[ _]+") for name, number in names.items()
                               if number in (NS_SPECIAL, NS_USER, NS_USER_TALK)}, key=len, reverse=True)
        # Raw-text link finder used for signatures (position matters there).
        self.link_re = re.compile(r"\[\[\s*:?\s*((?i:" + "|".join(alternatives) + r"))\s*:([^\[\]|#\n]*)")

    def user_of(self, namespace: str, rest: str) -> str | None:
        folded = _fold(namespace)
        if folded in self.user_namespaces:
            return canonical_username(rest.split("/", 1)[0])
        if folded in self.special_namespaces:
            page, _, target = rest.partition("/")
            if _fold(page) in self.contributions and target:
                return canonical_username(target)
        return None

    def user_of_title(self, title: str) -> str | None:
        title = title.strip().lstrip(":").strip()
        namespace, sep, rest = title.partition(":")
        if not sep:
            return None
        return self.user_of(namespace, rest.split("#", 1)[0])


def _read_block(wikitext: str, matcher: _UserLinkMatcher) -> tuple[str, dict[str, list]]:
    """(readable text, structures) of a block of whole lines, parsing it at most once.

    Blocks beyond MAX_PARSE_CHARS (a bot rewriting a whole page) skip mwparserfromhell:
    regexes give the same facts, only the readable text is rougher.
    """
    if not wikitext.strip():
        return "", {"signatures": [], "pings": [], "user_links": []}
    signatures = _signatures(wikitext, matcher)
    if len(wikitext) <= MAX_PARSE_CHARS:
        try:
            code = mwparserfromhell.parse(wikitext)
            pings = [user for template in code.filter_templates(recursive=True)
                     if _template_name(template) in PING_TEMPLATES for user in _ping_users(template)]
            user_links = [user for link in code.filter_wikilinks(recursive=True)
                          if (user := matcher.user_of_title(str(link.title)))]
            return _readable(code), {"signatures": signatures, "pings": pings, "user_links": user_links}
        except (ParserError, ValueError, RecursionError):
            pass
    user_links = [user for m in matcher.link_re.finditer(wikitext) if (user := matcher.user_of(m.group(1), m.group(2)))]
    pings = [canonical_username(name) for m in _PING_RE.finditer(wikitext)
             if _fold(m.group(1)) in PING_TEMPLATES
             for name in m.group(2).split("|") if name.strip() and "=" not in name]
    return _tidy(_crude_strip(wikitext)), {"signatures": signatures, "pings": pings, "user_links": user_links}


def _signatures(wikitext: str, matcher: _UserLinkMatcher) -> list[Signature]:
    signatures: list[Signature] = []
    for line in wikitext.splitlines():
        matches = [(m.start(), matcher.user_of(m.group(1), m.group(2))) for m in matcher.link_re.finditer(line)]
        links = [(pos, user) for pos, user in matches if user]
        if not links:
            continue
        previous_end = 0
        for stamp in _TIMESTAMP_RE.finditer(line):
            candidates = [user for pos, user in links if previous_end <= pos < stamp.start()]
            if candidates:
                signatures.append({"user": candidates[-1], "timestamp": stamp.group(0).strip()})
            previous_end = stamp.end()
    return signatures


def _template_name(template) -> str:
    return _fold(str(template.name).strip().split(":", 1)[-1] if str(template.name).lower().startswith("template:")
                 else str(template.name))


def _ping_users(template) -> list[str]:
    users = []
    for param in template.params:
        if param.showkey:
            continue
        name = canonical_username(mwparserfromhell.parse(str(param.value)).strip_code())
        if name:
            users.append(name)
    return users


def _section_of_change(new_text: str, offset: int, added: str) -> str | None:
    """The heading of the section the change is in; a change that starts with a heading
    (a new section) is in that section."""
    for line in added.splitlines():
        if line.strip():
            match = _HEADING_RE.match(line.strip())
            if match:
                return readable_text(match.group(2)) or None
            break
    # Jump from one line starting with "=" to the previous one: fast even on huge pages.
    end = offset
    while True:
        newline = new_text.rfind("\n=", 0, end)
        if newline == -1:
            line_start = 0 if new_text.startswith("=") and offset > 0 else -1
        else:
            line_start = newline + 1
        if line_start == -1:
            return None
        line_end = new_text.find("\n", line_start)
        match = _HEADING_RE.match(new_text[line_start:line_end if line_end != -1 else len(new_text)].rstrip())
        if match:
            return readable_text(match.group(2)) or None
        if line_start == 0:
            return None
        end = newline


def _crude_strip(wikitext: str) -> str:
    text = re.sub(r"\[\[(?:[^\[\]|]*\|)?([^\[\]]*)\]\]", r"\1", wikitext)
    text = re.sub(r"\{\{[^{}]*\}\}", "", text)
    text = re.sub(r"<[^<>]*>", "", text)
    return re.sub(r"'{2,}", "", text)


def _fold(name: str) -> str:
    return re.sub(r"[ _]+", " ", name).strip().casefold()


def _subtract(items: list, removed: list) -> list:
    """`items` minus `removed`, as multisets, keeping the order of `items`."""
    budget = Counter(_key(item) for item in removed)
    kept = []
    for item in items:
        key = _key(item)
        if budget[key] > 0:
            budget[key] -= 1
        else:
            kept.append(item)
    return kept


def _key(item):
    return tuple(sorted(item.items())) if isinstance(item, dict) else item


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(item for item in items if item))
