"""The functionaries' workspace: the queue, a case, and what may be done to it.

The HTML pages (:mod:`reporting.views.queue_pages`) and the JSON API
(:mod:`reporting.views.queue_api`) both go through :class:`Workspace`, so
they show, accept and refuse the same things. Who may see a case is
:mod:`reporting.cases.access`' decision; a case someone may not see is
None here, and callers MUST answer it exactly like an unknown reference.

Where a case's status lives depends on its desk: an API desk (Zendesk,
Znuny) is the source of truth and the status sync brings its status here,
so the workspace refuses to change it (409 ``desk-managed``); e-mail desks
and the tool's own ``local:`` queues cannot be asked, so the workspace sets
their status. Notes and assignment work everywhere.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reporting.cases.access import Grant, grants_for, reads_audit
from reporting.cases.followups import typed_text
from reporting.cases.statuses import Status, path
from reporting.delivery.destinations import parse_destination
from reporting.intake.eligibility import Refusal
from reporting.intake.submission import FieldError
from reporting.storage.audit import AuditLog
from reporting.storage.queue import CaseMeta, OpenedCase, QueueFilters, QueuePage, QueueStore, StatusConflict
from reporting.storage.records import Report

#: Desks whose status the sync reads: the workspace never overrides them.
DESK_MANAGED = frozenset({"zendesk", "znuny"})
#: What a functionary may set.
SETTABLE: tuple[Status, ...] = (Status.IN_REVIEW, Status.NEEDS_INFO, Status.RESOLVED, Status.DECLINED)
MAX_MESSAGE_CHARS = 5000
MAX_NOTE_CHARS = 5000
MAX_DECLINE_REASON_CHARS = 1000
CHANGE_FIELDS = frozenset({"status", "message_to_reporter", "reason", "unfounded", "assignee"})
NOTE_FIELDS = frozenset({"text"})

DESK_MANAGED_REFUSAL = Refusal(409, "desk-managed", "reporting-error-desk-managed")
NOT_ALLOWED_REFUSAL = Refusal(409, "status-not-allowed", "reporting-error-status-not-allowed")
CHANGED_REFUSAL = Refusal(409, "case-changed", "reporting-error-case-changed")


@dataclass(frozen=True)
class Viewer:
    """The user asking, as the session knows them now (roles refreshed from meta)."""

    username: str  # canonical
    roles: tuple[str, ...]

    @property
    def grants(self) -> tuple[Grant, ...]:
        return grants_for(self.roles)

    @property
    def reads_audit(self) -> bool:
        return reads_audit(self.roles)


def destination_kind(destination: str | None) -> str | None:
    """``zendesk``, ``znuny``, ``smtp``, ``maildir``, ``local``; None when unknown."""
    if not destination:
        return None
    try:
        return parse_destination(destination).kind
    except ValueError:  # a row routed under a configuration that no longer parses
        return None


def desk_managed(destination: str | None) -> bool:
    return destination_kind(destination) in DESK_MANAGED


@dataclass(frozen=True)
class CaseFile:
    """A case as the workspace shows it."""

    opened: OpenedCase
    destination_kind: str | None
    desk_managed: bool
    targets: tuple[Status, ...]  # the statuses the workspace may set now

    @property
    def report(self) -> Report:
        return self.opened.report


_UNSET: Any = object()


@dataclass(frozen=True)
class CaseChange:
    """A valid change: any of a status (with a message, a decline's reason and mark), an assignee."""

    status: Status | None = None
    message: str | None = None
    reason: str | None = None
    unfounded: bool = False
    assignee: Any = _UNSET  # "me", None (nobody), or unset

    @property
    def assigns(self) -> bool:
        return self.assignee is not _UNSET


@dataclass(frozen=True)
class Outcome:
    errors: list[FieldError] = field(default_factory=list)
    refusal: Refusal | None = None

    @property
    def ok(self) -> bool:
        return not self.errors and self.refusal is None


def _text(data: Mapping[str, Any], name: str, limit: int, too_long: str) -> tuple[str | None, list[FieldError]]:
    """:func:`typed_text`, with None for a field left out or empty (no message, no reason)."""
    if data.get(name) is None:
        return None, []
    value, errors = typed_text(data, name, limit, too_long)
    return value or None, errors


def validate_change(data: Mapping[str, Any], strict_fields: bool) -> tuple[CaseChange | None, list[FieldError]]:
    """Check a change (``PATCH`` body or the case page's forms); every problem at once."""
    errors = [FieldError(name, "unknown-field", (name,)) for name in sorted(set(data) - CHANGE_FIELDS)] \
        if strict_fields else []
    status = None
    if data.get("status") not in (None, ""):
        if data["status"] in [str(s) for s in SETTABLE]:
            status = Status(data["status"])
        else:
            errors.append(FieldError("status", "status-unknown"))
    message, problems = _text(data, "message_to_reporter", MAX_MESSAGE_CHARS, "followup-too-long")
    errors += problems
    reason, problems = _text(data, "reason", MAX_DECLINE_REASON_CHARS, "reason-too-long")
    errors += problems
    unfounded = data.get("unfounded", False)
    if unfounded is None:
        unfounded = False
    if not isinstance(unfounded, bool):
        errors.append(FieldError("unfounded", "not-a-boolean"))
        unfounded = False
    if status == Status.DECLINED and not reason:
        errors.append(FieldError("reason", "required"))
    if status != Status.DECLINED and (reason or unfounded) and "status" not in [e.field for e in errors]:
        errors.append(FieldError("reason" if reason else "unfounded", "decline-only"))
    assignee = _UNSET
    if "assignee" in data:
        assignee = data["assignee"]
        if assignee not in ("me", None):
            errors.append(FieldError("assignee", "assignee-invalid"))
    if errors:
        return None, errors
    return CaseChange(status=status, message=message, reason=reason, unfounded=unfounded, assignee=assignee), []


@dataclass(frozen=True)
class Workspace:
    store: QueueStore
    audit: AuditLog

    def queue(self, viewer: Viewer, filters: QueueFilters) -> QueuePage:
        return self.store.list(viewer.grants, filters, viewer.username)

    def meta(self, viewer: Viewer, ref: str) -> CaseMeta | None:
        """The case if ``viewer`` may see it (nothing opened, nothing audited)."""
        return self.store.meta(viewer.grants, ref)

    def open(self, viewer: Viewer, ref: str) -> CaseFile | None:
        """The whole case if ``viewer`` may see it; the view is audited."""
        opened = self.store.open(viewer.grants, ref, viewer.username)
        if opened is None:
            return None
        managed = desk_managed(opened.meta.destination)
        targets = () if managed else tuple(s for s in SETTABLE if path(opened.meta.status, s))
        return CaseFile(opened=opened, destination_kind=destination_kind(opened.meta.destination),
                        desk_managed=managed, targets=targets)

    def change(self, viewer: Viewer, meta: CaseMeta, change: CaseChange) -> Outcome:
        """Apply a checked change: the assignment first (it works on every case), then the status.

        A change the case's desk or status refuses is refused whole, before
        anything is written; only a race lost to another writer in between
        (``case-changed``) can leave the assignment done and the status not.
        """
        if (change.status or change.message) and desk_managed(meta.destination):
            return Outcome(refusal=DESK_MANAGED_REFUSAL)
        steps = None
        if change.status is not None:
            steps = path(meta.status, change.status)
            if not steps:  # not allowed, or already there
                return Outcome(refusal=NOT_ALLOWED_REFUSAL)
        elif change.message and meta.status == Status.WITHDRAWN:
            return Outcome(refusal=NOT_ALLOWED_REFUSAL)
        if change.assigns:
            assignee = viewer.username if change.assignee == "me" else None
            if assignee != meta.assignee:
                self.store.assign(meta, assignee, viewer.username)
        if steps is not None or change.message:
            try:
                self.store.change_status(meta, steps or [], viewer.username, change.message, change.reason,
                                         change.unfounded)
            except StatusConflict:
                return Outcome(refusal=CHANGED_REFUSAL)
        return Outcome()

    def add_note(self, viewer: Viewer, meta: CaseMeta, data: Mapping[str, Any], strict_fields: bool) -> Outcome:
        errors = [FieldError(name, "unknown-field", (name,)) for name in sorted(set(data) - NOTE_FIELDS)] \
            if strict_fields else []
        text, problems = _text(data, "text", MAX_NOTE_CHARS, "followup-too-long")
        errors += problems
        if not text and not problems:
            errors.append(FieldError("text", "required"))
        if errors or text is None:
            return Outcome(errors=errors)
        self.store.add_note(meta, text, viewer.username)
        return Outcome()

    def audit_trail(self, viewer: Viewer, meta: CaseMeta) -> list[tuple[Any, str, str]] | None:
        """The case's audit entries for Trust & Safety; None for anyone else."""
        if not viewer.reads_audit:
            return None
        return self.audit.trail(meta.id)
