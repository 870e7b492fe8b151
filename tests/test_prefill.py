"""The gadget's hand-off: /report?wiki=..&page=..&user=..&diff=..&oldid=..&revid=.. fills in the form.

Each value shows in the form, and the evidence link is one the tool reads back on that wiki (the
browser tests in tests/gadget/ follow real gadget links from a real MediaWiki to here).
"""
from __future__ import annotations

import html
import re

import pytest

from reporting.views.forms import prefill_from_query
from tests.conftest import login, make_app

EN = "https://en.wikipedia.org"


def form_fields(page: str) -> dict[str, str]:
    wiki = re.search(r'id="wiki" name="wiki"[^>]* value="([^"]*)"', page)
    evidence = re.search(r'id="evidence"[^>]*>([^<]*)</textarea>', page)
    users = re.search(r'id="reported_users"[^>]*>([^<]*)</textarea>', page)
    assert wiki and evidence and users
    return {"wiki": html.unescape(wiki.group(1)), "evidence": html.unescape(evidence.group(1)),
            "reported_users": html.unescape(users.group(1))}


@pytest.mark.parametrize(("query", "evidence", "users"), [
    # a diff, as the gadget sends it from a diff view, a history comparison or Special:Diff
    ("wiki=en.wikipedia.org&page=Talk:Foo&diff=55&oldid=54", f"{EN}/w/index.php?title=Talk:Foo&diff=55&oldid=54", ""),
    ("wiki=en.wikipedia.org&diff=55&oldid=54", f"{EN}/w/index.php?diff=55&oldid=54", ""),  # Special:ComparePages
    ("wiki=en.wikipedia.org&page=Talk:Foo&diff=55", f"{EN}/w/index.php?title=Talk:Foo&diff=55", ""),  # a creation
    # an old revision, and the revision shown on any other page
    ("wiki=en.wikipedia.org&page=Talk:Foo&revid=77", f"{EN}/w/index.php?title=Talk:Foo&oldid=77", ""),
    ("wiki=en.wikipedia.org&revid=77", f"{EN}/wiki/Special:PermanentLink/77", ""),
    # a history
    ("wiki=en.wikipedia.org&page=Talk:Foo", f"{EN}/wiki/Talk:Foo", ""),
    # contributions, user pages
    ("wiki=en.wikipedia.org&user=Troll", f"{EN}/wiki/Special:Contributions/Troll", "Troll"),
    ("wiki=en.wikipedia.org&user=192.0.2.7", f"{EN}/wiki/Special:Contributions/192.0.2.7", "192.0.2.7"),
    ("wiki=en.wikipedia.org&page=User_talk:Troll&user=Troll", f"{EN}/wiki/User_talk:Troll", "Troll"),
    ("wiki=en.wikipedia.org&page=User_talk:Troll&revid=9&user=Troll",
     f"{EN}/w/index.php?title=User_talk:Troll&oldid=9", "Troll"),
    # the mobile host is the desktop wiki for links; the wiki field keeps what was sent
    ("wiki=en.m.wikipedia.org&page=Talk:Foo&diff=5", f"{EN}/w/index.php?title=Talk:Foo&diff=5", ""),
])
def test_the_gadget_s_parameters_become_a_link_and_a_user(alice, query: str, evidence: str, users: str) -> None:
    client, _ = alice
    fields = form_fields(client.get(f"/report?{query}").get_data(as_text=True))
    assert fields["evidence"] == evidence
    assert fields["reported_users"] == users
    assert fields["wiki"] == re.search(r"wiki=([^&]*)", query).group(1)


@pytest.mark.parametrize(("page", "encoded"), [
    ("Talk:Q&A? 1+1/Ünïcödé Пример 例", "Talk:Q%26A%3F_1%2B1/Ünïcödé_Пример_例"),
    ("Talk:A#B=C", "Talk:A%23B%3DC"),
    ("User talk:Ali\u202eecila", "User_talk:Ali%E2%80%AEecila"),  # bidi controls never raw
    ("Talk:\"<x>\"", "Talk:%22%3Cx%3E%22"),
    ("Talk:O'Brien (band), 100% fun!", "Talk:O%27Brien_(band),_100%25_fun!"),
])
def test_titles_keep_their_letters_and_lose_nothing(page: str, encoded: str) -> None:
    form = prefill_from_query({"wiki": "en.wikipedia.org", "page": page, "diff": "5"},
                              lambda wiki: ("en.wikipedia.org", "/w"))
    assert form.evidence == f"{EN}/w/index.php?title={encoded}&diff=5"


def test_the_link_follows_the_script_path_of_a_wiki_an_operator_registered(tmp_path) -> None:
    app = make_app(tmp_path, **{"wikis.extra": {"wiki.test": "http://127.0.0.1:9/api.php",
                                                "deep.test": "http://127.0.0.1:9/mw/w/api.php"}})
    client = app.test_client()
    login(client)
    fields = form_fields(client.get("/report?wiki=wiki.test&page=Talk:Foo&diff=5&oldid=4").get_data(as_text=True))
    assert fields["evidence"] == "https://wiki.test/index.php?title=Talk:Foo&diff=5&oldid=4"
    fields = form_fields(client.get("/report?wiki=deep.test&page=Talk:Foo&revid=5").get_data(as_text=True))
    assert fields["evidence"] == "https://deep.test/mw/w/index.php?title=Talk:Foo&oldid=5"
    # The tool reads these links back as the pages they name.
    token = client.get("/api/v1/me").get_json()["csrf_token"]
    parsed = client.post("/api/v1/evidence/parse", headers={"X-CSRF-Token": token},
                         json={"text": fields["evidence"]}).get_json()["links"]
    assert parsed[0]["kind"] == "revision" and parsed[0]["revid"] == 5 and parsed[0]["wiki"] == "deep.test"


@pytest.mark.parametrize("wiki", ["evil.example/path", "a b", "x@y.org", ""])
def test_a_wiki_that_is_no_host_gives_no_host_to_links(wiki: str) -> None:
    form = prefill_from_query({"wiki": wiki, "diff": "5"})
    assert form.evidence == "/w/index.php?diff=5"
    assert form.wiki == wiki.strip()


@pytest.mark.parametrize("query", ["diff=5;alert(1)", "oldid=x", "revid=-1", "diff=1e9", "revid=²", "oldid=٣",
                                   "revid=123456789012345678901234", "diff=previous"])
def test_ids_that_are_not_ids_are_left_out(query: str) -> None:
    args = dict(pair.split("=", 1) for pair in query.split("&"))
    assert prefill_from_query({"wiki": "en.wikipedia.org", **args}).evidence == ""
