"""The OpenAPI 3.1 description of ``/api/v1``, served at ``/api/v1/openapi.json``."""
from __future__ import annotations

from typing import Any

from reporting.cases.followups import MAX_FOLLOWUP_CHARS, MAX_FOLLOWUP_LINKS, MAX_REASON_CHARS
from reporting.cases.statuses import Source, Status
from reporting.intake.submission import CATEGORIES, MAX_DESCRIPTION_CHARS, MAX_EVIDENCE_LINKS, MAX_REPORTED_USERS
from reporting.version import __version__
from reporting.views.queue_openapi import queue_paths, queue_schemas

_ERRORS = {
    "description": "Problems, each with the field, a stable code and a message in the user's language.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Errors"}}},
}


def _evidence_path(summary: str) -> dict[str, Any]:
    """``/evidence/parse`` and ``/evidence/resolve``: the same body, limits and errors."""
    login = {"401": {"description": "Not logged in.", **{k: v for k, v in _ERRORS.items() if k == "content"}}}
    return {"post": {
        "summary": summary,
        "security": [{"session": [], "csrf": []}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["text"], "properties": {
                "text": {"type": "string", "description": "Links as pasted, one per line or inside prose."},
                "context_wiki": {"type": "string", "description": "The wiki wikilinks are read on."}}}}}},
        "responses": {
            "200": {"description": "One object per link found: the parsed link (or `error` with a `message`), "
                                   "and for `/resolve` its `status` and facts.",
                    "content": {"application/json": {"schema": {"type": "object", "properties": {
                        "links": {"type": "array", "items": {"type": "object"}}}}}}},
            "400": _ERRORS, "415": _ERRORS, **login,
            "403": {**_ERRORS, "description": "CSRF token missing or wrong (`csrf`), or the user is barred "
                                              "(`barred`)."},
            "422": {**_ERRORS, "description": f"Not text (`not-text`), more than {MAX_EVIDENCE_LINKS} links "
                                               "(`too-many-links`) or links on more wikis than one check may ask "
                                               "(`too-many-wikis`); nothing was asked of any wiki."},
            "429": {**_ERRORS, "description": "The user checked links too often (`rate-limited`).",
                    "headers": {"Retry-After": {"description": "Seconds until a check fits again.",
                                                "schema": {"type": "integer"}}}}}}}


def openapi_document() -> dict[str, Any]:
    summary = {
        "type": "object",
        "required": ["ref", "status", "wiki", "category", "severity", "created_at", "updated_at"],
        "properties": {
            "ref": {"type": "string", "pattern": "^IR-[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$"},
            "status": {"type": "string", "enum": [status.value for status in Status]},
            "wiki": {"type": "string", "examples": ["en.wikipedia.org"]},
            "category": {"type": "string", "enum": list(CATEGORIES)},
            "severity": {"type": "string", "enum": ["emergency", "high", "normal"]},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "url": {"type": "string"},
        },
    }
    new_report = {
        "type": "object",
        "additionalProperties": False,
        "required": ["category"],
        "properties": {
            "wiki": {"type": "string", "description": (
                "The wiki: a host (en.wikipedia.org), an address on it, a database name (enwiki), an "
                "interwiki prefix (commons) or its name (English Wikipedia). Stored as the host. Required "
                "except for category 'offline-or-event-safety' (then stored as \"\").")},
            "category": {"type": "string", "enum": list(CATEGORIES)},
            "reported_users": {"type": "array", "maxItems": MAX_REPORTED_USERS, "items": {"type": "string"}},
            "evidence": {"type": "array", "maxItems": MAX_EVIDENCE_LINKS, "items": {"type": "string"},
                         "description": "Links as pasted (diffs, permanent links, pages, logs)."},
            "description": {"type": "string", "maxLength": MAX_DESCRIPTION_CHARS,
                            "description": "Required for category 'other'."},
            "share_with_functionaries": {"type": "boolean", "default": False},
        },
    }
    login = {"401": {"description": "Not logged in.", **{k: v for k, v in _ERRORS.items() if k == "content"}}}
    ref_parameter = {"name": "ref", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Private incident reporting for Wikimedia", "version": __version__},
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "reporting_session"},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token"},
            },
            "schemas": {
                "ReportSummary": summary,
                "NewReport": new_report,
                "Report": {"allOf": [{"$ref": "#/components/schemas/ReportSummary"}, {
                    "type": "object",
                    "required": ["timeline", "followups", "can_follow_up", "can_withdraw"],
                    "properties": {
                        "share_with_functionaries": {"type": "boolean"},
                        "reported_users": {"type": "array", "items": {"type": "string"}},
                        "evidence": {"type": "array", "items": {"type": "string"}},
                        "description": {"type": "string"},
                        "timeline": {"type": "array", "description": "What happened to the case, oldest first.",
                                     "items": {"$ref": "#/components/schemas/TimelineEntry"}},
                        "followups": {"type": "array", "description": "What the reporter added, oldest first.",
                                      "items": {"$ref": "#/components/schemas/Followup"}},
                        "can_follow_up": {"type": "boolean",
                                          "description": "The case is open: POST /reports/{ref}/followups works."},
                        "can_withdraw": {"type": "boolean",
                                         "description": "The case is open: POST /reports/{ref}/withdraw works."},
                    }}]},
                "TimelineEntry": {
                    "type": "object",
                    "required": ["at", "status", "source", "message"],
                    "properties": {
                        "at": {"type": "string", "format": "date-time", "description": "UTC."},
                        "status": {"type": "string", "enum": [status.value for status in Status],
                                   "description": "The case's status after this entry."},
                        "source": {"type": "string", "enum": [source.value for source in Source]},
                        "message": {"type": ["string", "null"],
                                    "description": "A message from the team (in its language) or the reporter's "
                                                   "own words; null for a status change alone."},
                    }},
                "Followup": {
                    "type": "object",
                    "required": ["at", "text", "evidence"],
                    "properties": {
                        "at": {"type": "string", "format": "date-time"},
                        "text": {"type": "string"},
                        "evidence": {"type": "array", "items": {"type": "string"}},
                    }},
                "NewFollowup": {
                    "type": "object",
                    "additionalProperties": False,
                    "description": "Text, links or both; not both empty.",
                    "properties": {
                        "text": {"type": "string", "maxLength": MAX_FOLLOWUP_CHARS},
                        "evidence": {"type": "array", "maxItems": MAX_FOLLOWUP_LINKS, "items": {"type": "string"},
                                     "description": "Links as pasted; never images or files."},
                    }},
                "Withdrawal": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"reason": {"type": "string", "maxLength": MAX_REASON_CHARS,
                                              "description": "Optional; the team sees it."}}},
                "EmergencyOutcome": {
                    "type": "object",
                    "description": "Only on emergency reports: show `message` and `contacts` to the reporter at once.",
                    "required": ["delivered", "queued", "message", "contacts"],
                    "properties": {
                        "delivered": {"type": "boolean", "description": "The emergency desk has the report."},
                        "queued": {"type": "boolean",
                                   "description": "Saved, not yet delivered; the worker keeps trying."},
                        "message": {"type": "string", "description": "What happened, in the user's language."},
                        "contacts": {"type": "string", "description": "Emergency contacts, in the user's language."},
                    }},
                **queue_schemas(),
                "Errors": {"type": "object", "required": ["errors"], "properties": {"errors": {
                    "type": "array", "items": {"type": "object", "required": ["code", "message"], "properties": {
                        "field": {"type": ["string", "null"]},
                        "code": {"type": "string"},
                        "message": {"type": "string"}}}}}},
            },
        },
        "security": [{"session": []}],
        "paths": {
            "/me": {"get": {
                "summary": "The logged-in user, their roles and the CSRF token for POST requests.",
                "responses": {"200": {"description": "The user.", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["username", "roles", "csrf_token"], "properties": {
                        "username": {"type": "string"}, "roles": {"type": "array", "items": {"type": "string"}},
                        "csrf_token": {"type": "string"}}}}}}, **login}}},
            "/reports": {
                "get": {"summary": "My reports, newest first.", "responses": {"200": {
                    "description": "The reports.", "content": {"application/json": {"schema": {
                        "type": "object", "properties": {"reports": {"type": "array", "items": {
                            "$ref": "#/components/schemas/ReportSummary"}}}}}}}, **login}},
                "post": {
                    "summary": "File a report.",
                    "description": "Send an `Idempotency-Key` to make retrying safe: after a timeout or a 503 the "
                                   "client cannot know whether the report was stored; sent again with the same "
                                   "key and body, it is stored at most once.",
                    "security": [{"session": [], "csrf": []}],
                    "parameters": [{
                        "name": "Idempotency-Key", "in": "header", "required": False,
                        "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$"},
                        "description": "A key the client makes up per report (e.g. a UUID), kept for 24 hours per "
                                       "user. The same key with the same body answers with the report stored the "
                                       "first time (201 again, header `Idempotent-Replayed: true`); with another "
                                       "body it is refused (422 `idempotency-key-reused`)."}],
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {
                        "$ref": "#/components/schemas/NewReport"}}}},
                    "responses": {
                        "201": {"description": "Stored; `ref` is the case reference. Emergencies also carry "
                                               "`emergency` (delivered at once, or saved and queued). A repeated "
                                               "`Idempotency-Key` answers 201 with the first report (its current "
                                               "status) and `Idempotent-Replayed: true`.",
                                "headers": {
                                    "Location": {"description": "The report's URL.", "schema": {"type": "string"}},
                                    "Idempotent-Replayed": {"description": "`true` when this answers a repeated "
                                                                           "`Idempotency-Key`.",
                                                            "schema": {"type": "string", "enum": ["true"]}}},
                                "content": {"application/json": {"schema": {"allOf": [
                                    {"$ref": "#/components/schemas/ReportSummary"},
                                    {"type": "object", "properties": {
                                        "emergency": {"$ref": "#/components/schemas/EmergencyOutcome"}}}]}}}},
                        "400": {**_ERRORS, "description": "The body cannot be read, or a malformed "
                                                          "`Idempotency-Key` (`idempotency-key-invalid`)."},
                        "413": _ERRORS, "415": _ERRORS, **login,
                        "422": {**_ERRORS, "description": "Invalid fields (one error per problem), or an "
                                                          "`Idempotency-Key` already used with another body "
                                                          "(`idempotency-key-reused`)."},
                        "503": {**_ERRORS, "description": "The database cannot be reached (`unavailable`); nothing "
                                                          "may have been stored, or the report may have been "
                                                          "stored without the answer arriving: retry with the same "
                                                          "`Idempotency-Key`.",
                                "headers": {"Retry-After": {"description": "Seconds to wait before retrying.",
                                                            "schema": {"type": "integer"}}}},
                        "403": {**_ERRORS, "description": "CSRF token missing or wrong (`csrf`), the user "
                                                          "is barred from reporting (`barred`), or suspended "
                                                          "from non-emergency reporting after reports declined "
                                                          "as manifestly unfounded (`suspended`; the message "
                                                          "says for how many more days; emergency categories "
                                                          "stay open)."},
                        "429": {**_ERRORS, "description": "Daily limit reached (`rate-limited`); emergencies "
                                                          "are never limited.",
                                "headers": {"Retry-After": {"description": "Seconds until a report fits again.",
                                                            "schema": {"type": "integer"}}}}}},
            },
            "/evidence/parse": _evidence_path(
                "Read pasted evidence as links (nothing stored). Localised names may be asked of the wikis."),
            "/evidence/resolve": _evidence_path(
                "Read pasted evidence and ask the wikis what each link shows (nothing stored). Links a wiki "
                "did not answer in time are `unresolved` (`not-checked` or `wiki-unavailable`)."),
            "/reports/{ref}": {"get": {
                "summary": "One of my reports, with its timeline (404 for anyone else's).",
                "parameters": [ref_parameter],
                "responses": {"200": {"description": "The report.", "content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/Report"}}}}, "404": _ERRORS, **login}}},
            **{f"/evidence/{action}": {"post": {
                "summary": summary_text,
                "security": [{"session": [], "csrf": []}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["text"], "properties": {
                        "text": {"type": "string", "description": "Links as pasted, one per line or in prose."},
                        "context_wiki": {"type": "string",
                                         "description": "The wiki relative links and wikilinks belong to."}}}}}},
                "responses": {
                    "200": {"description": "One entry per link found, in order; a link that cannot be read "
                                           "carries `error` (or `status: unresolved`) and a localized `message`.",
                            "content": {"application/json": {"schema": {"type": "object", "properties": {
                                "links": {"type": "array", "items": {"type": "object"}}}}}}},
                    "400": _ERRORS, "403": _ERRORS, "415": _ERRORS, "422": _ERRORS, **login}}}
               for action, summary_text in (
                   ("parse", "Read links as MediaWiki reads them (no request to any wiki)."),
                   ("resolve", "Read links and look them up on their wikis (what the form's \"Check the links\" "
                               "shows); nothing is stored."))},
            "/reports/{ref}/followups": {"post": {
                "summary": "Add text and evidence links to one of my open reports; the team gets them on the "
                           "same ticket.",
                "security": [{"session": [], "csrf": []}],
                "parameters": [ref_parameter],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/NewFollowup"}}}},
                "responses": {
                    "201": {"description": "Stored; on its way to the team.", "content": {"application/json": {
                        "schema": {"type": "object", "required": ["followup"], "properties": {
                            "followup": {"$ref": "#/components/schemas/Followup"}}}}}},
                    "400": _ERRORS, "403": {**_ERRORS, "description": "CSRF token missing or wrong (`csrf`)."},
                    "404": _ERRORS, "409": {**_ERRORS, "description": "The report is closed or withdrawn "
                                                                      "(`case-closed`)."},
                    "415": _ERRORS, "422": _ERRORS, **login,
                    "429": {**_ERRORS, "description": "Too many follow-ups to this report in 24 hours "
                                                      "(`rate-limited`).",
                            "headers": {"Retry-After": {"schema": {"type": "integer"}}}}}}},
            "/reports/{ref}/withdraw": {"post": {
                "summary": "Withdraw one of my open reports; the team is told.",
                "security": [{"session": [], "csrf": []}],
                "parameters": [ref_parameter],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/Withdrawal"}}}},
                "responses": {
                    "200": {"description": "The report, now withdrawn.", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Report"}}}},
                    "400": _ERRORS, "403": {**_ERRORS, "description": "CSRF token missing or wrong (`csrf`)."},
                    "404": _ERRORS, "409": {**_ERRORS, "description": "The report is already closed or withdrawn "
                                                                      "(`case-closed`)."},
                    "415": _ERRORS, "422": _ERRORS, **login}}},
            **queue_paths(),
        },
    }
