"""The shapes of evidence as it travels: parsed links, resolved facts, wikitext analyses.

They are plain dicts at run time (they go into JSON answers, sealed report content and
``report.json``); these TypedDicts say which keys exist and what they hold, so the parser
(:mod:`reporting.evidence.links`), the resolver (:mod:`reporting.evidence.resolve`), the
analysis (:mod:`reporting.evidence.wikitext`) and their readers agree.

Most keys are optional (``total=False``): which ones a link carries depends on its ``kind``,
on whether it parsed at all (``error``) and on how far resolution got (``status``).
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

__all__ = [
    "Analysis",
    "EvidenceLink",
    "Kind",
    "LogFacts",
    "ResolvedLink",
    "RevisionFacts",
    "Signature",
    "Status",
]

Kind = Literal["diff", "revision", "page", "log", "contribs", "comment", "shorturl"]
Status = Literal["resolved", "missing", "unresolved"]


class EvidenceLink(TypedDict, total=False):
    """One pasted item as the parser read it: ``{"input", "wiki", "kind", ...fields}``, or
    ``{"input", "error"}``. Pure facts of the link; nothing was asked of a wiki yet.

    Shapes per kind (a contract with the resolver):

    - diff: ``oldid`` int|None, ``newid`` int|"prev"|"next"|"cur"; MediaWiki's pair is kept as
      written (``diff=prev&oldid=N`` is oldid N, newid "prev"). ``reversed: True`` when both
      are numbers and oldid > newid. ``title`` (informational, the revision's page wins) when
      the link named a page. When there is no oldid and newid is "cur" (``?title=T&diff=cur``:
      the page's last edit) the target page is required and given as ``title`` or ``pageid``.
      ``direction`` ("prev"|"next") when the URL had one next to an oldid: MediaWiki first
      moves the oldid to the revision before/after it.
    - revision: ``revid`` and optional ``direction``.
    - page: ``title`` or ``pageid``.
    - log: ``logid``, or ``log_type`` (None for all logs) with optional ``title`` and ``user``.
    - contribs: ``user`` (IP addresses and ranges allowed), or ``userid``.
    - comment: ``comment_id`` and optional ``title``.
    - shorturl: ``{"wiki": "w.wiki", "code"}``; the resolver expands it and re-parses the target.
    - ``fragment`` (decoded) whenever the link had one.
    """

    input: str  # the pasted text, as given
    error: str  # why it is not usable evidence: see reporting.evidence.links for the codes
    wiki: str  # the registry's host (never a host outside the registry), or "w.wiki"
    kind: Kind
    fragment: str
    oldid: int | None
    newid: int | str
    reversed: bool
    direction: str
    title: str
    pageid: int
    revid: int
    logid: int
    log_type: str | None  # a log filter on a log link; the entry's type once resolved
    user: str
    userid: int
    comment_id: str
    code: str
    # Added by the JSON API for the form (reporting.views.evidence.with_messages), never stored:
    # the error or unresolved reason in the reporter's language.
    message: str


class Signature(TypedDict):
    user: str
    timestamp: str  # as written in the wikitext, e.g. "10:00, 1 March 2024 (UTC)"


class Analysis(TypedDict):
    """What an edit did, from its two wikitexts (``wikitext.analyze_change``)."""

    added_text: str  # readable text, hunks separated by newlines
    removed_text: str
    signatures: list[Signature]  # new signatures
    mentions: list[str]  # users pinged by template, or linked and not the signer
    user_links: list[str]  # new links to user pages or contributions
    section: str | None  # heading of the section the change is in; None at the top of the page
    structured_data: bool  # not wikitext (JSON, Wikibase...): nothing was analysed
    # True when the analysis hit its work bound (a hostile or enormous edit) and settled for a
    # coarser answer: some text may be missing or not paired word by word. Absent in facts
    # stored before the bound existed.
    limited: NotRequired[bool]
    # Set when the stored text was cut (reporting.housekeeping keeps 5,000 characters each).
    added_text_truncated: NotRequired[bool]
    removed_text_truncated: NotRequired[bool]


class RevisionFacts(TypedDict):
    """The visible facts of one revision; hidden parts are None and flagged."""

    author: str | None
    author_hidden: bool
    timestamp: str | None
    comment: str | None
    comment_hidden: bool
    tags: list[str]
    revision_deleted: bool
    suppressed: bool


class LogFacts(TypedDict):
    """The visible facts of one log entry; hidden parts are None and flagged."""

    log_id: int | None
    log_type: str | None
    log_action: str | None
    page_title: str | None
    author: str | None
    author_hidden: bool
    timestamp: str | None
    comment: str | None
    comment_hidden: bool
    action_hidden: bool
    suppressed: bool
    tags: list[str]


class ResolvedLink(EvidenceLink, total=False):
    """A link after resolution: the parsed link, ``status`` and the facts the wiki gave.

    Error links pass through unchanged (no ``status``). ``unresolved`` links carry
    ``reason`` (message ``reporting-evidence-unresolved-<reason>``), ``retryable`` and maybe
    ``reason_detail``; ``missing`` links may say ``deleted`` and ``page_title``.
    """

    status: Status
    reason: str
    retryable: bool
    reason_detail: str
    # diffs, revisions, pages (RevisionFacts and more)
    page_title: str | None
    page_id: int | None
    old_revid: int | None
    new_revid: int | None
    author: str | None  # None when hidden on the wiki
    author_hidden: bool
    timestamp: str | None
    comment: str | None  # None when hidden on the wiki
    comment_hidden: bool
    tags: list[str]
    size_change: int | None
    deleted: bool
    revision_deleted: bool
    suppressed: bool
    cross_page: bool
    content_model: str | None
    old_author: str | None
    old_timestamp: str | None
    old_deleted: bool
    analysis: Analysis | None
    analysis_unavailable: str  # "text-hidden" or "old-revision-unavailable"
    # contribs
    is_ip: bool
    user_id: int | None
    edit_count: int | None
    registration: str | None
    groups: list[str]
    blocked: bool
    # log entries (LogFacts), or a log listing's entries
    log_id: int | None
    log_action: str | None
    action_hidden: bool
    entries: list[LogFacts]
    # comments
    comment_name: str | None
    # short links: the target's status and facts are copied onto the short link too
    expanded_url: str
    target: ResolvedLink
