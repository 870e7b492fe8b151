"""Roles from the verified identity and meta=globaluserinfo (formatversion=2)."""
from __future__ import annotations

from typing import Any

import pytest

from reporting.identity.oauth import Identity
from reporting.identity.role_lookup import GlobalUserInfoClient
from reporting.identity.roles import (
    GlobalUserInfoError,
    RoleSettings,
    canonical_username,
    compute_roles,
    fetch_global_user_info,
)
from reporting.wiki.client import WikiApiError, WikiClient, WikiUnavailable, build_user_agent

META_API = "https://meta.wikimedia.org/w/api.php"
HOSTS = {"dewiki": "de.wikipedia.org", "enwiki": "en.wikipedia.org",
         "metawiki": "meta.wikimedia.org", "commonswiki": "commons.wikimedia.org",
         "wikidatawiki": "www.wikidata.org"}


def identity(username: str = "Example", central_id: int = 51234) -> Identity:
    return Identity(username=username, central_id=central_id, blocked=False, editcount=10,
                    registered="20100101000000", confirmed_email=True, groups=("*", "user"))


def account(wiki: str, groups: list[str] | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"wiki": wiki, "url": "https://" + HOSTS.get(wiki, wiki + ".example"),
                             "timestamp": "2010-01-01T00:00:00Z", "method": "login",
                             "editcount": 5, "registration": "2010-01-01T00:00:00Z"}
    if groups:
        entry["groups"] = groups
    return entry


def globaluserinfo(groups: list[str] | None = None, merged: list[dict[str, Any]] | None = None,
                   central_id: int = 51234, name: str = "Example") -> dict[str, Any]:
    info: dict[str, Any] = {"home": "enwiki", "id": central_id,
                            "registration": "2010-01-01T00:00:00Z", "name": name,
                            "groups": groups or [], "merged": merged or []}
    return {"batchcomplete": True, "query": {"globaluserinfo": info}}


DEFAULT = RoleSettings(trust_and_safety_users={"Jane (WMF)"})
PER_WIKI = RoleSettings(
    trust_and_safety_users=set(),
    trust_and_safety_groups={"staff", "wmf-supportsafety"},
    functionary_groups={"dewiki": {"checkuser", "suppress", "arbcom"},
                        "en.wikipedia.org": {"arbcom"},
                        "commonswiki": set(),
                        "*": {"checkuser", "suppress"}})


@pytest.mark.parametrize(("who", "info", "settings", "expected"), [
    # nobody special
    (identity(), globaluserinfo(merged=[account("enwiki", ["sysop", "bureaucrat"])]), DEFAULT, []),
    # listed by name, in any spelling MediaWiki would accept
    (identity("Jane (WMF)"), globaluserinfo(name="Jane (WMF)"), DEFAULT, ["trust-and-safety"]),
    (identity("Jane (WMF)"), globaluserinfo(name="Jane (WMF)"),
     RoleSettings(trust_and_safety_users={"jane_(WMF)"}), ["trust-and-safety"]),
    # global group staff
    (identity(), globaluserinfo(groups=["staff", "global-ipblock-exempt"]), DEFAULT,
     ["trust-and-safety"]),
    (identity(), globaluserinfo(groups=["wmf-supportsafety"]), PER_WIKI, ["trust-and-safety"]),
    (identity(), globaluserinfo(groups=["wmf-supportsafety"]), DEFAULT, []),
    # steward, plus local functionary groups under the default "*" rule
    (identity(), globaluserinfo(groups=["steward"], merged=[
        account("metawiki", ["checkuser", "suppress", "sysop"]),
        account("dewiki", ["checkuser"]),
        account("enwiki", ["sysop"])]), DEFAULT,
     ["functionary@de.wikipedia.org", "functionary@meta.wikimedia.org", "steward"]),
    # per-wiki configuration by dbname and by host; an empty set switches a wiki off
    (identity(), globaluserinfo(merged=[
        account("dewiki", ["arbcom"]),
        account("enwiki", ["arbcom"]),
        account("commonswiki", ["checkuser"]),
        account("wikidatawiki", ["suppress"])]), PER_WIKI,
     ["functionary@de.wikipedia.org", "functionary@en.wikipedia.org",
      "functionary@www.wikidata.org"]),
    # "arbcom" is not a functionary group by default; neither is "oversight" any more
    (identity(), globaluserinfo(merged=[account("enwiki", ["arbcom", "oversight"])]), DEFAULT, []),
    # a wiki the registry does not know gives no role
    (identity(), globaluserinfo(merged=[account("privatewiki", ["checkuser"])]), DEFAULT, []),
    # another global account (renamed or reused name): only the name list counts
    (identity("Jane (WMF)", 1), globaluserinfo(groups=["steward", "staff"], merged=[
        account("dewiki", ["checkuser"])], central_id=2, name="Jane (WMF)"), DEFAULT,
     ["trust-and-safety"]),
    (identity(central_id=1), globaluserinfo(groups=["steward"], central_id=2), DEFAULT, []),
    # no global account
    (identity(), {"batchcomplete": True, "query": {"globaluserinfo": {"missing": True}}}, DEFAULT, []),
    # a merged entry without groups, and junk that must not raise
    (identity(), globaluserinfo(groups=["steward", 7], merged=[account("dewiki"), {"groups": ["checkuser"]},
                                                              account("enwiki", ["checkuser", None])]),
     DEFAULT, ["functionary@en.wikipedia.org", "steward"]),
])
def test_compute_roles(who: Identity, info: dict, settings: RoleSettings, expected: list[str]) -> None:
    assert compute_roles(who, info, settings, HOSTS.get) == expected


def test_roles_are_deterministic_whatever_the_order() -> None:
    merged = [account(wiki, ["checkuser"]) for wiki in HOSTS]
    forward = compute_roles(identity(), globaluserinfo(["steward"], merged), DEFAULT, HOSTS.get)
    backward = compute_roles(identity(), globaluserinfo(["steward"], merged[::-1]), DEFAULT, HOSTS.get)
    assert forward == backward == sorted(forward)


@pytest.mark.parametrize(("raw", "canonical"), [
    ("jane_(WMF)", "Jane (WMF)"), ("  Jane   (WMF) ", "Jane (WMF)"), ("ärger", "Ärger"), ("", "")])
def test_canonical_username(raw: str, canonical: str) -> None:
    assert canonical_username(raw) == canonical


class FakeClient:
    """The WikiClient duck type: get(api_url, params) -> decoded JSON."""

    def __init__(self, response: dict[str, Any]) -> None:
        self.response = response
        self.calls: list[tuple[str, dict[str, str]]] = []

    def get(self, api_url: str, params: dict[str, str]) -> dict[str, Any]:
        self.calls.append((api_url, params))
        return self.response


def test_fetch_global_user_info_asks_for_groups_and_merged_accounts() -> None:
    response = globaluserinfo(["steward"])
    client = FakeClient(response)
    assert fetch_global_user_info(client, META_API, "Example") == response
    assert client.calls == [(META_API, {"action": "query", "meta": "globaluserinfo",
                                        "guiuser": "Example", "guiprop": "groups|merged",
                                        "format": "json", "formatversion": "2"})]


@pytest.mark.parametrize("response", [
    {"error": {"code": "readapidenied", "info": "You need read permission"}},
    {"batchcomplete": True},
    {"query": {"globaluserinfo": []}},
])
def test_fetch_global_user_info_refuses_unusable_answers(response: dict) -> None:
    with pytest.raises(GlobalUserInfoError):
        fetch_global_user_info(FakeClient(response), META_API, "Example")


def test_missing_global_account_is_a_usable_answer() -> None:
    response = {"batchcomplete": True, "query": {"globaluserinfo": {"missing": True}}}
    assert fetch_global_user_info(FakeClient(response), META_API, "Nobody") == response


def test_role_lookups_go_through_the_wiki_client_with_one_try() -> None:
    lookup = GlobalUserInfoClient(build_user_agent("reporting-tests", "1.0", "https://example.org", "t@example.org"),
                                  timeout=3.0)
    assert isinstance(lookup.client, WikiClient)
    assert (lookup.client.max_retries, lookup.client.timeout) == (0, 3.0)


class FailingClient:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def get(self, api_url: str, params: dict[str, str]) -> dict[str, Any]:
        raise self.error


@pytest.mark.parametrize("error", [
    WikiUnavailable(META_API, "http-503"),
    WikiApiError("readapidenied", "You need read permission"),
    ValueError("refusing to request 'ftp://meta.example'"),
])
def test_role_lookup_failures_are_global_user_info_errors(error: Exception) -> None:
    lookup = GlobalUserInfoClient("unused", client=FailingClient(error))  # type: ignore[arg-type]
    with pytest.raises(GlobalUserInfoError):
        fetch_global_user_info(lookup, META_API, "Example")
