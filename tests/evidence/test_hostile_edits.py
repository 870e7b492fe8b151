"""Edits built to be slow to analyse: one edit's analysis stays bounded for any pair of texts up to
MediaWiki's 2 MiB page limit, says when it had to settle for less ("limited"), and never names a
signature, ping or user link that the edit did not add.

The target (0.1 s of CPU per edit) is measured by ``make bench``
(``evidence.hostile_edit_analysis_s``), not asserted here: a timed assertion would decide on the
machine's load. The test keeps a guard five times as wide, which still fails on any quadratic
path (the moved line cost 7.9 s before the bound). CPU time is ``time.thread_time`` (this thread
only), best of three runs.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import pytest

from reporting.evidence import facts
from reporting.evidence.wikitext import analyze_change
from tests.evidence.test_wikitext import big_talk_page

MIB = 1024 * 1024
#: Five times the target: room for a loaded machine, far below what unbounded work costs.
CPU_GUARD_SECONDS = 0.5
SIG = "[[User:Mallory|Mallory]] 10:00, 1 March 2024 (UTC)"


def fill(unit: str, size: int = 2 * MIB - 16) -> str:
    """``unit`` repeated to ``size`` characters (2 MiB by default, MediaWiki's page limit)."""
    return (unit * (size // len(unit) + 1))[:size]


def moved_line(lines: int) -> tuple[str, str]:
    """The issue's edit: one line moved from the top to the bottom of many identical lines."""
    body = "x\n" * lines
    return "moved\n" + body, body + "moved\n"


def every_other_line(lines: list[str]) -> tuple[str, str]:
    return "\n".join(lines) + "\n", "\n".join(line if i % 2 else line + "!" for i, line in enumerate(lines)) + "\n"


def random_lines(count: int, length: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice("abcdefghij ") for _ in range(length)) for _ in range(count)]


def talk_page_with_distant_edits() -> tuple[str, str]:
    page = big_talk_page()[:2 * MIB - 1000]
    lines = page.split("\n")
    edited = list(lines)
    edited[11] += " You are stupid."  # the line after the heading "== Topic 1 =="
    edited[-10] += " Go away."
    return page, "\n".join(edited)


# (old, new) makers: built lazily, each up to 2 MiB per side.
HOSTILE: dict[str, Callable[[], tuple[str, str]]] = {
    "moved-line-among-8000-identical": lambda: moved_line(8000),
    "moved-line-among-1M-identical": lambda: moved_line(MIB - 4),
    "one-huge-line-changed-in-the-middle": lambda: (fill("a"), fill("a")[:MIB] + "Z" + fill("a")[MIB + 1:]),
    "one-huge-line-changed-at-both-ends": lambda: ("b" + fill("a"), "c" + fill("a") + "d"),
    "one-huge-line-of-spaces": lambda: ("b" + fill(" "), "c" + fill(" ") + "d"),
    "many-small-changes-unique-lines": lambda: every_other_line(random_lines(45_000, 40, 1)),
    "many-small-changes-identical-lines": lambda: every_other_line(["same line here"] * 130_000),
    "all-different-lines": lambda: ("\n".join(random_lines(50_000, 40, 2)), "\n".join(random_lines(50_000, 40, 3))),
    "all-different-short-lines": lambda: ("\n".join(random_lines(400_000, 4, 4)),
                                          "\n".join(random_lines(400_000, 4, 5))),
    "line-breaks-only": lambda: (fill("\n") + "a", "b" + fill("\n")),
    "swapped-line-pairs": lambda: (fill("a\nb\n"), fill("b\na\n")),
    "talk-page-reversed": lambda: (big_talk_page()[:2 * MIB - 1000],
                                   "\n".join(reversed(big_talk_page()[:2 * MIB - 1000].split("\n")))),
    "talk-page-every-seventh-line": lambda: (
        big_talk_page()[:2 * MIB - 100_000],
        "\n".join(line + (" x" if i % 7 == 0 else "") for i, line in
                  enumerate(big_talk_page()[:2 * MIB - 100_000].split("\n")))),
    "talk-page-distant-edits": talk_page_with_distant_edits,
}
# Markup that makes parsers or careless regular expressions backtrack: added whole (a page
# created or appended to), and changed around (a 1 MiB block of it between two changed lines).
MARKUP = {
    "unclosed-templates": "{{a|", "unclosed-user-links": "[[User:A|", "unclosed-external-links": "[http://a ",
    "unclosed-refs": "<ref>", "unclosed-comments": "<!--", "brackets-and-spaces": "[[" + " " * 1000,
    "braces-and-spaces": "{{" + " " * 1000, "equals-signs": "=", "lines-of-equals-signs": "=" * 1000 + "\n",
    "timestamps": "12:00, 1 March 2024 (UTC) ", "signatures": SIG + " ", "signature-lines": SIG + "\n",
    "nested-open-structures": "{{a|[[b|{{c|", "pings": "{{ping|A|B|C}}\n", "many-pinged-users": "{{ping|" + "a|" * 5000,
    "tables": "{|\n|-\n| a || b\n|}\n", "entities": "&amp;", "headings": "==a==\n",
}
for _name, _unit in MARKUP.items():
    HOSTILE[f"created-{_name}"] = lambda unit=_unit: ("", fill(unit))
    HOSTILE[f"appended-{_name}"] = lambda unit=_unit: ("intro\n", "intro\n" + fill(unit, 2 * MIB - 32))
    HOSTILE[f"changed-around-{_name}"] = lambda unit=_unit: ("x\n" + fill(unit, MIB) + "\ny", "z\n" + fill(unit, MIB) + "\nw")


def cpu_seconds(old: str, new: str) -> tuple[float, dict]:
    best = float("inf")
    for _ in range(3):
        started = time.thread_time()
        analysis = analyze_change(old, new)
        best = min(best, time.thread_time() - started)
    return best, analysis


@pytest.mark.parametrize("name", list(HOSTILE))
def test_one_edit_is_analysed_in_bounded_time(name):
    old, new = HOSTILE[name]()
    assert len(old.encode()) <= 2 * MIB and len(new.encode()) <= 2 * MIB
    seconds, analysis = cpu_seconds(old, new)
    assert seconds <= CPU_GUARD_SECONDS, f"{name}: {seconds:.3f} s of CPU"
    assert set(analysis) >= {"added_text", "removed_text", "signatures", "mentions", "user_links", "section",
                             "structured_data", "limited"}


def test_the_moved_line_is_flagged_and_blames_nobody():
    analysis = analyze_change(*moved_line(8000))
    assert analysis["limited"] is True
    assert analysis["signatures"] == [] and analysis["mentions"] == [] and analysis["user_links"] == []
    assert len(analysis["added_text"]) <= 32_000


def test_a_small_change_in_a_huge_line_is_still_found():
    rng = random.Random(3)
    old = " ".join(rng.choice(["alpha", "beta", "gamma", "delta", "epsilon"]) + str(i) for i in range(200_000))
    at = old.index(" ", MIB) + 1  # between two words
    new = old[:at] + "IDIOT " + old[at:]
    analysis = analyze_change(old, new)
    assert analysis["added_text"] == "IDIOT" and analysis["removed_text"] == ""
    assert analysis["limited"] is True  # only the neighbourhood of the change was read


def test_distant_edits_on_a_big_talk_page_are_exact():
    old, new = talk_page_with_distant_edits()
    analysis = analyze_change(old, new)
    assert analysis["limited"] is False
    assert analysis["added_text"].splitlines() == ["You are stupid.", "Go away."]
    assert analysis["section"] == "Topic 1"


def test_a_signature_is_never_invented_when_the_removed_text_was_cut():
    # 6,000 signature lines shuffled: the removed side cannot be searched to its end, so no
    # signature may be called new, although each one is found in the added text.
    lines = [f"Text [[User:U{i}|U{i}]] 10:00, 1 March 2024 (UTC)" for i in range(6000)]
    shuffled = list(lines)
    random.Random(7).shuffle(shuffled)
    analysis = analyze_change("\n".join(lines), "\n".join(shuffled))
    assert analysis["limited"] is True
    assert analysis["signatures"] == [] and analysis["user_links"] == [] and analysis["mentions"] == []


def test_signatures_of_a_huge_page_creation_are_real_ones():
    text = "\n".join(f"Text [[User:U{i}|U{i}]] 10:00, 1 March 2024 (UTC)" for i in range(20_000))
    analysis = analyze_change("", text)
    assert analysis["limited"] is True
    found = [signature["user"] for signature in analysis["signatures"]]
    assert found and found == [f"U{i}" for i in range(len(found))]


def test_a_timestamp_is_not_paired_with_a_link_before_one_the_budget_did_not_reach():
    # Past the link budget, "[[User:B]] 10:00" must not be credited to the last link found.
    filler = "[[User:Filler]]\n" * 5000
    analysis = analyze_change("", filler + "[[User:A|A]] said [[User:B|B]] 10:00, 1 March 2024 (UTC)")
    assert {"user": "A", "timestamp": "10:00, 1 March 2024 (UTC)"} not in analysis["signatures"]


def test_each_revision_pair_is_analysed_once_per_batch(monkeypatch):
    calls = []
    monkeypatch.setattr(facts, "analyze_change", lambda *args: calls.append(args) or analyze_change(*args))
    analyses: dict = {}
    revision = {"revid": 2, "size": 10, "_page": {"pageid": 1, "title": "T"},
                "slots": {"main": {"content": "new text", "contentmodel": "wikitext"}}}
    parent = {"revid": 1, "size": 5, "_page": {"pageid": 1, "title": "T"},
              "slots": {"main": {"content": "old", "contentmodel": "wikitext"}}}
    links = [{"input": str(i), "wiki": "w", "kind": "diff", "oldid": 1, "newid": 2} for i in range(10)]
    for link in links:
        facts.describe_change(link, 1, 2, parent, revision, lambda: ({}, ("Contributions",)), analyses)
    assert len(calls) == 1
    assert all(link["analysis"]["added_text"] == "new text" for link in links)
    links[0]["analysis"]["added_text"] = "changed"
    assert links[1]["analysis"]["added_text"] == "new text"  # each link has its own copy
