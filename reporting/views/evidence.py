"""``/api/v1/evidence/parse`` and ``/resolve``: what the form shows before submit.

Both need a login (resolving costs requests to wikis on the reporter's
behalf) and, being POSTs, the CSRF header. Errors per link are codes plus a
message in the reporter's language; a bad link never fails the request.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Blueprint, jsonify, request

from reporting.evidence.service import Evidence
from reporting.evidence.types import EvidenceLink
from reporting.i18n import current_language, msg_text
from reporting.intake.submission import MAX_EVIDENCE_LINKS
from reporting.views.api import api_login_required, bad_body_error
from reporting.views.errors import api_error
from reporting.views.forms import BadBody, read_json_body


def with_messages(links: Sequence[EvidenceLink], lang: str) -> list[EvidenceLink]:
    """Add a localized ``message`` to each link that failed to parse or resolve."""
    out = []
    for link in links:
        link = link.copy()
        if "error" in link:
            link["message"] = msg_text(f"reporting-evidence-error-{link['error']}", lang=lang)
        elif link.get("status") == "unresolved":
            reason = link.get("reason", "internal-error")
            link["message"] = msg_text(f"reporting-evidence-unresolved-{reason}", lang=lang)
        out.append(link)
    return out


class _Refused(Exception):
    """The request cannot be served; ``response`` says why."""

    def __init__(self, response: Any) -> None:
        super().__init__()
        self.response = response


def create_blueprint(evidence: Evidence) -> Blueprint:
    bp = Blueprint("evidence_api", __name__, url_prefix="/api/v1/evidence")

    def parsed_links() -> list[EvidenceLink]:
        """The body's links, parsed; raises :class:`_Refused` for a bad body or too many links."""
        try:
            data = read_json_body(request)
        except BadBody as error:
            raise _Refused(bad_body_error(error)) from None
        text, context = data.get("text"), data.get("context_wiki")
        if not isinstance(text, str) or (context is not None and not isinstance(context, str)):
            raise _Refused(api_error(422, "not-text", "reporting-error-not-text", "text"))
        links = evidence.parse(text, evidence.normalize_wiki(context) if context else None)
        if len(links) > MAX_EVIDENCE_LINKS:
            raise _Refused(api_error(422, "too-many-links", "reporting-error-too-many-links", "text",
                                     len(links), MAX_EVIDENCE_LINKS))
        return links

    @bp.errorhandler(_Refused)
    def _refused(refused: _Refused) -> Any:
        return refused.response

    @bp.post("/parse")
    @api_login_required
    def parse() -> Any:
        return jsonify(links=with_messages(parsed_links(), current_language()))

    @bp.post("/resolve")
    @api_login_required
    def resolve() -> Any:
        return jsonify(links=with_messages(evidence.resolve(parsed_links()), current_language()))

    return bp
