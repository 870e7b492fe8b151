"""Bounded diffs of two sequences (lines of wikitext, words of readable text).

Why bounded: ``difflib.SequenceMatcher`` (with ``autojunk=False``, which small edits need to be
described right) is quadratic in the number of repeated elements. An edit that moves one line
around 8,000 identical lines cost 7.9 s of CPU, and anyone can save such a pair of revisions in a
sandbox and paste the diff as "evidence". So every analysis gets a :class:`Budget`: the matcher
charges each step's cost to it *before* doing the step (an upper bound of the work that step can
do), and once the budget is spent the sequences are compared the coarse, linear way instead
(:func:`coarse_hunks`), and the budget remembers that the result is ``limited``.

What "coarse" means: equal elements are paired as multisets (a line that still exists somewhere
is not new), so a move shows nothing and an edit shows the lines it added and removed, but
replaced lines are not paired for a word-level diff. Beyond :data:`MAX_COARSE_ELEMENTS` even that
is skipped and the two ranges are reported as one replacement.
"""

from __future__ import annotations

import bisect
import difflib
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

__all__ = ["MAX_COARSE_ELEMENTS", "Budget", "Hunk", "OverBudget", "diff_hunks"]

#: Work units (about 0.1-0.2 µs each) one analysis may spend in the matcher: ~15-25 ms of CPU.
DIFF_UNITS = 120_000
#: And once more, for the one retry as a patience diff.
ANCHOR_UNITS = 250_000
#: Above this many elements (both sides), not even the coarse comparison is made.
MAX_COARSE_ELEMENTS = 60_000

Tag = Literal["replace", "delete", "insert"]


class OverBudget(Exception):
    """The budget would be exceeded by the next step; nothing of that step was done."""


@dataclass
class Budget:
    """The work one edit's analysis may do. ``limited`` becomes True as soon as any part of the
    analysis had to settle for less than the full answer (the desk is told)."""

    diff_units: int = DIFF_UNITS
    anchor_units: int = ANCHOR_UNITS
    #: Characters of wikitext given to mwparserfromhell (only well-formed blocks; see wikiread).
    parse_chars: int = 1_500
    #: Characters of changed wikitext searched for signatures, pings and user links (regexes).
    scan_chars: int = 512 * 1024
    #: Characters of changed wikitext turned into readable text.
    read_chars: int = 32_000
    #: Regex matches turned into facts (a little Python each): user links, timestamps, pings.
    links: int = 2_000
    stamps: int = 2_000
    pings: int = 2_000
    limited: bool = False

    def charge(self, units: int) -> None:
        """Spend ``units``, or raise OverBudget (spending nothing: the step is not done)."""
        if units > self.diff_units:
            raise OverBudget()
        self.diff_units -= units


class Hunk(NamedTuple):
    """``a[i1:i2]`` became ``b[j1:j2]`` (one side empty for insertions and deletions). A tuple:
    thousands are made per analysis, and a frozen dataclass costs ten times more to build."""

    tag: Tag
    i1: int
    i2: int
    j1: int
    j2: int


class _BoundedMatcher(difflib.SequenceMatcher):
    """A SequenceMatcher that charges its budget before each step and stops when it is spent."""

    def __init__(self, a: Sequence[Hashable], b: Sequence[Hashable], budget: Budget) -> None:
        self.budget = budget
        self._first, self._second = a, b
        budget.charge(len(a) + len(b))  # indexing b (and the opcodes walk over a)
        super().__init__(None, a, b, autojunk=False)

    def find_longest_match(self, alo: int = 0, ahi: int | None = None, blo: int = 0,
                           bhi: int | None = None) -> difflib.Match:
        ahi = len(self._first) if ahi is None else ahi
        bhi = len(self._second) if bhi is None else bhi
        b2j: dict[Hashable, list[int]] = self.b2j  # type: ignore[attr-defined]  # difflib's index of b, not in the stubs
        # The inner loop visits, for every element of a[alo:ahi], its positions in b up to bhi:
        # at most all of them; extending a match over junk stays inside both ranges. Counting
        # them is itself bounded by what is charged.
        self.budget.charge(ahi - alo + bhi - blo)
        self.budget.charge(sum(len(b2j.get(element, ())) for element in self._first[alo:ahi]))
        return super().find_longest_match(alo, ahi, blo, bhi)


def diff_hunks(a: Sequence[Hashable], b: Sequence[Hashable], budget: Budget, *,
               coarse: bool = True, max_hunks: int | None = None) -> list[Hunk]:
    """The changes from ``a`` to ``b``, in order.

    difflib's opcodes while the budget lasts. When it does not, and ``coarse``: the linear
    comparison (:func:`coarse_hunks`) gives a lower bound of how many elements any diff must
    change; a patience diff (:func:`_anchored`: elements unique on both sides as fixed points,
    difflib between them) is tried once per analysis, and kept when it reaches that bound, as
    it does for a few edits far apart on a long page full of blank lines. Otherwise the coarse
    answer stands and ``budget.limited`` is set. Without ``coarse``, an over-budget diff is one
    replacement of everything (and ``limited``). ``max_hunks``: the caller reads no more hunks
    than that one by one, so a patience diff that finds more gives way to the coarse answer.
    """
    if not a and not b:
        return []
    if len(a) + len(b) > MAX_COARSE_ELEMENTS:
        budget.limited = True
        return [_whole(a, b)]
    count_a, count_b = Counter(a), Counter(b)
    # What difflib's first step alone would cost; when that is already too much, do not start.
    first_step = len(a) + len(b) + sum(count * count_b.get(element, 0) for element, count in count_a.items())
    if first_step <= budget.diff_units:
        try:
            return _opcodes(_BoundedMatcher(a, b, budget), 0, 0)
        except OverBudget:
            pass
    if not coarse:
        budget.limited = True
        return [_whole(a, b)]
    rough = coarse_hunks(a, b, count_a, count_b)
    if budget.anchor_units:
        allowance = Budget(diff_units=budget.anchor_units)
        budget.anchor_units = 0
        try:
            anchored = _anchored(a, b, count_a, count_b, allowance, max_hunks)
            if anchored is not None and _changed(anchored) <= _changed(rough):
                return anchored
        except OverBudget:
            pass
    budget.limited = True
    return rough


def _anchored(a: Sequence[Hashable], b: Sequence[Hashable], count_a: Counter, count_b: Counter,
              budget: Budget, max_hunks: int | None) -> list[Hunk] | None:
    """Patience diff: the longest run of elements that occur once in ``a`` and once in ``b``,
    in the same order on both sides, stay equal; the gaps between them are diffed by difflib.
    None when it finds more than ``max_hunks`` hunks."""
    budget.charge(len(a) + len(b))
    where_in_b = {element: j for j, element in enumerate(b) if count_b[element] == 1}
    pairs = [(i, where_in_b[element]) for i, element in enumerate(a)
             if count_a[element] == 1 and element in where_in_b]
    budget.charge(4 * len(pairs))
    hunks: list[Hunk] = []
    previous_i = previous_j = 0
    for i, j in [*_increasing_run(pairs), (len(a), len(b))]:
        hunks += _gap(a, b, previous_i, i, previous_j, j, budget)
        if max_hunks is not None and len(hunks) > max_hunks:
            return None
        previous_i, previous_j = i + 1, j + 1
    return hunks


def _increasing_run(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest subsequence of ``pairs`` (increasing in i) that also increases in j."""
    tails: list[int] = []  # tails[k]: smallest j ending an increasing run of length k + 1
    tail_index: list[int] = []  # ... and the index in pairs of that pair
    previous: list[int] = []
    for index, (_, j) in enumerate(pairs):
        k = bisect.bisect_left(tails, j)
        if k == len(tails):
            tails.append(j)
            tail_index.append(index)
        else:
            tails[k] = j
            tail_index[k] = index
        previous.append(tail_index[k - 1] if k else -1)
    run: list[tuple[int, int]] = []
    index = tail_index[-1] if tail_index else -1
    while index != -1:
        run.append(pairs[index])
        index = previous[index]
    return run[::-1]


def _gap(a: Sequence[Hashable], b: Sequence[Hashable], alo: int, ahi: int, blo: int, bhi: int,
         budget: Budget) -> list[Hunk]:
    """The hunks of a[alo:ahi] -> b[blo:bhi]: equal ends trimmed, the rest by difflib."""
    budget.charge(ahi - alo + bhi - blo)
    while alo < ahi and blo < bhi and a[alo] == b[blo]:
        alo, blo = alo + 1, blo + 1
    while alo < ahi and blo < bhi and a[ahi - 1] == b[bhi - 1]:
        ahi, bhi = ahi - 1, bhi - 1
    if alo == ahi and blo == bhi:
        return []
    if alo == ahi or blo == bhi:
        return [Hunk("insert" if alo == ahi else "delete", alo, ahi, blo, bhi)]
    if ahi - alo == 1 and bhi - blo == 1:  # the commonest gap: one line edited
        return [Hunk("replace", alo, ahi, blo, bhi)]
    return _opcodes(_BoundedMatcher(a[alo:ahi], b[blo:bhi], budget), alo, blo)


def _whole(a: Sequence[Hashable], b: Sequence[Hashable]) -> Hunk:
    """All of ``a`` became all of ``b``."""
    tag: Tag = "replace" if a and b else ("delete" if a else "insert")
    return Hunk(tag, 0, len(a), 0, len(b))


def _opcodes(matcher: difflib.SequenceMatcher, i: int, j: int) -> list[Hunk]:
    """The matcher's changes, shifted by (i, j) (the matcher saw a slice)."""
    return [Hunk(tag, i + i1, i + i2, j + j1, j + j2)
            for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


def _changed(hunks: list[Hunk]) -> int:
    return sum(hunk.i2 - hunk.i1 + hunk.j2 - hunk.j1 for hunk in hunks)


def coarse_hunks(a: Sequence[Hashable], b: Sequence[Hashable], count_a: Counter | None = None,
                 count_b: Counter | None = None) -> list[Hunk]:
    """Linear comparison: elements of ``b`` without an equal element left in ``a`` are inserted,
    elements of ``a`` without one left in ``b`` deleted (runs of them form one hunk each).
    ``count_a``/``count_b``: the sequences' Counters, when the caller has them (not changed).

    Insertions come first (in the order of ``b``), then deletions (at position 0 of ``b``: a
    deleted line has no place in the new text); nothing is paired as a replacement.
    """
    if not a and not b:
        return []
    if len(a) + len(b) > MAX_COARSE_ELEMENTS:
        return [_whole(a, b)]
    count_a = Counter(a) if count_a is None else count_a
    count_b = Counter(b) if count_b is None else count_b
    hunks = [Hunk("insert", len(a), len(a), j1, j2) for j1, j2 in _unmatched_runs(b, count_b, count_a)]
    hunks += [Hunk("delete", i1, i2, 0, 0) for i1, i2 in _unmatched_runs(a, count_a, count_b)]
    return hunks


def _unmatched_runs(items: Sequence[Hashable], counts: Counter, other: Counter) -> list[tuple[int, int]]:
    """Runs (start, end) of ``items`` that find no equal element on the other side, equal
    elements being paired in order (the first ``other[x]`` occurrences of ``x`` are matched).
    ``counts``/``other``: the Counters of ``items`` and of the other side."""
    surplus = {item for item, count in counts.items() if count > other.get(item, 0)}
    if not surplus:
        return []
    seen: dict[Hashable, int] = {}  # not a Counter: its __missing__ is a Python call
    unmatched: list[int] = []
    for index in [index for index, item in enumerate(items) if item in surplus]:
        item = items[index]
        seen[item] = occurrence = seen.get(item, 0) + 1
        if occurrence > other.get(item, 0):
            unmatched.append(index)
    runs: list[tuple[int, int]] = []
    for index in unmatched:
        if runs and runs[-1][1] == index:
            runs[-1] = (runs[-1][0], index + 1)
        else:
            runs.append((index, index + 1))
    return runs
