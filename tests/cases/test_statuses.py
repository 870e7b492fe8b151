"""The one definition of a case's statuses and which change may follow which."""
from __future__ import annotations

import pytest

from reporting.cases.statuses import OPEN, TRANSITIONS, Status, after_reporter_answer, allowed, can_follow_up, path

R, F, IR, NI, RS, D, W = (Status.RECEIVED, Status.FORWARDED, Status.IN_REVIEW, Status.NEEDS_INFO, Status.RESOLVED,
                          Status.DECLINED, Status.WITHDRAWN)


def test_the_statuses_are_the_designed_ones():
    assert [status.value for status in Status] == [
        "received", "forwarded", "in-review", "needs-info", "resolved", "declined", "withdrawn"]
    assert set(TRANSITIONS) == set(Status)
    assert OPEN == {R, F, IR, NI}


@pytest.mark.parametrize("current, new, ok", [
    (R, F, True), (R, W, True), (R, IR, False), (R, RS, False),
    (F, IR, True), (F, NI, True), (F, RS, True), (F, D, True), (F, W, True), (F, R, False),
    (IR, NI, True), (IR, RS, True), (IR, D, True), (IR, W, True), (IR, F, False),
    (NI, IR, True), (NI, RS, True), (NI, W, True), (NI, F, False),
    (RS, IR, True), (D, IR, True), (RS, NI, False), (RS, W, False), (D, RS, False),
    (W, IR, False), (W, F, False), (W, RS, False),
])
def test_allowed_changes(current, new, ok):
    assert allowed(current, new) is ok


@pytest.mark.parametrize("current, target, expected", [
    (F, F, []),
    (F, NI, [NI]),
    (NI, IR, [IR]),
    (RS, IR, [IR]),
    (RS, NI, [IR, NI]),  # a solved ticket set back to pending: reopened, then the team asks
    (D, RS, [IR, RS]),
    (IR, F, None),  # a desk cannot send a case back to "nobody has it"
    (W, IR, None),  # withdrawn stays withdrawn whatever the desk does
    (R, IR, None),  # received becomes forwarded only by delivery
])
def test_paths(current, target, expected):
    assert path(current, target) == expected


def test_only_open_cases_take_additions_and_an_answer_resumes_the_review():
    assert [can_follow_up(s) for s in Status] == [True, True, True, True, False, False, False]
    assert after_reporter_answer(NI) == IR
    assert after_reporter_answer(F) == F
