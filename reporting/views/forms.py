"""Reading report submissions from HTML forms and JSON bodies.

Both paths end in :func:`reporting.intake.submission.validate_submission`. Bodies that
are not valid UTF-8 are refused outright instead of being "repaired" with
replacement characters: a report must say exactly what its reporter typed.
"""
from __future__ import annotations

import json
import re
import secrets
import unicodedata
from collections.abc import Callable, Mapping
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


WikiSite = Callable[[str], tuple[str, str] | None]
"""(host, script path) of the wiki named in ``wiki`` (``/w`` on Wikimedia wikis), None if unknown."""

# Title characters links keep as they are (MediaWiki's wfUrlencode keeps the same ASCII ones);
# every other ASCII character is percent-encoded, so "&", "?", "#", "+" and "=" survive a query.
_TITLE_SAFE = frozenset("-._~;@$!*(),/:")
# A revision id as the gadget sends it; longer or other digits (² and ٣ are digits to str.isdigit)
# are refused whole, never cut to a different id.
_REVISION_ID = re.compile(r"[0-9]{1,20}")
# What may serve as the host of a link: no path, query, fragment, user-info or whitespace.
_HOSTISH = re.compile(r"[^\s/?#@\\]+")


def _encode_title(title: str) -> str:
    """A title for a link: spaces as underscores, letters of every script readable as they are,
    everything else percent-encoded (UTF-8). The evidence parser reads both forms."""
    out = []
    for char in title.replace(" ", "_"):
        readable = (char.isalnum() or char in _TITLE_SAFE) if char.isascii() else unicodedata.category(char)[0] in "LMN"
        out.append(char if readable else quote(char, safe=""))
    return "".join(out)


def _revision_id(value: str) -> str:
    value = value.strip()
    return value if _REVISION_ID.fullmatch(value) else ""


def prefill_from_query(args: Mapping[str, str], site: WikiSite = lambda wiki: None) -> SubmissionForm:
    """The gadget links here with what it knows about the page the reporter was on.

    ``wiki`` (the gadget sends the wiki's host name), ``page``, ``user``, ``diff``, ``oldid`` and
    ``revid`` become the wiki field, one evidence link and one reported user. The link is the one
    MediaWiki itself would show, with the page's title in it so the reporter sees every value:

    - ``diff`` (a number, ``prev``, ``next`` or ``cur``), maybe ``oldid``: ``index.php?title=P&diff=N&oldid=M``
    - ``oldid`` alone, or ``revid`` with a page: ``index.php?title=P&oldid=N`` (a permanent link)
    - ``revid`` without a page: ``/wiki/Special:PermanentLink/N``
    - ``page`` alone: ``/wiki/P``; ``user`` alone: ``/wiki/Special:Contributions/U``

    ``site`` gives the wiki's script path (``/w`` on Wikimedia wikis, another one on a wiki an
    operator registered), so that the evidence parser reads the link back on any known wiki.
    Values are only ever put into form fields (escaped), never followed.
    """
    if not args:  # the form opened from the tool's own menu
        return SubmissionForm()
    wiki = args.get("wiki", "").strip()[:255]
    page = args.get("page", "").strip()[:255]
    user = args.get("user", "").strip()[:255]
    raw_diff = args.get("diff", "").strip()
    diff = raw_diff if raw_diff in ("prev", "next", "cur") else _revision_id(raw_diff)
    oldid, revid = _revision_id(args.get("oldid", "")), _revision_id(args.get("revid", ""))
    known = site(wiki) if wiki else None
    if known is not None:
        host, script = known
    else:
        host, script = (wiki if _HOSTISH.fullmatch(wiki) else ""), "/w"
    base = f"https://{host}" if host else ""
    title = f"title={_encode_title(page)}&" if page else ""
    evidence = ""
    if diff:
        evidence = f"{base}{script}/index.php?{title}diff={diff}" + (f"&oldid={oldid}" if oldid else "")
    elif oldid:
        evidence = f"{base}{script}/index.php?{title}oldid={oldid}"
    elif revid:
        evidence = (f"{base}{script}/index.php?{title}oldid={revid}" if page
                    else f"{base}/wiki/Special:PermanentLink/{revid}")
    elif page:
        evidence = f"{base}/wiki/{_encode_title(page)}"
    elif user:
        evidence = f"{base}/wiki/Special:Contributions/{_encode_title(user)}"
    return SubmissionForm(wiki=wiki, reported_users=user, evidence=evidence, submission_id=new_submission_id())
