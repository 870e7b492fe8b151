"""Reading report submissions from HTML forms and JSON bodies.

Both paths end in :func:`reporting.intake.submission.validate_submission`. Bodies that
are not valid UTF-8 are refused outright instead of being "repaired" with
replacement characters: a report must say exactly what its reporter typed.
"""
from __future__ import annotations

import json
import re
import secrets
from typing import Any
from urllib.parse import parse_qsl, quote

from flask import Request

from reporting.intake.submission import API_FIELDS, SubmissionForm


class BadBody(Exception):
    """The body cannot be read; ``code`` names why (message ``reporting-error-<code>``)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    @property
    def status(self) -> int:
        return 415 if self.code == "unsupported-media-type" else 400

    @property
    def message_key(self) -> str:
        return f"reporting-error-{self.code}"


def read_json_body(request: Request) -> dict[str, Any]:
    if request.mimetype != "application/json":
        raise BadBody("unsupported-media-type")
    raw = request.get_data(cache=True)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadBody("invalid-utf8") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than Python's stack
        raise BadBody("invalid-json") from None
    if not isinstance(data, dict):
        raise BadBody("invalid-json")
    return data


def check_form_encoding(request: Request) -> None:
    """Refuse uploads and percent-encoded bytes that are not UTF-8.

    Werkzeug would quietly replace invalid bytes; we want to know. The raw
    body is cached, so Flask's form parsing still works afterwards.
    """
    if request.mimetype != "application/x-www-form-urlencoded":
        raise BadBody("unsupported-media-type")
    raw = request.get_data(cache=True)
    try:
        parse_qsl(raw.decode("ascii"), keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise BadBody("invalid-utf8") from None


_SUBMISSION_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")


def new_submission_id() -> str:
    """A one-time id for one showing of the report form (see ``SubmissionForm.submission_id``)."""
    return secrets.token_urlsafe(18)


def form_from_request(request: Request) -> SubmissionForm:
    """The typed values, unchanged, for validation and for re-showing the form.

    A missing or malformed submission id is replaced by a new one: that
    sending is not protected against a repeat, the next one is.
    """
    form = request.form
    submission_id = form.get("submission_id", "")
    return SubmissionForm(
        submission_id=submission_id if _SUBMISSION_ID.fullmatch(submission_id) else "",
        wiki=form.get("wiki", ""),
        category=form.get("category", ""),
        reported_users=form.get("reported_users", ""),
        evidence=form.get("evidence", ""),
        description=form.get("description", ""),
        share_with_functionaries=form.get("share_with_functionaries") == "1",
    )


def form_data(form: SubmissionForm) -> dict[str, Any]:
    """The typed values under the API's field names, for the shared validation."""
    return {name: getattr(form, name) for name in API_FIELDS}


def prefill_from_query(args: dict[str, str]) -> SubmissionForm:
    """The gadget links here with what it knows about the page the reporter was on.

    ``wiki``, ``page``, ``user``, ``diff``, ``oldid``, ``revid`` become the wiki
    field, one evidence link and one reported user. Values are only ever put
    into form fields (escaped), never followed.
    """
    wiki = args.get("wiki", "").strip()[:255]
    page = args.get("page", "").strip()[:255]
    user = args.get("user", "").strip()[:255]
    diff, oldid, revid = (args.get(name, "").strip()[:20] for name in ("diff", "oldid", "revid"))
    evidence = ""
    base = f"https://{wiki}" if wiki else ""
    if diff and (diff.isdigit() or diff in ("prev", "next", "cur")):
        evidence = f"{base}/w/index.php?diff={diff}" + (f"&oldid={oldid}" if oldid.isdigit() else "")
    elif oldid.isdigit():
        evidence = f"{base}/w/index.php?oldid={oldid}"
    elif revid.isdigit():
        evidence = f"{base}/wiki/Special:PermanentLink/{revid}"
    elif page:
        evidence = f"{base}/wiki/{quote(page.replace(' ', '_'), safe='/:,()!*')}"
    return SubmissionForm(wiki=wiki, reported_users=user, evidence=evidence, submission_id=new_submission_id())
