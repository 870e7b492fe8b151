"""Roles of a logged-in user, computed on the server from Wikimedia's data.

Roles decide which reports a person may see, so they never come from the
client: they are computed at login (and again periodically by the caller) from
the verified identity and from ``meta=globaluserinfo`` on meta.wikimedia.org.

- ``trust-and-safety``: the username, or one of the user's global groups
  (default ``staff``), is listed in the configuration.
- ``steward``: the global group ``steward``.
- ``functionary@<host>``: on a wiki where the user holds a local group listed
  for that wiki (default ``checkuser`` and ``suppress``), read from
  ``globaluserinfo``'s ``merged`` entries.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from reporting.identity.oauth import Identity
from reporting.identity.usernames import canonical_username

TRUST_AND_SAFETY = "trust-and-safety"
STEWARD = "steward"
FUNCTIONARY_PREFIX = "functionary@"
DEFAULT_FUNCTIONARY_GROUPS = frozenset({"checkuser", "suppress"})


class GlobalUserInfoError(Exception):
    """meta=globaluserinfo gave no usable answer; the caller keeps no roles."""


class ApiClient(Protocol):
    def get(self, api_url: str, params: dict[str, str]) -> dict[str, Any]: ...


@dataclasses.dataclass(frozen=True)
class RoleSettings:
    """Who gets which role.

    ``functionary_groups`` maps a wiki (database name such as ``dewiki``, or
    host such as ``de.wikipedia.org``) to the local groups that make someone a
    functionary there; the ``"*"`` entry applies to every other wiki. A wiki
    mapped to an empty set has no functionaries.
    """

    trust_and_safety_users: frozenset[str] = frozenset()
    trust_and_safety_groups: frozenset[str] = frozenset({"staff"})
    functionary_groups: Mapping[str, frozenset[str]] = dataclasses.field(
        default_factory=lambda: {"*": DEFAULT_FUNCTIONARY_GROUPS})

    def __post_init__(self) -> None:
        object.__setattr__(self, "trust_and_safety_users",
                           frozenset(canonical_username(u) for u in self.trust_and_safety_users))
        object.__setattr__(self, "trust_and_safety_groups", frozenset(self.trust_and_safety_groups))
        object.__setattr__(self, "functionary_groups",
                           {wiki: frozenset(groups) for wiki, groups in self.functionary_groups.items()})

    def functionary_groups_for(self, dbname: str, host: str) -> frozenset[str]:
        for key in (dbname, host, "*"):
            if key in self.functionary_groups:
                return self.functionary_groups[key]
        return frozenset()


def fetch_global_user_info(client: ApiClient, meta_api_url: str, username: str) -> dict[str, Any]:
    """The API response of ``meta=globaluserinfo`` (groups and per-wiki
    accounts) for ``username``, as returned by ``client``.

    Raises ``GlobalUserInfoError`` when the API answers with an error or
    without the ``globaluserinfo`` object.
    """
    response = client.get(meta_api_url, {
        "action": "query",
        "meta": "globaluserinfo",
        "guiuser": username,
        "guiprop": "groups|merged",
        "format": "json",
        "formatversion": "2",
    })
    if "error" in response:
        raise GlobalUserInfoError(f"API error: {response['error'].get('code', '?')}")
    if not isinstance(response.get("query", {}).get("globaluserinfo"), dict):
        raise GlobalUserInfoError("no globaluserinfo in the response")
    return response


def compute_roles(identity: Identity, global_info: dict[str, Any], settings: RoleSettings,
                  host_for_dbname: Callable[[str], str | None]) -> list[str]:
    """The user's roles, sorted.

    ``global_info`` is ``fetch_global_user_info``'s result. Its groups count
    only if it describes the same global account as the identity (same
    central id): a rename or a missing account between login and lookup must
    not hand one person's roles to another. Wikis that ``host_for_dbname``
    does not know (closed, private, not in the registry) give no role.
    """
    roles: set[str] = set()
    if canonical_username(identity.username) in settings.trust_and_safety_users:
        roles.add(TRUST_AND_SAFETY)
    info = global_info.get("query", {}).get("globaluserinfo", {})
    if info.get("missing") or info.get("id") != identity.central_id:
        return sorted(roles)
    global_groups = set(_strings(info.get("groups")))
    if global_groups & settings.trust_and_safety_groups:
        roles.add(TRUST_AND_SAFETY)
    if STEWARD in global_groups:
        roles.add(STEWARD)
    for account in info.get("merged") or []:
        dbname = account.get("wiki")
        if not isinstance(dbname, str):
            continue
        host = host_for_dbname(dbname)
        if host is None:
            continue
        wanted = settings.functionary_groups_for(dbname, host)
        if wanted & set(_strings(account.get("groups"))):
            roles.add(FUNCTIONARY_PREFIX + host)
    return sorted(roles)


def _strings(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []
