"""What a follow-up or withdrawal may contain: every problem named at once, as the submission does."""
from __future__ import annotations

import pytest

from reporting.cases.followups import MAX_FOLLOWUP_CHARS, validate_followup, validate_withdrawal


def codes(data, strict=True):
    result, errors = validate_followup(data, strict)
    return sorted((error.field, error.code) for error in errors)


def test_a_valid_followup_is_normalized():
    addition, errors = validate_followup({"text": "  It was on\r\nhis talk page.  ",
                                          "evidence": ["https://en.wikipedia.org/?diff=1"] * 2}, True)
    assert errors == []
    assert addition.text == "It was on\nhis talk page."
    assert addition.evidence == ("https://en.wikipedia.org/?diff=1",)


@pytest.mark.parametrize("data, expected", [
    ({}, [("text", "followup-empty")]),
    ({"text": "   ", "evidence": []}, [("text", "followup-empty")]),
    ({"text": "x" * (MAX_FOLLOWUP_CHARS + 1)}, [("text", "followup-too-long")]),
    ({"text": "bell\x07"}, [("text", "control-characters")]),
    ({"text": 5}, [("text", "not-text")]),
    ({"evidence": ["https://upload.wikimedia.org/wikipedia/commons/a/ab/X.jpg"]}, [("evidence", "media-link")]),
    ({"evidence": "https://example.org/x.png"}, [("evidence", "media-link")]),
    ({"evidence": [f"https://en.wikipedia.org/?diff={i}" for i in range(21)]},
     [("evidence", "followup-too-many-links")]),
    ({"evidence": 3}, [("evidence", "not-a-list")]),
    ({"text": "ok", "reporter": "Mallory"}, [("reporter", "unknown-field")]),
    # Every problem at once: too long, with control characters, an image link.
    ({"text": "\x00" + "x" * MAX_FOLLOWUP_CHARS, "evidence": ["https://example.org/a.gif"]},
     [("evidence", "media-link"), ("text", "control-characters"), ("text", "followup-too-long")]),
])
def test_each_problem_is_named(data, expected):
    assert codes(data) == expected


def test_the_form_ignores_unknown_fields_and_takes_text_lines():
    addition, errors = validate_followup({"text": "", "evidence": "https://a.org/wiki/X\n\nhttps://a.org/wiki/Y",
                                          "csrf_token": "t"}, False)
    assert errors == [] and addition.evidence == ("https://a.org/wiki/X", "https://a.org/wiki/Y")


@pytest.mark.parametrize("data, reason, expected", [
    ({}, "", []),
    ({"reason": " Solved between us. "}, "Solved between us.", []),
    ({"reason": "x" * 1001}, None, [("reason", "reason-too-long")]),
    ({"reason": "a\x1bb"}, None, [("reason", "control-characters")]),
    ({"reason": "fine", "text": "?"}, None, [("text", "unknown-field")]),
])
def test_withdrawal_reasons(data, reason, expected):
    result, errors = validate_withdrawal(data, strict_fields=True)
    assert result == reason
    assert sorted((error.field, error.code) for error in errors) == expected
