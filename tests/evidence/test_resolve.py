"""Evidence resolution against a real local MediaWiki (see mediawiki.py): facts, privacy, request counts."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest

from reporting.evidence.resolve import resolve_links
from reporting.wiki.client import WikiClient, build_user_agent
from reporting.wiki.siteinfo import SiteInfoCache, fetch_siteinfo
from tests.evidence.mediawiki import MediaWiki, free_port
from tests.test_wikiclient import Reply, StubServer

USER_AGENT = build_user_agent("reporting-tests", "1.0", "https://example.org/tool", "tests@example.org")
HIDDEN_TEXT = "SECRET-ADDRESS-42 Elm Street"
SUPPRESSED_TEXT = "SUPPRESSED-PHONE-555-0100"
HIDDEN_SUMMARY = "hidden summary xyz"


@dataclass
class Scenario:
    wiki: MediaWiki
    create: int        # Alice creates her talk page
    harass: int        # Mallory adds a new section: insult, signature, ping to Carol
    reply: int         # Carol replies (signed)
    revdeleted: int    # Mallory's doxing edit, revision-deleted (user, comment, text)
    after_revdeleted: int
    suppressed: int    # Mallory's edit, suppressed by an oversighter
    after_suppressed: int
    other: int         # an edit on another page (cross-page diffs)
    deleted_page_rev: int
    deletion_logid: int
    current: int


@pytest.fixture(scope="module")
def scenario(mediawiki: MediaWiki) -> Scenario:
    wiki = mediawiki
    talk = "User talk:Alice"
    create = wiki.edit("Alice", talk, "Welcome to my talk page.\n", summary="create")
    harass = wiki.edit("Mallory", talk, section="new", sectiontitle="You again",
                       text="{{ping|Carol}} look at this idiot. [[User:Mallory|Mallory]] "
                            "([[User talk:Mallory|talk]]) 10:00, 1 March 2024 (UTC)",
                       summary="new section")
    reply = wiki.edit("Carol", talk, appendtext="\n:Please stop, [[User:Mallory]]. "
                      "[[User:Carol|Carol]] 10:05, 1 March 2024 (UTC)", summary="reply")
    revdeleted = wiki.edit("Mallory", talk, appendtext=f"\n:She lives at {HIDDEN_TEXT}. "
                           "[[User:Mallory|Mallory]] 10:10, 1 March 2024 (UTC)", summary=HIDDEN_SUMMARY)
    # As on a real wiki: the text is removed first, then the revision that added it is hidden.
    without_address = "\n".join(line for line in wiki.page_text(talk).splitlines() if HIDDEN_TEXT not in line)
    after_revdeleted = wiki.edit("Alice", talk, without_address + "\n:Help! [[User:Alice|Alice]] 10:20, 1 March 2024 (UTC)",
                                 summary="removing personal information")
    wiki.revdelete(revdeleted, ("content", "comment", "user"))
    suppressed = wiki.edit("Mallory", talk, appendtext=f"\n:Call her: {SUPPRESSED_TEXT}", summary="phone")
    without_phone = "\n".join(line for line in wiki.page_text(talk).splitlines() if SUPPRESSED_TEXT not in line)
    after_suppressed = wiki.edit("Carol", talk, without_phone + "\n:Reported.", summary="note")
    wiki.revdelete(suppressed, ("content", "comment", "user"), suppress=True)
    other = wiki.edit("Carol", "Talk:Other page", "Unrelated discussion.\n", summary="other")
    deleted_page_rev = wiki.edit("Mallory", "Attack page", "Alice is stupid.", summary="attack")
    deletion_logid = wiki.delete_page("Attack page", reason="attack page")
    return Scenario(wiki, create, harass, reply, revdeleted, after_revdeleted, suppressed, after_suppressed,
                    other, deleted_page_rev, deletion_logid, after_suppressed)


def client() -> WikiClient:
    return WikiClient(USER_AGENT, timeout=10, max_retries=1)


# One siteinfo cache for this module, as the evidence service keeps one: the request counts
# below leave out siteinfo, asked once per wiki.
SITEINFO = SiteInfoCache(lambda wiki: fetch_siteinfo(client(), wiki.api_url))


def resolve(scenario_or_wiki, links, **kwargs):
    wiki = getattr(scenario_or_wiki, "wiki", scenario_or_wiki)
    http = kwargs.pop("client", None) or client()
    kwargs.setdefault("siteinfo_for", lambda api_url: SITEINFO.answer(api_url, http))
    SITEINFO.answer(wiki.api_url, http)  # warm the siteinfo cache
    before = http.request_count
    results = resolve_links(links, http, {"local": wiki.api_url}.get, **kwargs)
    return results, http.request_count - before


def diff(oldid, newid, **extra):
    return {"input": f"diff {oldid} {newid}", "wiki": "local", "kind": "diff", "oldid": oldid, "newid": newid, **extra}


def test_an_edit_is_described_with_its_analysis(scenario):
    [result], _ = resolve(scenario, [diff(None, scenario.harass)])
    assert result["status"] == "resolved"
    assert result["page_title"] == "User talk:Alice"
    assert (result["old_revid"], result["new_revid"]) == (scenario.create, scenario.harass)
    assert result["author"] == "Mallory" and result["author_hidden"] is False
    assert result["comment"].endswith("new section") and result["comment_hidden"] is False
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", result["timestamp"])
    assert result["size_change"] > 0
    assert result["revision_deleted"] is False and result["suppressed"] is False and result["deleted"] is False
    assert result["cross_page"] is False and result["reversed"] is False
    assert result["content_model"] == "wikitext"
    analysis = result["analysis"]
    assert analysis["signatures"] == [{"user": "Mallory", "timestamp": "10:00, 1 March 2024 (UTC)"}]
    assert analysis["mentions"] == ["Carol"]
    assert analysis["user_links"] == ["Mallory"]
    assert analysis["section"] == "You again"
    assert "look at this idiot" in analysis["added_text"]
    assert analysis["structured_data"] is False


@pytest.mark.parametrize("make_link, expected", [
    (lambda s: diff(None, s.harass), lambda s: (s.create, s.harass)),
    (lambda s: diff(s.harass, "prev"), lambda s: (s.create, s.harass)),
    (lambda s: diff(s.create, "next"), lambda s: (s.create, s.harass)),
    (lambda s: diff(s.current, "next"), lambda s: (s.current, s.current)),
    (lambda s: diff(s.create, "cur"), lambda s: (s.create, s.current)),
    (lambda s: diff(s.create, s.reply), lambda s: (s.create, s.reply)),
    (lambda s: {"input": "", "wiki": "local", "kind": "revision", "revid": s.reply}, lambda s: (s.harass, s.reply)),
    (lambda s: {"input": "", "wiki": "local", "kind": "revision", "revid": s.reply, "direction": "prev"},
     lambda s: (s.create, s.harass)),
    (lambda s: {"input": "", "wiki": "local", "kind": "revision", "revid": s.harass, "direction": "next"},
     lambda s: (s.harass, s.reply)),
], ids=["diff=N", "prev", "next", "next-of-latest", "cur", "M-to-N", "permalink", "direction-prev", "direction-next"])
def test_mediawiki_diff_semantics(scenario, make_link, expected):
    [result], _ = resolve(scenario, [make_link(scenario)])
    assert result["status"] == "resolved"
    assert (result["old_revid"], result["new_revid"]) == expected(scenario)


def test_page_creation_has_no_old_revision(scenario):
    [result], _ = resolve(scenario, [diff(None, scenario.create)])
    assert result["old_revid"] is None
    assert result["size_change"] == len("Welcome to my talk page.")
    assert "Welcome" in result["analysis"]["added_text"]


def test_reversed_diff_is_kept_and_flagged(scenario):
    [result], _ = resolve(scenario, [diff(scenario.reply, scenario.create)])
    assert result["reversed"] is True
    assert (result["old_revid"], result["new_revid"]) == (scenario.reply, scenario.create)
    assert "look at this idiot" in result["analysis"]["removed_text"]
    assert result["size_change"] < 0


def test_cross_page_diff_is_flagged(scenario):
    [result], _ = resolve(scenario, [diff(scenario.other, scenario.harass)])
    assert result["cross_page"] is True
    assert result["page_title"] == "User talk:Alice"


def test_revision_deleted_edit_reveals_nothing_hidden(scenario):
    results, _ = resolve(scenario, [diff(None, scenario.revdeleted), diff(None, scenario.after_revdeleted),
                                    diff(scenario.reply, scenario.after_revdeleted)])
    hidden, after, spanning = results
    assert hidden["status"] == "resolved"
    assert hidden["revision_deleted"] is True and hidden["suppressed"] is False
    assert hidden["author"] is None and hidden["author_hidden"] is True
    assert hidden["comment"] is None and hidden["comment_hidden"] is True
    assert hidden["analysis"] is None and hidden["analysis_unavailable"] == "text-hidden"
    # The next edit's old side is the hidden text: no diff may be computed from it.
    assert after["author"] == "Alice" and after["analysis"] is None
    # Diffs that skip over the hidden revision are fine: both sides are public.
    assert spanning["analysis"] is not None
    assert HIDDEN_TEXT not in json.dumps(results)
    assert HIDDEN_SUMMARY not in json.dumps(results)
    assert "Mallory" not in json.dumps(hidden)


def test_suppressed_edit_is_flagged_and_hidden(scenario):
    results, _ = resolve(scenario, [diff(None, scenario.suppressed), diff(scenario.suppressed, "next")])
    assert results[0]["suppressed"] is True and results[0]["revision_deleted"] is True
    assert results[0]["author"] is None and results[0]["comment"] is None and results[0]["analysis"] is None
    assert SUPPRESSED_TEXT not in json.dumps(results)


def test_deleted_page_and_unknown_revision_are_missing(scenario):
    results, _ = resolve(scenario, [diff(None, scenario.deleted_page_rev), diff(None, 987654),
                                    {"input": "", "wiki": "local", "kind": "revision", "revid": scenario.deleted_page_rev}])
    for result in results:
        assert result["status"] == "missing" and result["deleted"] is True
    assert "stupid" not in json.dumps(results)


def test_pages_users_and_logs(scenario):
    links = [
        {"input": "", "wiki": "local", "kind": "page", "title": "User_talk:Alice"},
        {"input": "", "wiki": "local", "kind": "page", "title": "Attack page"},
        {"input": "", "wiki": "local", "kind": "page", "pageid": 1},
        {"input": "", "wiki": "local", "kind": "contribs", "user": "Mallory"},
        {"input": "", "wiki": "local", "kind": "contribs", "user": "Nobody here"},
        {"input": "", "wiki": "local", "kind": "contribs", "user": "192.0.2.7"},
        {"input": "", "wiki": "local", "kind": "log", "logid": scenario.deletion_logid},
        {"input": "", "wiki": "local", "kind": "log", "logid": 999999},
        {"input": "", "wiki": "local", "kind": "log", "log_type": "delete", "title": "Attack page"},
    ]
    results, requests = resolve(scenario, links)
    talk, attack, main_page, mallory, nobody, ip, deletion, no_log, delete_log = results
    assert talk["status"] == "resolved" and talk["page_title"] == "User talk:Alice"
    assert talk["new_revid"] == scenario.current and talk["author"] == "Carol"
    assert attack["status"] == "missing"
    assert main_page["status"] == "resolved" and main_page["page_id"] == 1
    assert mallory["status"] == "resolved" and mallory["author"] == "Mallory" and mallory["edit_count"] >= 4
    assert nobody["status"] == "missing"
    assert ip["status"] == "resolved" and ip["is_ip"] is True
    assert deletion["status"] == "resolved" and deletion["log_type"] == "delete"
    assert deletion["page_title"] == "Attack page" and deletion["author"] == "Admin"
    assert no_log["status"] == "missing"
    assert delete_log["status"] == "resolved" and delete_log["entries"][0]["log_id"] == scenario.deletion_logid
    # titles, pageids, users, the recent log window, one filtered log query
    assert requests == 5


def test_comment_links_without_discussiontools_are_unresolved_for_good(scenario):
    [result], _ = resolve(scenario, [{"input": "", "wiki": "local", "kind": "comment",
                                      "comment_id": "c-Mallory-20240301100000-You_again"}])
    assert result["status"] == "unresolved" and result["reason"] == "comments-unsupported"
    assert result["retryable"] is False


def test_twenty_diffs_cost_two_requests(scenario):
    wiki = scenario.wiki
    revids = []
    for i in range(20):  # the parents are not among the linked revisions: they cost the second request
        wiki.edit("Alice", f"Talk:Batch {i}", "Topic.\n", summary="start")
        revids.append(wiki.edit("Mallory" if i % 2 else "Carol", f"Talk:Batch {i}", appendtext=f"\n:Line {i} ~~~~",
                                summary=f"batch {i}"))
    links = [diff(None, revid) for revid in revids]
    results, requests = resolve(scenario, links)
    assert all(r["status"] == "resolved" for r in results)
    assert requests == 2
    for result, revid in zip(results, revids):
        assert result["new_revid"] == revid
        assert result["analysis"]["signatures"][0]["user"] in ("Mallory", "Carol")


def test_sixty_links_stay_within_two_requests_per_fifty(scenario):
    links = [diff(None, scenario.harass)] * 30 + [diff(scenario.create, "cur")] * 30
    results, requests = resolve(scenario, links)
    assert all(r["status"] == "resolved" for r in results)
    assert requests <= 2


def test_unknown_wiki_and_error_dicts(scenario):
    error = {"input": "https://evil.example/", "error": "unknown-host"}
    results, requests = resolve(scenario, [error, {"input": "", "wiki": "elsewhere", "kind": "diff",
                                                   "oldid": None, "newid": 5}])
    assert results[0] is error
    assert results[1]["status"] == "unresolved" and results[1]["reason"] == "unknown-wiki"
    assert requests == 0


def test_a_wiki_that_is_down_loses_nothing():
    dead = f"http://127.0.0.1:{free_port()}/api.php"
    http = WikiClient(USER_AGENT, timeout=1, max_retries=1, backoff=0.01)
    links = [diff(None, 5), {"input": "", "wiki": "local", "kind": "page", "title": "X"}]
    results = resolve_links(links, http, {"local": dead}.get, siteinfo_for=lambda api: {})
    for result in results:
        assert result["status"] == "unresolved"
        assert result["reason"] == "wiki-unavailable" and result["retryable"] is True


def test_a_slow_wiki_times_out_softly():
    with StubServer() as stub:
        stub.replies = [Reply(delay=2)]
        http = WikiClient(USER_AGENT, timeout=0.3, max_retries=0)
        [result] = resolve_links([diff(None, 5)], http, {"local": stub.url + "/api.php"}.get,
                                 siteinfo_for=lambda api: {})
    assert result["status"] == "unresolved" and result["retryable"] is True


def _reparse_local(wiki: MediaWiki):
    """A stand-in for the link parser: understands this wiki's index.php?diff= URLs only."""
    def reparse(url: str) -> dict:
        parts = urlsplit(url)
        if f"{parts.hostname}:{parts.port}" != wiki.host:
            return {"input": url, "error": "unknown-host"}
        query = parse_qs(parts.query)
        return diff(None, int(query["diff"][0])) | {"input": url}
    return reparse


def test_short_links_are_expanded_checked_and_resolved(scenario):
    wiki = scenario.wiki
    with StubServer() as shortener:
        shortener.replies = [Reply(301, headers={"Location": f"{wiki.index_url}?diff={scenario.harass}"}),
                             Reply(301, headers={"Location": "https://evil.example/?diff=1"}),
                             Reply(404)]
        links = [{"input": f"https://w.wiki/{code}", "wiki": "w.wiki", "kind": "shorturl", "code": code}
                 for code in ("Abc", "Evil", "Gone")]
        results, requests = resolve(scenario, links, reparse=_reparse_local(wiki), short_link_base=shortener.url + "/")
    good, evil, gone = results
    assert good["status"] == "resolved" and good["kind"] == "shorturl"
    assert good["target"]["new_revid"] == scenario.harass and good["author"] == "Mallory"
    assert evil["status"] == "unresolved" and evil["reason"] == "short-link-target-rejected"
    assert gone["status"] == "missing"
    assert [r["method"] for r in shortener.requests] == ["HEAD"] * 3
    assert requests == 3 + 2


def test_german_wiki_uses_localised_namespace_names(mediawiki_de: MediaWiki):
    wiki = mediawiki_de
    talk = "Benutzer Diskussion:Alice"
    first = wiki.edit("Alice", talk, "Hallo.\n", summary="neu")
    attack = wiki.edit("Mallory", talk, appendtext="\n== Achtung ==\n{{Ping|Carol}} Du bist dumm, "
                       "[[Benutzerin:Alice|Alice]]. [[Benutzer:Mallory|Mallory]] "
                       "([[Benutzer Diskussion:Mallory|Disk.]]) 12:00, 1. Mär. 2024 (CET)\n"
                       ":Siehe [[Spezial:Beiträge/192.0.2.9|die IP]]", summary="hallo")
    http = client()
    [result] = resolve_links([diff(first, attack)], http, {"local": wiki.api_url}.get)
    assert http.request_count == 2  # the two revisions were known: one batch, plus siteinfo once
    analysis = result["analysis"]
    assert analysis["signatures"] == [{"user": "Mallory", "timestamp": "12:00, 1. Mär. 2024 (CET)"}]
    assert analysis["mentions"] == ["Carol", "Alice", "192.0.2.9"]
    assert analysis["user_links"] == ["Alice", "Mallory", "192.0.2.9"]
    assert analysis["section"] == "Achtung"
    assert result["page_title"] == talk


def test_non_wikitext_revisions_are_reported_as_structured_data(scenario):
    wiki = scenario.wiki
    first = wiki.edit("Mallory", "User:Mallory/data.json", '{"target": "Alice"}', summary="json")
    second = wiki.edit("Mallory", "User:Mallory/data.json", '{"target": "Alice", "address": "[[User:Alice]]"}',
                       summary="json 2")
    [result], _ = resolve(scenario, [diff(first, second)])
    assert result["content_model"] == "json"
    assert result["analysis"]["structured_data"] is True
    assert result["analysis"]["added_text"] == "" and result["analysis"]["user_links"] == []
