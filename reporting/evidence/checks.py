"""Checking pasted links while a reporter waits: counted and capped before any request, and done
within a fixed time whatever the wikis do.

Why: ``/api/v1/evidence/parse``, ``/resolve`` and the form's "Check the links" run inside a web
request, on one of a handful of threads. Parsing used to ask each wiki for its siteinfo before
the links were even counted (60 links on 60 wikis: 210 s, then "too many links"), and the
client retried with sleeps. Now:

1. The text is parsed with the siteinfo already cached only (no network), which is enough to
   count the links and the wikis they are on (every ``w.wiki`` short link counting as one more
   wiki, as it may lead to any). Over :data:`MAX_EVIDENCE_LINKS` links or :data:`MAX_WIKIS`
   wikis, the check is refused before any request.
2. A view of the wiki client with a deadline (:data:`CHECK_SECONDS` from now; one try per
   request, no sleeps, the process's cap on concurrent requests) fetches the missing siteinfo of
   those wikis only, and the text is parsed again from the cache.
3. Resolution (for ``/resolve`` and the form) goes through the same view. Whatever is not
   answered in time is ``unresolved`` with reason ``not-checked`` ("not checked yet"): it is
   kept, and checked again after the report is sent.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass, field

from reporting.evidence.service import Evidence
from reporting.evidence.types import EvidenceLink, ResolvedLink
from reporting.evidence.urls import SHORT_URL_HOST
from reporting.intake.submission import MAX_EVIDENCE_LINKS

__all__ = ["CHECK_SECONDS", "MAX_WIKIS", "LinkCheck", "check_links", "count_wikis"]

#: Seconds a check may spend on wikis (the request has some more for its own work).
CHECK_SECONDS = 8.0
#: Distinct wikis one check may ask.
MAX_WIKIS = 10


@dataclass
class LinkCheck:
    """What a check found: the links (parsed, or resolved), or why it was refused
    (``refusal``: ``too-many-links`` or ``too-many-wikis``, with ``found`` and ``allowed``)."""

    links: list[EvidenceLink] | list[ResolvedLink] = field(default_factory=list)
    refusal: str | None = None
    found: int = 0
    allowed: int = 0


def count_wikis(links: list[EvidenceLink], also: Collection[str] = ()) -> int:
    """Distinct wikis the links (and the hosts in ``also``) may need; each short link may lead
    to one more."""
    wikis = {str(link["wiki"]) for link in links if "error" not in link and link.get("wiki")}
    short_links = sum(1 for link in links if "error" not in link and link.get("wiki") == SHORT_URL_HOST)
    return len((wikis | set(also)) - {SHORT_URL_HOST}) + short_links


def check_links(evidence: Evidence, text: str, context_wiki: str | None, *, resolve: bool,
                seconds: float = CHECK_SECONDS) -> LinkCheck:
    """Parse (and with ``resolve``, resolve) the pasted ``text`` within ``seconds`` of wiki time."""
    links, wanted = evidence.parse_offline(text, context_wiki)
    refusal = _too_many(links, set(wanted))
    if refusal is not None:
        return refusal
    client = evidence.client.within(time.monotonic() + seconds)
    if wanted:
        for wiki in sorted(wanted.values(), key=lambda wiki: wiki.host):
            evidence.siteinfo.get(wiki, client)  # never raises; a wiki that does not answer stays English
        links = evidence.parse(text, context_wiki, cached_only=True)
        refusal = _too_many(links, set())
        if refusal is not None:
            return refusal
    if not resolve:
        return LinkCheck(links=links)
    return LinkCheck(links=evidence.resolve(links, client=client))


def _too_many(links: list[EvidenceLink], wanted: set[str]) -> LinkCheck | None:
    if len(links) > MAX_EVIDENCE_LINKS:
        return LinkCheck(refusal="too-many-links", found=len(links), allowed=MAX_EVIDENCE_LINKS)
    wikis = count_wikis(links, wanted)
    if wikis > MAX_WIKIS:
        return LinkCheck(refusal="too-many-wikis", found=wikis, allowed=MAX_WIKIS)
    return None
