"""``/api/v1/evidence/parse`` and ``/resolve``: what the form shows before submit.

Both need a login (resolving costs requests to wikis on the reporter's
behalf) and, being POSTs, the CSRF header. Errors per link are codes plus a
message in the reporter's language; a bad link never fails the request.
"""
from __future__ import annotations

from collections.abc import Sequence

from flask import Blueprint, jsonify, request

from reporting.evidence.types import EvidenceLink
from reporting.views.errors import api_error
from reporting.i18n import current_language, msg_text
from reporting.intake.submission import MAX_EVIDENCE_LINKS
from reporting.components import services
from reporting.views.api import api_login_required
from reporting.views.forms import BadBody, read_json_body

bp = Blueprint("evidence_api", __name__, url_prefix="/api/v1/evidence")


def with_messages(links: Sequence[EvidenceLink], lang: str) -> list[EvidenceLink]:
    """Add a localized ``message`` to each link that failed to parse or resolve."""
    out = []
    for link in links:
        link = link.copy()
        if "error" in link:
            link["message"] = msg_text(f"reporting-evidence-error-{link['error']}", lang=lang)
        elif link.get("status") == "unresolved":
            link["message"] = msg_text(f"reporting-evidence-unresolved-{link.get('reason', 'internal-error')}", lang=lang)
        out.append(link)
    return out


def _read() -> tuple[str, str | None] | tuple[None, object]:
    try:
        data = read_json_body(request)
    except BadBody as error:
        status = 415 if error.code == "unsupported-media-type" else 400
        return None, api_error(status, error.code, f"reporting-error-{error.code}")
    text, context = data.get("text"), data.get("context_wiki")
    if not isinstance(text, str) or (context is not None and not isinstance(context, str)):
        return None, api_error(422, "not-text", "reporting-error-not-text", "text")
    return text, (services().evidence.normalize_wiki(context) if context else None)


def _parsed() -> tuple[list[dict] | None, object]:
    text, context = _read()
    if text is None:
        return None, context
    links = services().evidence.parse(text, context)
    if len(links) > MAX_EVIDENCE_LINKS:
        return None, api_error(422, "too-many-links", "reporting-error-too-many-links", "text",
                               len(links), MAX_EVIDENCE_LINKS)
    return links, None


@bp.post("/parse")
@api_login_required
def parse():
    links, error = _parsed()
    if links is None:
        return error
    return jsonify(links=with_messages(links, current_language()))


@bp.post("/resolve")
@api_login_required
def resolve():
    links, error = _parsed()
    if links is None:
        return error
    return jsonify(links=with_messages(services().evidence.resolve(links), current_language()))
