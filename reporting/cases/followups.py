"""What a reporter may add to an open case: a follow-up (text, evidence links) or a withdrawal reason.

Pure code like :mod:`reporting.intake.submission`, whose rules for text and
links it shares: the HTML form and the JSON API accept and refuse the same
additions and name every problem at once. Nothing is stored before all of
it passed.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reporting.intake.submission import (
    FieldError,
    deduplicate,
    evidence_errors,
    has_forbidden_controls,
    text_lines,
)

MAX_FOLLOWUP_CHARS = 5000
MAX_FOLLOWUP_LINKS = 20
MAX_REASON_CHARS = 1000
FOLLOWUP_FIELDS = frozenset({"text", "evidence"})
WITHDRAWAL_FIELDS = frozenset({"reason"})


@dataclass(frozen=True)
class FollowupInput:
    """A valid follow-up: the reporter's words and links, as given."""

    text: str
    evidence: tuple[str, ...] = ()


@dataclass
class FollowupForm:
    """The raw values of the HTML form, kept as typed so a refused form is re-shown intact."""

    text: str = ""
    evidence: str = ""
    errors: list[FieldError] = field(default_factory=list)

    def errors_for(self, name: str) -> list[FieldError]:
        return [error for error in self.errors if error.field == name]


@dataclass
class WithdrawalForm:
    reason: str = ""
    errors: list[FieldError] = field(default_factory=list)

    def errors_for(self, name: str) -> list[FieldError]:
        return [error for error in self.errors if error.field == name]


def _unknown(data: Mapping[str, Any], known: frozenset[str]) -> list[FieldError]:
    return [FieldError(name, "unknown-field", (name,)) for name in sorted(set(data) - known)]


def typed_text(data: Mapping[str, Any], name: str, limit: int, too_long: str) -> tuple[str, list[FieldError]]:
    """A text field as people type it: CRLF made LF, trimmed, refused over ``limit`` (error code
    ``too_long``) or with control characters; a missing field is empty. The reporter's follow-ups
    and the workspace's messages and notes share it."""
    value = data.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        return "", [FieldError(name, "not-text")]
    value = value.replace("\r\n", "\n").strip()
    errors = []
    if len(value) > limit:
        errors.append(FieldError(name, too_long, (len(value), limit)))
    if has_forbidden_controls(value, allow_newlines=True):
        errors.append(FieldError(name, "control-characters"))
    return value, errors


def validate_followup(data: Mapping[str, Any], strict_fields: bool = False) -> tuple[FollowupInput | None,
                                                                                      list[FieldError]]:
    """Check a follow-up; ``strict_fields`` (the API) refuses fields it does not know."""
    errors = _unknown(data, FOLLOWUP_FIELDS) if strict_fields else []
    text, text_errors = typed_text(data, "text", MAX_FOLLOWUP_CHARS, "followup-too-long")
    errors += text_errors
    links = text_lines(data.get("evidence", []))
    link_errors = [FieldError("evidence", "not-a-list")] if links is None else []
    links = links or []
    link_errors += evidence_errors(links, MAX_FOLLOWUP_LINKS, too_many="followup-too-many-links")
    errors += link_errors
    if not text and not links and not text_errors and not link_errors:
        errors.append(FieldError("text", "followup-empty"))
    if errors:
        return None, deduplicate(errors)
    return FollowupInput(text=text, evidence=tuple(dict.fromkeys(links))), []


def validate_withdrawal(data: Mapping[str, Any], strict_fields: bool = False) -> tuple[str | None, list[FieldError]]:
    """Check a withdrawal: the reason is optional; return it ("" for none)."""
    errors = _unknown(data, WITHDRAWAL_FIELDS) if strict_fields else []
    reason, reason_errors = typed_text(data, "reason", MAX_REASON_CHARS, "reason-too-long")
    errors += reason_errors
    if errors:
        return None, deduplicate(errors)
    return reason, []
