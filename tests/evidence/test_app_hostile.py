"""A hostile edit saved on a real wiki and pasted ten times: through the app, the pair of
revisions is analysed once, quickly, and the reporter and the desk see "analysis limited"."""
from __future__ import annotations

import time

import pytest

from reporting.evidence import facts
from tests.conftest import csrf_from, login, maildir_messages, make_app
from tests.evidence.mediawiki import MediaWiki

WIKI = "wiki-en.test"
LINES = 8000


def save_hostile_edit(wiki: MediaWiki, page: str = "User:Mallory/Moved line") -> tuple[int, int]:
    """Two revisions: one line moved from the top to the bottom of 8,000 identical lines."""
    body = "x\n" * LINES
    first = wiki.edit("Mallory", page, text="moved\n" + body, summary="start")
    second = wiki.edit("Mallory", page, text=body + "moved", summary="move one line")
    return first, second


@pytest.fixture(scope="module")
def hostile(mediawiki: MediaWiki) -> tuple[int, int]:
    return save_hostile_edit(mediawiki)


def ten_links(wiki: MediaWiki, first: int, second: int) -> str:
    """Ten ways to paste the same diff."""
    server = wiki.server.replace("127.0.0.1", WIKI)
    forms = [f"/index.php?diff={second}", f"/index.php?diff={second}&oldid={first}",
             f"/index.php?oldid={first}&diff=next", f"/index.php?diff=prev&oldid={second}",
             f"/index.php?title=Special:Diff/{second}", f"/index.php?title=Special:Diff/{first}/{second}",
             f"/index.php?title=Special:PermanentLink/{second}", f"/index.php?oldid={second}",
             f"/index.php?diff={second}&uselang=en", f"/index.php?title=User:Mallory/Moved_line&diff={second}"]
    return "\n".join(server + form for form in forms)


def test_ten_links_to_one_hostile_diff_cost_one_quick_analysis(tmp_path, mediawiki, hostile, monkeypatch):
    analysed = []
    real = facts.analyze_change
    monkeypatch.setattr(facts, "analyze_change", lambda *args: analysed.append(1) or real(*args))
    app = make_app(tmp_path, **{"wikis.extra": {WIKI: mediawiki.api_url}})
    client = app.test_client()
    token = login(client, "Alice")
    started = time.monotonic()
    response = client.post("/api/v1/evidence/resolve", json={"text": ten_links(mediawiki, *hostile)},
                           headers={"X-CSRF-Token": token})
    seconds = time.monotonic() - started
    links = response.get_json()["links"]
    assert len(links) == 10 and {link["status"] for link in links} == {"resolved"}
    assert all(link["analysis"]["limited"] is True for link in links)
    assert all(link["analysis"]["signatures"] == [] for link in links)
    assert analysed == [1]  # one pair of revisions, one analysis (it took 89 s for ten before)
    assert seconds < 5


def test_the_reporter_and_the_desk_see_that_the_analysis_was_limited(tmp_path, mediawiki, hostile):
    app = make_app(tmp_path, **{"wikis.extra": {WIKI: mediawiki.api_url}})
    client = app.test_client()
    login(client, "Alice")
    link = mediawiki.server.replace("127.0.0.1", WIKI) + f"/index.php?diff={hostile[1]}"
    token = csrf_from(client.get("/report").get_data(as_text=True))
    page = client.post("/report", data={"csrf_token": token, "action": "check", "wiki": WIKI,
                                        "category": "harassment", "evidence": link})
    assert "analysis limited" in page.get_data(as_text=True)
    token = csrf_from(page.get_data(as_text=True))
    sent = client.post("/report", data={"csrf_token": token, "wiki": WIKI, "category": "harassment",
                                        "evidence": link, "description": "He keeps moving my text."})
    assert sent.status_code == 303
    [message] = maildir_messages(app)
    body = message.get_payload()[0].get_payload(decode=True).decode()
    assert "analysis limited (the edit is too large or unusual to compare in full)" in body
