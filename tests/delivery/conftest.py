"""Shared inputs for the connector tests."""
from __future__ import annotations

import json

import pytest

from reporting.delivery.base import Ticket


def make_ticket(ref: str = "IR-2026-0001", priority: str = "normal", **changes) -> Ticket:
    fields = dict(
        ref=ref,
        subject=f"Incident report {ref} (harassment)",
        body="Category: harassment\nWiki: enwiki\n\nEvidence:\n- https://en.wikipedia.org/w/index.php?diff=123\n",
        report_json=json.dumps({"version": 1, "ref": ref, "category": "harassment"}).encode("utf-8"),
        priority=priority,
        category="harassment",
        wiki="enwiki",
        tags=("harassment",),
    )
    fields.update(changes)
    return Ticket(**fields)


@pytest.fixture
def ticket() -> Ticket:
    return make_ticket()
