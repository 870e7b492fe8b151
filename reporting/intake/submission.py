"""The domain of a new report: categories, severity, the reporter, validation.

Pure code: no Flask, no database. The HTML form and the JSON API both call
:func:`validate_submission`, so they accept and refuse exactly the same
reports and name the same problems.

Errors are returned as :class:`FieldError` values holding a message *key*
and parameters, never text: the caller renders them in the reporter's
language (and the API returns the code for programs).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from reporting.evidence.media import host_of, is_media_link, url_tokens
from reporting.evidence.urls import SHORT_URL_HOST
from reporting.identity.usernames import canonical_username

EMERGENCY_CATEGORIES = ("threat-of-violence", "self-harm", "public-harm", "child-safety")
NON_EMERGENCY_CATEGORIES = (
    "harassment",
    "sexual-harassment",
    "doxing",
    "hounding",
    "hate-or-discrimination",
    "disinformation",
    "sockpuppetry",
    "offline-or-event-safety",
    "other",
)
CATEGORIES = EMERGENCY_CATEGORIES + NON_EMERGENCY_CATEGORIES
HIGH_SEVERITY_CATEGORIES = frozenset({"doxing", "sexual-harassment"})
# What happened away from any wiki (at an event, in person): naming a wiki is optional. Such a
# report is stored with the wiki "" and routed by its category (no wiki rule matches it).
WIKI_OPTIONAL_CATEGORIES = frozenset({"offline-or-event-safety"})

MAX_REPORTED_USERS = 10
MAX_EVIDENCE_LINKS = 50
MAX_DESCRIPTION_CHARS = 5000
MAX_EVIDENCE_LINK_CHARS = 2000
MAX_USERNAME_CHARS = 255
MAX_BODY_BYTES = 64 * 1024

# MediaWiki refuses these characters in titles and so in user names.
_INVALID_USERNAME_CHARS = re.compile(r"[#<>\[\]|{}]")


def severity_of(category: str) -> str:
    """``emergency`` | ``high`` | ``normal``: decides delivery lane and ticket priority."""
    if category in EMERGENCY_CATEGORIES:
        return "emergency"
    if category in HIGH_SEVERITY_CATEGORIES:
        return "high"
    return "normal"


@dataclass(frozen=True)
class Reporter:
    """The reporter as OAuth (or the dev login) described them; sealed with the report."""

    username: str
    central_id: int | None = None
    blocked: bool = False
    editcount: int | None = None
    registered: str | None = None
    confirmed_email: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(Reporter)}


@dataclass(frozen=True)
class FieldError:
    """One problem with one field; ``code`` maps to message ``reporting-error-<code>``."""

    field: str
    code: str
    params: tuple[Any, ...] = ()

    @property
    def message_key(self) -> str:
        if self.field == "category" and self.code == "required":
            # A group of radio buttons is not "filled in": the reporter chooses what happened.
            return "reporting-error-category-required"
        return f"reporting-error-{self.code}"


@dataclass(frozen=True)
class Submission:
    """A validated report, as the reporter wrote it (identity comes from the session)."""

    wiki: str
    category: str
    reported_users: tuple[str, ...]
    evidence: tuple[str, ...]
    description: str
    share_with_functionaries: bool

    @property
    def severity(self) -> str:
        return severity_of(self.category)

    def sealed_fields(self) -> dict[str, Any]:
        """What is encrypted at rest: everything the reporter typed."""
        return {
            "reported_users": list(self.reported_users),
            "evidence": list(self.evidence),
            "description": self.description,
        }


@dataclass
class SubmissionForm:
    """The raw values, kept exactly as typed so a refused form is re-shown intact."""

    wiki: str = ""
    category: str = ""
    reported_users: str = ""
    evidence: str = ""
    description: str = ""
    share_with_functionaries: bool = False
    errors: list[FieldError] = field(default_factory=list)
    # One per showing of an empty form, sent back with it: the same form sent
    # twice (a double click, a retry after an error) is one report.
    submission_id: str = ""

    def errors_for(self, name: str) -> list[FieldError]:
        return [error for error in self.errors if error.field == name]


API_FIELDS = frozenset({"wiki", "category", "reported_users", "evidence", "description", "share_with_functionaries"})


def has_forbidden_controls(text: str, allow_newlines: bool) -> bool:
    allowed = {"\n", "\r", "\t"} if allow_newlines else {"\t"}
    return any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in allowed for ch in text)


def evidence_errors(links: list[str], max_links: int, too_many: str = "too-many-links") -> list[FieldError]:
    """The problems of evidence links (the report's, or a follow-up's): too
    many, control characters, too long, links to images or videos."""
    errors = []
    if len(links) > max_links:
        errors.append(FieldError("evidence", too_many, (len(links), max_links)))
    for link in links:
        if has_forbidden_controls(link, allow_newlines=False):
            errors.append(FieldError("evidence", "control-characters"))
        elif len(link) > MAX_EVIDENCE_LINK_CHARS:
            errors.append(FieldError("evidence", "link-too-long", (MAX_EVIDENCE_LINK_CHARS,)))
        elif is_media_link(link):
            # Images and files are never evidence, in any form a link can take (child-safety
            # law: the tool must not fetch or store them, nor point the desk at them).
            errors.append(FieldError("evidence", "media-link"))
    return errors


def text_lines(value: Any) -> list[str] | None:
    """A list of strings from a JSON list or a textarea; None if neither."""
    if isinstance(value, str):
        return [line.strip() for line in value.splitlines() if line.strip()]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return [item.strip() for item in value if item.strip()]
    return None


def _without_user_prefix(name: str) -> str:
    """``X`` for ``User:X``: the "reported users" field accepts user-page titles too.

    ``name`` is already canonical (so spaces are single and the first letter is upper-case).
    The English namespace name matches in any letter case, with a space either side of the
    colon, as MediaWiki's title parser allows. This step belongs to this field only: other
    callers take a bare name, and a bare name is never altered by it (MediaWiki refuses user
    names that parse as a namespace prefix).
    """
    match = re.match(r"U[Ss][Ee][Rr] ?: ?", name)
    return canonical_username(name[match.end():]) if match else name


def validate_submission(
    data: Mapping[str, Any],
    normalize_wiki: Callable[[str], str | None],
    strict_fields: bool = False,
    wiki_problem: Callable[[str], str | None] = lambda raw: None,
) -> tuple[Submission | None, list[FieldError]]:
    """Check everything and report every problem at once.

    ``normalize_wiki`` maps what the reporter gave to a known wiki's host
    name, or None when it is not a Wikimedia wiki; ``wiki_problem`` then
    says why, when it is more than "unknown" (``ambiguous-wiki``: "Wikipedia"
    alone). ``strict_fields`` (the API) refuses fields it does not know, so a
    client cannot believe it set something (e.g. a reporter name) that the
    tool ignores.
    """
    errors: list[FieldError] = []
    if strict_fields:
        for name in sorted(set(data) - API_FIELDS):
            errors.append(FieldError(name, "unknown-field", (name,)))

    category = data.get("category")
    if not isinstance(category, str) or not category:
        errors.append(FieldError("category", "required"))
        category = None
    elif category not in CATEGORIES:
        errors.append(FieldError("category", "unknown-category"))
        category = None

    wiki_raw = data.get("wiki", "" if category in WIKI_OPTIONAL_CATEGORIES else None)
    wiki = None
    if category in WIKI_OPTIONAL_CATEGORIES and (wiki_raw is None or (isinstance(wiki_raw, str)
                                                                      and not wiki_raw.strip())):
        wiki = ""
    elif not isinstance(wiki_raw, str) or not wiki_raw.strip():
        errors.append(FieldError("wiki", "required"))
    elif has_forbidden_controls(wiki_raw, allow_newlines=False):
        errors.append(FieldError("wiki", "control-characters"))
    else:
        wiki = normalize_wiki(wiki_raw.strip())
        if wiki is None:
            code = wiki_problem(wiki_raw.strip())
            errors.append(FieldError("wiki", code if code in ("ambiguous-wiki", "private-wiki") else "unknown-wiki",
                                     (wiki_raw.strip()[:100],)))

    users = text_lines(data.get("reported_users", []))
    if users is None:
        errors.append(FieldError("reported_users", "not-a-list"))
        users = []
    users = [_without_user_prefix(canonical_username(user)) for user in users]
    if len(users) > MAX_REPORTED_USERS:
        errors.append(FieldError("reported_users", "too-many-users", (len(users), MAX_REPORTED_USERS)))
    for user in users:
        if has_forbidden_controls(user, allow_newlines=False):
            errors.append(FieldError("reported_users", "control-characters"))
        elif len(user) > MAX_USERNAME_CHARS or _INVALID_USERNAME_CHARS.search(user):
            errors.append(FieldError("reported_users", "invalid-username", (user[:100],)))

    evidence = text_lines(data.get("evidence", []))
    if evidence is None:
        errors.append(FieldError("evidence", "not-a-list"))
        evidence = []
    errors += evidence_errors(evidence, MAX_EVIDENCE_LINKS)
    if category == "child-safety":
        for link in evidence:
            if _off_wiki(link, normalize_wiki):
                # Such material found elsewhere goes to legal-reports@wikimedia.org (the form says so).
                errors.append(FieldError("evidence", "off-wiki-child-safety"))
                break

    description = data.get("description", "")
    if not isinstance(description, str):
        errors.append(FieldError("description", "not-text"))
        description = ""
    description = description.replace("\r\n", "\n").strip()
    if len(description) > MAX_DESCRIPTION_CHARS:
        errors.append(FieldError("description", "description-too-long", (len(description), MAX_DESCRIPTION_CHARS)))
    if has_forbidden_controls(description, allow_newlines=True):
        errors.append(FieldError("description", "control-characters"))
    if category == "other" and not description:
        errors.append(FieldError("description", "description-required"))

    share = data.get("share_with_functionaries", False)
    if not isinstance(share, bool):
        errors.append(FieldError("share_with_functionaries", "not-a-boolean"))

    if errors:
        return None, deduplicate(errors)
    assert wiki is not None and category is not None  # no error means both were checked
    return (
        Submission(
            wiki=wiki,
            category=category,
            reported_users=tuple(dict.fromkeys(users)),
            evidence=tuple(evidence),
            description=description,
            share_with_functionaries=share,
        ),
        [],
    )


def _off_wiki(line: str, normalize_wiki: Callable[[str], str | None]) -> bool:
    """Whether ``line`` holds a web address that is not on a known wiki (nor a w.wiki short link)."""
    hosts = {host_of(url) for url in url_tokens(line)}
    # w.wiki, Wikimedia's URL shortener, leads to wikis (the resolver checks where).
    return any(host != SHORT_URL_HOST and normalize_wiki(host) is None for host in hosts)


def deduplicate(errors: list[FieldError]) -> list[FieldError]:
    """One message per (field, code): fifty bad lines need one sentence, not fifty."""
    return list({(error.field, error.code): error for error in errors}.values())
