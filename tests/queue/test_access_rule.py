"""The visibility rule itself (pure): roles × a case's clear-text facts → may see."""
from __future__ import annotations

import pytest

from reporting.cases.access import has_workspace, may_see, reads_audit

EN, DE = "en.wikipedia.org", "de.wikipedia.org"


@pytest.mark.parametrize(("roles", "wiki", "category", "shared", "expected"), [
    ((), EN, "harassment", True, False),
    (("trust-and-safety",), EN, "child-safety", False, True),
    (("steward",), EN, "harassment", True, True),
    (("steward",), EN, "harassment", False, False),
    (("steward",), EN, "self-harm", True, True),
    (("steward",), EN, "child-safety", True, False),
    ((f"functionary@{EN}",), EN, "doxing", True, True),
    ((f"functionary@{EN}",), EN, "doxing", False, False),
    ((f"functionary@{EN}",), DE, "doxing", True, False),
    ((f"functionary@{EN}",), EN, "threat-of-violence", True, False),
    ((f"functionary@{EN}",), EN, "public-harm", True, False),
    ((f"functionary@{DE}", f"functionary@{EN}"), EN, "harassment", True, True),
    (("functionary@",), EN, "harassment", True, False),  # a malformed role opens nothing
    (("sysop",), EN, "harassment", True, False),
])
def test_who_may_see_a_case(roles, wiki, category, shared, expected):
    assert may_see(roles, wiki, category, shared) is expected


def test_the_workspace_and_the_audit_log_are_for_roles_only():
    assert not has_workspace(()) and not has_workspace(("sysop",))
    assert has_workspace((f"functionary@{EN}",)) and has_workspace(("steward",))
    assert reads_audit(("trust-and-safety",)) and not reads_audit(("steward", f"functionary@{EN}"))
