"""What an edit did, computed locally from the two wikitexts (no I/O).

Why local: `action=compare` costs one request per diff and fails as a whole when a side
is hidden; fetching both revisions in batches and diffing here is cheaper and lets us
drop exactly what the public API hides.

Why only the changed hunks are read: parsing a whole 2 MB talk page takes seconds; an edit
usually touches a few lines. So: trim the common prefix and suffix (fast, memcmp-sized chunks),
widen the middle to whole lines, diff those lines, and read only the added and removed line
blocks (:mod:`reporting.evidence.wikiread`). Structures (signatures, pings, user links) found
in the removed blocks are subtracted from those found in the added ones, so editing inside an
existing comment does not count its old signature as new.

Why bounded: both texts come from anyone who can edit a wiki (up to MediaWiki's 2 MiB each),
and a reporter can paste any diff. Every analysis gets one :class:`~reporting.evidence.linediff.Budget`
(about 0.1 s of CPU at most, whatever the input): the line and word diffs fall back to a
linear comparison when it is spent, at most :data:`MAX_HUNKS` hunks are read one by one, a
replacement inside a huge line is narrowed to what changed, and only so much text is searched
and made readable. Whenever any of that cut something, the analysis says ``"limited": True``
and the desk sees "analysis limited".

Localisation: namespace names ("User", "Benutzer", "BD", ...) come from the wiki's
siteinfo (`namespace_names_from_siteinfo`); without them only the canonical English
names are known.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping

from reporting.evidence.linediff import MAX_COARSE_ELEMENTS, Budget, Hunk, diff_hunks
from reporting.evidence.types import Analysis
from reporting.evidence.wikiread import (
    CANONICAL_NAMESPACES,
    DEFAULT_CONTRIBUTIONS_ALIASES,
    PING_TEMPLATES,
    UserLinkMatcher,
    read_block,
    readable_text,
)

__all__ = [
    "CANONICAL_NAMESPACES",
    "DEFAULT_CONTRIBUTIONS_ALIASES",
    "PING_TEMPLATES",
    "analyze_change",
    "contributions_aliases_from_siteinfo",
    "namespace_names_from_siteinfo",
    "readable_text",
]

#: Above this many tokens per side, a changed block is reported whole instead of word-diffed.
MAX_WORD_DIFF_TOKENS = 2000
#: Hunks read one by one; the rest are read as one added and one removed block.
MAX_HUNKS = 100
#: A replacement bigger than this (both sides) is narrowed to the characters that changed.
NARROW_ABOVE = 8000
#: Characters kept around the changed part of a narrowed replacement.
NARROW_CONTEXT = 300
#: Lines starting with "=" looked at when searching backwards for the section heading.
MAX_HEADING_STEPS = 500
#: Longer lines are not taken for headings (MediaWiki's are short; this keeps the match cheap).
MAX_HEADING_LINE = 500
_CHUNK = 4096
_HEADING_RE = re.compile(r"^(={1,6})(.+?)\1[ \t]*$")
_TOKEN_RE = re.compile(r"\w+|[^\w\s]|\s+")

Block = tuple[str, str, str]  # (tag, old wikitext, new wikitext)


def analyze_change(old_text: str, new_text: str, namespaces: Mapping[str, int] | None = None,
                   contributions_aliases: Iterable[str] = DEFAULT_CONTRIBUTIONS_ALIASES) -> Analysis:
    """Describe the change from `old_text` to `new_text` (both wikitext).

    Returns {"added_text", "removed_text" (readable text, hunks separated by newlines),
    "signatures": [{"user", "timestamp"}] (new signatures, timestamp as written),
    "mentions": [user] (pinged by template or linked and not the signer),
    "user_links": [user] (new links to user pages / contributions),
    "section": heading of the section the change is in (None at the top of the page),
    "structured_data": False, "limited": whether the work bound cut anything}
    (`reporting.evidence.types.Analysis`). `namespaces` maps localised namespace names and
    aliases to numbers (see `namespace_names_from_siteinfo`).
    """
    matcher = UserLinkMatcher(namespaces, contributions_aliases)
    analysis: Analysis = {"added_text": "", "removed_text": "", "signatures": [], "mentions": [], "user_links": [],
                          "section": None, "structured_data": False, "limited": False}
    if old_text == new_text:
        return analysis

    budget = Budget()
    start, old_end, new_end = _changed_line_span(old_text, new_text)
    blocks, first_offset = _changed_blocks(old_text[start:old_end], new_text[start:new_end], budget)
    added: dict[str, list] = {"signatures": [], "pings": [], "user_links": []}
    removed: dict[str, list] = {"signatures": [], "pings": [], "user_links": []}
    added_readable: list[str] = []
    removed_readable: list[str] = []
    removed_complete = True
    for tag, old_block, new_block in blocks:
        if tag == "replace" and len(old_block) + len(new_block) > NARROW_ABOVE:
            old_block, new_block = _narrow(old_block, new_block, budget)
        old_readable, old_structures, old_complete = read_block(old_block, matcher, budget)
        new_readable, new_structures, _ = read_block(new_block, matcher, budget)
        removed_complete = removed_complete and old_complete
        for key in added:
            added[key] += new_structures[key]
            removed[key] += old_structures[key]
        if tag == "replace":
            gained, lost = _word_changes(old_readable, new_readable, budget)
            added_readable += gained
            removed_readable += lost
        else:
            if new_readable:
                added_readable.append(new_readable)
            if old_readable:
                removed_readable.append(old_readable)

    if not removed_complete:
        # Removed text was not searched to its end, so a signature, ping or link found in the
        # added text may be an old one moved: it cannot be called new (blaming someone for a
        # signature they did not add is worse than saying nothing). When only added text was
        # cut, what was found is new; some may be missing.
        added = removed = {"signatures": [], "pings": [], "user_links": []}
    signatures = _subtract(added["signatures"], removed["signatures"])
    signers = {signature["user"] for signature in signatures}
    linked_not_signers = [user for user in _subtract(added["user_links"], removed["user_links"]) if user not in signers]
    mentions = _unique(_subtract(added["pings"], removed["pings"]) + linked_not_signers)
    first_added = next((new_block for _, _, new_block in blocks if new_block.strip()), "")

    analysis.update({
        "added_text": "\n".join(added_readable).strip(),
        "removed_text": "\n".join(removed_readable).strip(),
        "signatures": [{"user": user, "timestamp": stamp}
                       for user, stamp in dict.fromkeys((s["user"], s["timestamp"]) for s in signatures)],
        "mentions": mentions,
        "user_links": _unique(_subtract(added["user_links"], removed["user_links"])),
        "section": _section_of_change(new_text, start + first_offset, first_added, budget),
    })
    analysis["limited"] = budget.limited
    return analysis


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


def _changed_blocks(old_span: str, new_span: str, budget: Budget) -> tuple[list[Block], int]:
    """The changed blocks of whole lines, and the offset in ``new_span`` of the first change."""
    if old_span.count("\n") + new_span.count("\n") > MAX_COARSE_ELEMENTS:
        # Too many lines even to compare them one by one in Python: one replacement.
        budget.limited = True
        return [_block(Hunk("replace", 0, 1, 0, 1), [old_span], [new_span])], 0
    old_lines = old_span.splitlines(keepends=True)
    new_lines = new_span.splitlines(keepends=True)
    # Lines compare without their line break, so appending after a last line that had none is an insertion.
    hunks = diff_hunks([line.rstrip("\r\n") for line in old_lines], [line.rstrip("\r\n") for line in new_lines],
                       budget, max_hunks=MAX_HUNKS)
    if not hunks:
        return [], 0
    first_offset = sum(map(len, new_lines[:hunks[0].j1]))
    blocks = [_block(hunk, old_lines, new_lines) for hunk in hunks[:MAX_HUNKS]]
    if len(hunks) > MAX_HUNKS:
        budget.limited = True
        rest = hunks[MAX_HUNKS:]
        blocks.append(("delete", "".join("".join(old_lines[h.i1:h.i2]) for h in rest), ""))
        blocks.append(("insert", "", "".join("".join(new_lines[h.j1:h.j2]) for h in rest)))
    return blocks, first_offset


def _block(hunk: Hunk, old_lines: list[str], new_lines: list[str]) -> Block:
    old_block, new_block = "".join(old_lines[hunk.i1:hunk.i2]), "".join(new_lines[hunk.j1:hunk.j2])
    if old_block and new_block:
        return "replace", old_block, new_block
    return ("insert" if new_block else "delete"), old_block, new_block


def _narrow(old: str, new: str, budget: Budget) -> tuple[str, str]:
    """A big replacement cut down to the characters that changed, with :data:`NARROW_CONTEXT`
    around them (or up to the line breaks, when they are closer): a small change in a huge line
    must not be buried in it, nor the whole line read."""
    prefix = _common_prefix_length(old, new)
    suffix = _common_suffix_length(old, new, min(len(old), len(new)) - prefix)
    begin = old.rfind("\n", 0, prefix) + 1
    if prefix - begin > NARROW_CONTEXT:
        begin = prefix - NARROW_CONTEXT
        space = old.find(" ", begin, prefix)
        begin = space + 1 if space != -1 else begin
    change_end = len(old) - suffix  # where the common suffix starts in `old`
    line_end = old.find("\n", change_end)
    stop = len(old) if line_end == -1 else line_end + 1
    if stop - change_end > NARROW_CONTEXT:
        stop = change_end + NARROW_CONTEXT
        space = old.rfind(" ", change_end, stop)
        stop = space if space != -1 else stop
    tail = len(old) - stop  # part of the common suffix: the same text ends `new`
    if begin == 0 and tail == 0:
        return old, new
    budget.limited = True
    return old[begin:stop], new[begin:len(new) - tail]


def _word_changes(old: str, new: str, budget: Budget) -> tuple[list[str], list[str]]:
    """Runs of words inserted into / deleted from `old` to give `new` (both readable text).

    Lines are matched first and only paired lines are word-diffed: word-level matching of
    whole blocks is quadratic in the number of repeated tokens (spaces, punctuation).
    """
    gained: list[str] = []
    lost: list[str] = []
    old_lines, new_lines = old.splitlines(), new.splitlines()
    for hunk in diff_hunks(old_lines, new_lines, budget):
        i1, i2, j1, j2 = hunk.i1, hunk.i2, hunk.j1, hunk.j2
        if hunk.tag == "insert":
            gained += new_lines[j1:j2]
        elif hunk.tag == "delete":
            lost += old_lines[i1:i2]
        else:
            pairs = (list(zip(old_lines[i1:i2], new_lines[j1:j2], strict=True)) if i2 - i1 == j2 - j1
                     else [("\n".join(old_lines[i1:i2]), "\n".join(new_lines[j1:j2]))])
            for old_part, new_part in pairs:
                more_gained, more_lost = _token_changes(old_part, new_part, budget)
                gained += more_gained
                lost += more_lost
    return gained, lost


def _token_changes(old: str, new: str, budget: Budget) -> tuple[list[str], list[str]]:
    whole = ([new] if new else []), ([old] if old else [])
    if max(len(old), len(new)) > 20 * MAX_WORD_DIFF_TOKENS:
        return whole
    old_tokens, new_tokens = _TOKEN_RE.findall(old), _TOKEN_RE.findall(new)
    if len(old_tokens) > MAX_WORD_DIFF_TOKENS or len(new_tokens) > MAX_WORD_DIFF_TOKENS:
        return whole
    gained: list[str] = []
    lost: list[str] = []
    for hunk in diff_hunks(old_tokens, new_tokens, budget, coarse=False):
        if hunk.tag in ("insert", "replace"):
            run = "".join(new_tokens[hunk.j1:hunk.j2]).strip()
            if run:
                gained.append(run)
        if hunk.tag in ("delete", "replace"):
            run = "".join(old_tokens[hunk.i1:hunk.i2]).strip()
            if run:
                lost.append(run)
    return gained, lost


# --- where -------------------------------------------------------------------------------------


def _section_of_change(new_text: str, offset: int, added: str, budget: Budget) -> str | None:
    """The heading of the section the change is in; a change that starts with a heading
    (a new section) is in that section."""
    first_line = next((line for line in _lines_of(added) if line.strip()), "")
    if first_line:
        match = _HEADING_RE.match(first_line.strip()[:MAX_HEADING_LINE])
        if match:
            return readable_text(match.group(2)) or None
    # Jump from one line starting with "=" to the previous one: fast even on huge pages.
    end = offset
    for _ in range(MAX_HEADING_STEPS):
        newline = new_text.rfind("\n=", 0, end)
        if newline == -1:
            line_start = 0 if new_text.startswith("=") and offset > 0 else -1
        else:
            line_start = newline + 1
        if line_start == -1:
            return None
        line_end = new_text.find("\n", line_start, line_start + MAX_HEADING_LINE + 1)
        line = new_text[line_start:line_end if line_end != -1 else line_start + MAX_HEADING_LINE + 1]
        match = _HEADING_RE.match(line.rstrip()) if len(line) <= MAX_HEADING_LINE else None
        if match:
            return readable_text(match.group(2)) or None
        if line_start == 0:
            return None
        end = newline
    budget.limited = True
    return None


def _lines_of(text: str) -> Iterator[str]:
    """The lines of ``text`` one at a time (``splitlines`` would split megabytes to read one)."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        if end == -1:
            end = len(text)
        yield text[start:end]
        start = end + 1


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
