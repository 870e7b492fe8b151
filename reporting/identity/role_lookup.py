"""Roles of the session's user: computed at login, refreshed while they stay.

:mod:`reporting.identity.roles` decides roles from a verified identity and
``meta=globaluserinfo``; this module supplies what it needs from the
configuration and the network, for both login methods:

- OAuth: ``globaluserinfo`` is fetched from meta (``oauth.meta_api_url``)
  through :class:`reporting.wiki.client.WikiClient`, like every other wiki
  request (policy User-Agent, no redirects, a deadline, anonymous), with a
  single try. A wiki error never fails a login (reporters need no role); the
  caller keeps the previous roles and asks again a few minutes later.
- Development login: the groups typed into the form act as global groups
  (``staff``, ``steward``), and ``group@host`` entries as local groups on
  that wiki (``checkuser@de.wikipedia.org``), so the very same
  :func:`reporting.identity.roles.compute_roles` decides.

Roles go stale when someone loses a group; callers refresh them every
``roles.refresh_minutes``.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from reporting.config import Config, Setting, parse_positive_int, parse_str, parse_str_list, register_settings
from reporting.identity.oauth import Identity
from reporting.identity.roles import (
    DEFAULT_FUNCTIONARY_GROUPS,
    GlobalUserInfoError,
    RoleSettings,
    compute_roles,
    fetch_global_user_info,
)
from reporting.wiki.client import WikiApiError, WikiClient, WikiUnavailable

log = logging.getLogger(__name__)

# After a failed lookup, ask again this soon (or at the normal interval if shorter).
RETRY_AFTER_WIKI_ERROR_SECONDS = 300


def _parse_functionary_groups(value: Any) -> dict[str, list[str]]:
    """A mapping wiki -> groups (YAML, or a JSON object in the envvar)."""
    import json

    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, dict):
        raise ValueError("expected a mapping of wiki to a list of groups")  # noqa: TRY004 - setting parsers raise ValueError
    return {str(wiki): parse_str_list(groups) for wiki, groups in value.items()}


register_settings(
    Setting("oauth.meta_api_url", parse_str, "https://meta.wikimedia.org/w/api.php",
            "api.php asked for `meta=globaluserinfo` (global groups and per-wiki local groups) "
            "to compute roles."),
    Setting("roles.trust_and_safety_users", parse_str_list, [],
            "User names that get the trust-and-safety role (comma-separated)."),
    Setting("roles.trust_and_safety_groups", parse_str_list, ["staff"],
            "Global groups whose members get the trust-and-safety role (comma-separated)."),
    Setting("roles.functionary_groups", _parse_functionary_groups,
            {"*": sorted(DEFAULT_FUNCTIONARY_GROUPS)},
            "Local groups that make a user a functionary of a wiki: a mapping from wiki "
            "(database name like `dewiki` or host like `de.wikipedia.org`, `*` for every other) "
            "to groups; JSON in the envvar, e.g. `{\"*\": [\"checkuser\", \"suppress\"]}`."),
    Setting("roles.refresh_minutes", parse_positive_int, 60,
            "Minutes after which a logged-in user's roles are computed again from meta."),
)


class GlobalUserInfoClient:
    """The :class:`reporting.identity.roles.ApiClient` role lookups use: the wiki
    client, with every failure turned into :class:`GlobalUserInfoError`, the one
    error role lookups handle.

    One try, no retries: a login must not wait for backoffs, and the caller asks
    again a few minutes later anyway. ``client`` replaces the default one (tests).
    """

    def __init__(self, user_agent: str, timeout: float = 10.0, *, client: WikiClient | None = None) -> None:
        self.client = client or WikiClient(user_agent, timeout=timeout, max_retries=0)

    def get(self, api_url: str, params: dict[str, str]) -> dict[str, Any]:
        try:
            return self.client.get(api_url, params)
        except WikiUnavailable as error:
            raise GlobalUserInfoError(f"meta unavailable: {error.reason}") from None
        except WikiApiError as error:
            raise GlobalUserInfoError(f"API error: {error.code}") from None
        except ValueError as error:  # not an http(s) URL: a configuration mistake
            raise GlobalUserInfoError(f"request refused: {error}") from None


def role_settings(config: Config) -> RoleSettings:
    return RoleSettings(
        trust_and_safety_users=frozenset(config["roles.trust_and_safety_users"]),
        trust_and_safety_groups=frozenset(config["roles.trust_and_safety_groups"]),
        functionary_groups={wiki: frozenset(groups)
                            for wiki, groups in config["roles.functionary_groups"].items()},
    )


def refresh_interval_seconds(config: Config) -> float:
    return config["roles.refresh_minutes"] * 60.0


def retry_interval_seconds(config: Config) -> float:
    return min(float(RETRY_AFTER_WIKI_ERROR_SECONDS), refresh_interval_seconds(config))


def hosts_of_merged_accounts(global_info: dict[str, Any],
                             normalize_wiki: Callable[[str], str | None]) -> Callable[[str], str | None]:
    """``host_for_dbname`` for :func:`compute_roles`, from the ``url`` of each
    ``merged`` account; a URL that is not a known Wikimedia wiki gives None
    (so no role)."""
    hosts: dict[str, str] = {}
    info = global_info.get("query", {}).get("globaluserinfo", {})
    for account in info.get("merged") or []:
        if not isinstance(account, dict):
            continue
        dbname, url = account.get("wiki"), account.get("url")
        if isinstance(dbname, str) and isinstance(url, str):
            host = normalize_wiki(url)
            if host is not None:
                hosts[dbname] = host
    return hosts.get


def roles_from_wiki(identity: Identity, config: Config, client: Any,
                    normalize_wiki: Callable[[str], str | None]) -> tuple[str, ...]:
    """Roles from meta's ``globaluserinfo``. Raises ``GlobalUserInfoError``
    when meta gives no usable answer; the caller decides what to keep."""
    info = fetch_global_user_info(client, config["oauth.meta_api_url"], identity.username)
    return tuple(compute_roles(identity, info, role_settings(config),
                               hosts_of_merged_accounts(info, normalize_wiki)))


def dev_global_user_info(groups: Iterable[str], normalize_wiki: Callable[[str], str | None]
                         ) -> dict[str, Any]:
    """What meta would answer for a development user with ``groups``: plain
    names are global groups, ``group@host`` a local group on that wiki."""
    global_groups: list[str] = []
    local: dict[str, list[str]] = {}
    for entry in groups:
        group, _, wiki = entry.partition("@")
        host = normalize_wiki(wiki) if wiki else None
        if wiki and host is not None:
            local.setdefault(host, []).append(group)
        elif not wiki:
            global_groups.append(group)
    merged = [{"wiki": host, "url": f"https://{host}", "groups": local_groups}
              for host, local_groups in sorted(local.items())]
    return {"query": {"globaluserinfo": {"id": 0, "groups": global_groups, "merged": merged}}}


def roles_for_dev_login(username: str, groups: Iterable[str], config: Config,
                        normalize_wiki: Callable[[str], str | None]) -> tuple[str, ...]:
    """Roles of a development login, decided by the same rules as OAuth's."""
    identity = Identity(username=username, central_id=0, blocked=False, editcount=0, registered=None,
                        confirmed_email=False, groups=())
    info = dev_global_user_info(groups, normalize_wiki)
    return tuple(compute_roles(identity, info, role_settings(config),
                               hosts_of_merged_accounts(info, normalize_wiki)))
