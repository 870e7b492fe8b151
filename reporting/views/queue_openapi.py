"""The OpenAPI description of ``/api/v1/queue``: the functionaries' workspace.

Merged into :func:`reporting.views.openapi.openapi_document`; kept apart so
the reporter's API and the workspace's can be read (and changed) on their own.
"""
from __future__ import annotations

from typing import Any

from reporting.cases.statuses import Source, Status
from reporting.cases.workspace import MAX_DECLINE_REASON_CHARS, MAX_MESSAGE_CHARS, MAX_NOTE_CHARS, SETTABLE
from reporting.intake.submission import CATEGORIES
from reporting.storage.queue import AGES

_ERRORS = {
    "description": "Problems, each with the field, a stable code and a message in the user's language.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Errors"}}},
}
_LOGIN = {"401": {"description": "Not logged in.", "content": _ERRORS["content"]}}
_NOT_FOUND = {"404": {**_ERRORS, "description": "No such case, or one the user may not see (the same answer); "
                                                "also for a user with no role."}}
_DESTINATIONS = ["zendesk", "znuny", "smtp", "maildir", "local", None]
_STATUSES = [status.value for status in Status]
_REF = {"name": "ref", "in": "path", "required": True, "schema": {"type": "string"}}
_CSRF: list[dict[str, list[str]]] = [{"session": [], "csrf": []}]


def queue_schemas() -> dict[str, Any]:
    return {
        "QueueCase": {
            "type": "object",
            "required": ["ref", "wiki", "category", "severity", "status", "created_at", "assignee",
                         "destination_kind"],
            "properties": {
                "ref": {"type": "string"},
                "wiki": {"type": "string"},
                "category": {"type": "string", "enum": list(CATEGORIES)},
                "severity": {"type": "string", "enum": ["emergency", "high", "normal"]},
                "status": {"type": "string", "enum": _STATUSES},
                "created_at": {"type": "string", "format": "date-time"},
                "assignee": {"type": ["string", "null"], "description": "The functionary working on it."},
                "destination_kind": {"type": ["string", "null"], "enum": _DESTINATIONS,
                                     "description": "Where the case was routed."},
            }},
        "WorkspaceEntry": {
            "type": "object",
            "required": ["at", "status", "source", "kind", "internal", "author", "message"],
            "properties": {
                "at": {"type": "string", "format": "date-time"},
                "status": {"type": "string", "enum": _STATUSES},
                "source": {"type": "string", "enum": [source.value for source in Source]},
                "kind": {"type": "string", "enum": ["status", "message", "followup", "withdrawal", "note",
                                                    "decline-reason"]},
                "internal": {"type": "boolean", "description": "Never shown to the reporter."},
                "author": {"type": ["string", "null"], "description": "The functionary who wrote it."},
                "message": {"type": ["string", "null"]},
            }},
        "WorkspaceCase": {
            "type": "object",
            "description": "The whole case, as the case page shows it. Each read is audited.",
            "required": ["ref", "wiki", "category", "severity", "status", "created_at", "updated_at", "assignee",
                         "destination_kind", "desk_ticket", "desk_managed", "settable_statuses",
                         "share_with_functionaries", "purged", "reported_users", "evidence", "evidence_facts",
                         "evidence_state", "description", "reporter", "followups", "timeline"],
            "properties": {
                "ref": {"type": "string"}, "wiki": {"type": "string"},
                "category": {"type": "string", "enum": list(CATEGORIES)},
                "severity": {"type": "string", "enum": ["emergency", "high", "normal"]},
                "status": {"type": "string", "enum": _STATUSES},
                "created_at": {"type": "string", "format": "date-time"},
                "updated_at": {"type": "string", "format": "date-time"},
                "assignee": {"type": ["string", "null"]},
                "destination_kind": {"type": ["string", "null"], "enum": _DESTINATIONS},
                "desk_ticket": {"type": ["string", "null"], "description": "The desk's ticket id."},
                "desk_managed": {"type": "boolean",
                                 "description": "An API desk (Zendesk, Znuny) keeps the status: PATCH `status` "
                                                "and `message_to_reporter` answer 409."},
                "settable_statuses": {"type": "array", "items": {"type": "string", "enum": _STATUSES}},
                "share_with_functionaries": {"type": "boolean"},
                "purged": {"type": "boolean"},
                "reported_users": {"type": "array", "items": {"type": "string"}},
                "evidence": {"type": "array", "items": {"type": "string"}},
                "evidence_facts": {"type": "array", "items": {"type": "object"},
                                   "description": "What the wikis said about each link."},
                "evidence_state": {"type": "string"},
                "description": {"type": "string"},
                "reporter": {"type": "object", "properties": {
                    "username": {"type": "string", "description": "Trust and Safety only."},
                    "blocked": {"type": "boolean"}, "editcount": {"type": ["integer", "null"]},
                    "registered": {"type": ["string", "null"]}}},
                "followups": {"type": "array", "items": {"type": "object", "properties": {
                    "at": {"type": "string", "format": "date-time"}, "kind": {"type": "string"},
                    "text": {"type": "string"}, "evidence": {"type": "array", "items": {"type": "string"}}}}},
                "timeline": {"type": "array", "items": {"$ref": "#/components/schemas/WorkspaceEntry"}},
            }},
        "CaseChange": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "status": {"type": "string", "enum": [str(status) for status in SETTABLE]},
                "message_to_reporter": {"type": ["string", "null"], "maxLength": MAX_MESSAGE_CHARS,
                                        "description": "Shown in the reporter's timeline, without a name."},
                "reason": {"type": ["string", "null"], "maxLength": MAX_DECLINE_REASON_CHARS,
                           "description": "Required with `declined`; internal."},
                "unfounded": {"type": "boolean", "description": "With `declined`: manifestly unfounded."},
                "assignee": {"type": ["string", "null"], "enum": ["me", None]},
            }},
        "NewNote": {
            "type": "object", "additionalProperties": False, "required": ["text"],
            "properties": {"text": {"type": "string", "maxLength": MAX_NOTE_CHARS}}},
    }


def queue_paths() -> dict[str, Any]:
    filters = [{"name": name, "in": "query", "required": False, "schema": schema} for name, schema in (
        ("status", {"type": "string", "enum": _STATUSES}),
        ("category", {"type": "string", "enum": list(CATEGORIES)}),
        ("severity", {"type": "string", "enum": ["emergency", "high", "normal"]}),
        ("wiki", {"type": "string"}),
        ("assignee", {"type": "string", "enum": ["mine", "nobody"]}),
        ("age", {"type": "string", "enum": list(AGES)}),
        ("page", {"type": "integer", "minimum": 1}))]
    case_answer = {"description": "The case.", "content": {"application/json": {"schema": {
        "$ref": "#/components/schemas/WorkspaceCase"}}}}
    return {
        "/queue": {"get": {
            "summary": "The cases the user may see: the newest emergency first, then the oldest case first; "
                       "nothing is decrypted for the list.",
            "parameters": filters,
            "responses": {
                "200": {"description": "One page of cases.", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["cases", "next_page"], "properties": {
                        "cases": {"type": "array", "items": {"$ref": "#/components/schemas/QueueCase"}},
                        "next_page": {"type": ["integer", "null"]},
                        "counts": {"type": "object", "additionalProperties": {"type": "integer"},
                                   "description": "Cases per status under the other filters."}}}}}},
                "404": {**_ERRORS, "description": "The user holds no role."},
                "422": {**_ERRORS, "description": "A filter value is not known (`filter-invalid`)."}, **_LOGIN}}},
        "/queue/{ref}": {
            "get": {"summary": "The whole case (audited).", "parameters": [_REF],
                    "responses": {"200": case_answer, **_NOT_FOUND, **_LOGIN}},
            "patch": {
                "summary": "Change the case's status (with a message to the reporter), its assignee, or both.",
                "security": _CSRF, "parameters": [_REF],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/CaseChange"}}}},
                "responses": {
                    "200": {**case_answer, "description": "The updated case."},
                    "400": _ERRORS, "403": {**_ERRORS, "description": "CSRF token missing or wrong (`csrf`)."},
                    **_NOT_FOUND,
                    "409": {**_ERRORS, "description": "The status is kept by an API desk (`desk-managed`), the "
                                                      "change is not allowed from the current status "
                                                      "(`status-not-allowed`), or the case changed meanwhile "
                                                      "(`case-changed`)."},
                    "415": _ERRORS, "422": _ERRORS, **_LOGIN}}},
        "/queue/{ref}/notes": {"post": {
            "summary": "Add an internal note (sealed; never shown to the reporter).",
            "security": _CSRF, "parameters": [_REF],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/NewNote"}}}},
            "responses": {
                "201": {"description": "Stored.", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["note"], "properties": {"note": {
                        "type": "object", "properties": {"author": {"type": "string"},
                                                         "text": {"type": "string"}}}}}}}},
                "400": _ERRORS, "403": {**_ERRORS, "description": "CSRF token missing or wrong (`csrf`)."},
                **_NOT_FOUND, "415": _ERRORS, "422": _ERRORS, **_LOGIN}}},
        "/queue/{ref}/audit": {"get": {
            "summary": "The case's audit log (Trust and Safety only; 404 for everyone else).",
            "parameters": [_REF],
            "responses": {
                "200": {"description": "The entries, oldest first; never any content.",
                        "content": {"application/json": {"schema": {
                            "type": "object", "required": ["entries"], "properties": {"entries": {
                                "type": "array", "items": {"type": "object", "required": ["at", "actor", "action"],
                                                           "properties": {
                                                               "at": {"type": "string", "format": "date-time"},
                                                               "actor": {"type": "string"},
                                                               "action": {"type": "string"}}}}}}}}},
                **_NOT_FOUND, **_LOGIN}}},
    }
