"""Who may see a case: the one rule, in one place.

- ``trust-and-safety`` sees every case;
- ``steward`` sees cases whose reporter agreed to share them with
  functionaries, except ``child-safety``;
- ``functionary@<wiki host>`` sees the consented cases of that wiki, except
  the emergency categories.

Everyone else sees nothing, and callers MUST answer a case they may not see
exactly as a reference that does not exist (404, never 403): a reference
leaks nothing. The rule is pure data (:class:`Grant`): :func:`may_see` reads
it for one case, and the queue's store turns the same grants into SQL, so the
listing and the case view cannot disagree. Roles come from the session, which
refreshes them from meta (:mod:`reporting.identity.login`); nothing here
caches them, so every request is decided with the roles it carries.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from reporting.identity.roles import FUNCTIONARY_PREFIX, STEWARD, TRUST_AND_SAFETY
from reporting.intake.submission import EMERGENCY_CATEGORIES

CHILD_SAFETY = "child-safety"


@dataclass(frozen=True)
class Grant:
    """One kind of case a role opens: ``wiki`` None means any wiki; ``consent`` whether the
    reporter must have agreed to share; ``excluded`` the categories it never opens."""

    wiki: str | None
    consent: bool
    excluded: frozenset[str]

    def covers(self, wiki: str, category: str, shared: bool) -> bool:
        return ((self.wiki is None or self.wiki == wiki) and (shared or not self.consent)
                and category not in self.excluded)


EVERY_CASE = Grant(wiki=None, consent=False, excluded=frozenset())


def grants_for(roles: Iterable[str]) -> tuple[Grant, ...]:
    """What ``roles`` open; empty for a user with no role (a reporter)."""
    grants: list[Grant] = []
    for role in sorted(set(roles)):
        if role == TRUST_AND_SAFETY:
            grants.append(EVERY_CASE)
        elif role == STEWARD:
            grants.append(Grant(wiki=None, consent=True, excluded=frozenset({CHILD_SAFETY})))
        elif role.startswith(FUNCTIONARY_PREFIX) and len(role) > len(FUNCTIONARY_PREFIX):
            grants.append(Grant(wiki=role[len(FUNCTIONARY_PREFIX):], consent=True,
                                excluded=frozenset(EMERGENCY_CATEGORIES)))
    return tuple(grants)


def may_see(roles: Iterable[str], wiki: str, category: str, shared: bool) -> bool:
    """Whether someone holding ``roles`` may see a case with these (clear-text) facts."""
    return any(grant.covers(wiki, category, shared) for grant in grants_for(roles))


def has_workspace(roles: Iterable[str]) -> bool:
    """Whether the user may open the queue at all (any role that opens some case)."""
    return bool(grants_for(roles))


def reads_audit(roles: Iterable[str]) -> bool:
    """Only Trust & Safety reads the audit log."""
    return TRUST_AND_SAFETY in set(roles)
