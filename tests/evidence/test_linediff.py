"""The bounded differ: difflib's answer while the budget lasts, a linear one after."""

from __future__ import annotations

import difflib

import pytest

from reporting.evidence.linediff import MAX_COARSE_ELEMENTS, Budget, Hunk, OverBudget, coarse_hunks, diff_hunks


@pytest.mark.parametrize("a, b", [
    ("abcdef", "abXdef"), ("abc", ""), ("", "abc"), ("aaaa", "aaXaa"), ("line", "line"), ("abcabc", "cbacba"),
])
def test_within_budget_it_is_difflib(a, b):
    budget = Budget()
    expected = [Hunk(*op) for op in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
                if op[0] != "equal"]
    assert diff_hunks(list(a), list(b), budget) == expected
    assert budget.limited is False


def test_a_moved_line_among_identical_ones_falls_back_to_the_coarse_answer():
    a = ["moved"] + ["x"] * 8000
    b = ["x"] * 8000 + ["moved"]
    budget = Budget()
    assert diff_hunks(a, b, budget) == []  # nothing is new, nothing is gone
    assert budget.limited is True


def test_distant_edits_among_popular_lines_are_exact_by_patience():
    a = [line for i in range(3000) for line in (f"== {i} ==", "", "same", "same")]
    b = list(a)
    b[5] = "edited"
    b[-2] = "edited too"
    budget = Budget()
    assert diff_hunks(a, b, budget) == [Hunk("replace", 5, 6, 5, 6), Hunk("replace", len(a) - 2, len(a) - 1,
                                                                         len(a) - 2, len(a) - 1)]
    assert budget.limited is False


def test_coarse_hunks_pair_equal_elements_as_multisets():
    assert coarse_hunks(list("aabc"), list("abdd")) == [Hunk("insert", 4, 4, 2, 4), Hunk("delete", 1, 2, 0, 0),
                                                         Hunk("delete", 3, 4, 0, 0)]


def test_without_coarse_an_expensive_diff_is_one_replacement():
    a, b = ["x"] * 1000 + ["y"], ["y"] + ["x"] * 1000
    budget = Budget()
    assert diff_hunks(a, b, budget, coarse=False) == [Hunk("replace", 0, 1001, 0, 1001)]
    assert budget.limited is True


def test_too_many_elements_are_one_replacement():
    a = ["a"] * MAX_COARSE_ELEMENTS
    budget = Budget()
    assert diff_hunks(a, ["b"], budget) == [Hunk("replace", 0, MAX_COARSE_ELEMENTS, 0, 1)]
    assert budget.limited is True


def test_a_step_over_budget_is_not_done_and_costs_nothing():
    budget = Budget(diff_units=10)
    with pytest.raises(OverBudget):
        budget.charge(11)
    budget.charge(10)
    assert budget.diff_units == 0
