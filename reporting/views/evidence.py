"""``/api/v1/evidence/parse`` and ``/resolve``: what the form shows before submit.

Both need a login (resolving costs requests to wikis on the reporter's
behalf) and, being POSTs, the CSRF header. A barred user is refused (403
``barred``), each user may check links only so often (429 ``rate-limited``,
:mod:`reporting.views.throttle`), and a check is counted and capped before
any request and bounded in time (:mod:`reporting.evidence.checks`): 422
``too-many-links`` / ``too-many-wikis``, and links not answered in time come
back ``unresolved`` (``not-checked``). Errors per link are codes plus a
message in the reporter's language; a bad link never fails the request.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flask import Blueprint, jsonify, request

from reporting.evidence.checks import LinkCheck, check_links
from reporting.evidence.service import Evidence
from reporting.evidence.types import EvidenceLink
from reporting.i18n import current_language, msg_text
from reporting.identity.session import logged_in_user
from reporting.intake.eligibility import Refusal
from reporting.views.api import api_login_required, bad_body_error
from reporting.views.errors import api_error
from reporting.views.forms import BadBody, read_json_body
from reporting.views.throttle import CheckThrottle


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


def refusal_message(check: LinkCheck) -> tuple[str, tuple[int, ...]]:
    """The message key and parameters that say why a check was refused."""
    return f"reporting-error-{check.refusal}", (check.found, check.allowed)


class _Refused(Exception):
    """The request cannot be served; ``response`` says why."""

    def __init__(self, response: Any) -> None:
        super().__init__()
        self.response = response


def create_blueprint(evidence: Evidence, barred: Callable[[str], Refusal | None],
                     throttle: CheckThrottle) -> Blueprint:
    """``barred``: the bar list's answer for a user name (``Intake.barred``); ``throttle``: the
    process's per-user limit on link checks, shared with the form's "Check the links"."""
    bp = Blueprint("evidence_api", __name__, url_prefix="/api/v1/evidence")

    def checked(resolve: bool) -> LinkCheck:
        """The body's links, checked; raises :class:`_Refused` when the request cannot be served."""
        user = logged_in_user()
        refusal = barred(user.username)
        if refusal is not None:
            raise _Refused(api_error(refusal.status, refusal.code, refusal.message_key))
        try:
            data = read_json_body(request)
        except BadBody as error:
            raise _Refused(bad_body_error(error)) from None
        text, context = data.get("text"), data.get("context_wiki")
        if not isinstance(text, str) or (context is not None and not isinstance(context, str)):
            raise _Refused(api_error(422, "not-text", "reporting-error-not-text", "text"))
        wait = throttle.hit(user.username)
        if wait is not None:
            body, status = api_error(429, "rate-limited", "reporting-error-checks-rate-limited", None,
                                     max(1, -(-wait // 60)))
            raise _Refused((body, status, {"Retry-After": str(wait)}))
        check = check_links(evidence, text, evidence.normalize_wiki(context) if context else None, resolve=resolve)
        if check.refusal is not None:
            key, params = refusal_message(check)
            raise _Refused(api_error(422, check.refusal, key, "text", *params))
        return check

    @bp.errorhandler(_Refused)
    def _refused(refused: _Refused) -> Any:
        return refused.response

    @bp.post("/parse")
    @api_login_required
    def parse() -> Any:
        return jsonify(links=with_messages(checked(resolve=False).links, current_language()))

    @bp.post("/resolve")
    @api_login_required
    def resolve() -> Any:
        return jsonify(links=with_messages(checked(resolve=True).links, current_language()))

    return bp
