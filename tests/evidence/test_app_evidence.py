"""Evidence through the app, against the real local MediaWikis: links as
volunteers paste them are parsed by the app's registry (the local wikis are
registered like an operator would), resolved, shown on the form, and refused
when they point anywhere else."""
from __future__ import annotations

import pytest

from tests.conftest import csrf_from, login, make_app
from tests.evidence.mediawiki import MediaWiki


@pytest.fixture(scope="module")
def edits(mediawiki: MediaWiki) -> dict:
    page = "User talk:Alice/App evidence"
    first = mediawiki.edit("Alice", page, text="== Hello ==\nWelcome. ~~~~\n", summary="start")
    insult = mediawiki.edit("Mallory", page, appendtext="\n== You ==\n{{ping|Alice}} you are an idiot. ~~~~\n",
                            summary="reply")
    return {"page": page, "first": first, "insult": insult}


# The local wikis get names of their own, the way an operator registers a
# test wiki: links use the name (and the API URL's port), requests go to the
# registered API URL only.
EN, DE = "wiki-en.test", "wiki-de.test"


def named(wiki: MediaWiki, name: str) -> str:
    """The wiki's server URL under its registered name."""
    return wiki.server.replace("127.0.0.1", name)


@pytest.fixture
def app_client(tmp_path, mediawiki: MediaWiki, mediawiki_de: MediaWiki):
    app = make_app(tmp_path, **{"wikis.extra": {EN: mediawiki.api_url, DE: mediawiki_de.api_url}})
    client = app.test_client()
    return client, login(client, "Alice")


def post(client, token, path, **body):
    return client.post(path, json=body, headers={"X-CSRF-Token": token})


def test_pasted_links_are_parsed_and_resolved(app_client, mediawiki, edits):
    client, token = app_client
    server = named(mediawiki, EN)
    text = (f"He wrote this: {server}/index.php?diff={edits['insult']}&oldid={edits['first']} and also\n"
            f"{server}/index.php?title=Special:PermanentLink/{edits['first']}\n"
            "https://example.org/not-a-wiki\n")
    parsed = post(client, token, "/api/v1/evidence/parse", text=text, context_wiki=EN).get_json()["links"]
    assert [link.get("kind") or link.get("error") for link in parsed] == ["diff", "revision", "unknown-wiki"]
    assert parsed[0]["oldid"] == edits["first"] and parsed[0]["newid"] == edits["insult"]
    assert parsed[2]["message"] == "This link is not on a Wikimedia wiki."

    resolved = post(client, token, "/api/v1/evidence/resolve", text=text).get_json()["links"]
    diff = resolved[0]
    assert diff["status"] == "resolved"
    assert diff["author"] == "Mallory" and diff["page_title"] == edits["page"]
    assert "you are an idiot" in diff["analysis"]["added_text"]
    assert "Alice" in diff["analysis"]["mentions"]
    assert [s["user"] for s in diff["analysis"]["signatures"]] == ["Mallory"]


def test_localized_special_pages_on_the_german_wiki(app_client, mediawiki_de):
    client, token = app_client
    revision = mediawiki_de.edit("Mallory", "Benutzer Diskussion:Alice", appendtext="\nDu Idiot. ~~~~\n",
                                 summary="Antwort")
    text = f"{named(mediawiki_de, DE)}/index.php?title=Spezial:Unterschied/{revision}"
    [link] = post(client, token, "/api/v1/evidence/resolve", text=text).get_json()["links"]
    assert link["kind"] == "diff" and link["newid"] == revision
    assert link["status"] == "resolved" and link["author"] == "Mallory"
    assert link["page_title"] == "Benutzer Diskussion:Alice"


@pytest.mark.parametrize("text", [
    "http://127.0.0.1:1/index.php?diff=5", "http://localhost/index.php?diff=5",
    "https://en.wikipedia.org@evil.example/wiki/Special:Diff/5", "https://en.wikipedia.org.evil.example/?diff=5",
    "http://[::1]/index.php?diff=5", "http://2130706433/?diff=5", "http://0177.0.0.1/?diff=5",
    "https://en.wikipedіa.org/?diff=5",  # Cyrillic і
])
def test_hosts_outside_the_registry_are_refused_without_a_request(app_client, text):
    client, token = app_client
    evidence = client.application.extensions["reporting"].evidence
    before = evidence.client.request_count
    [link] = post(client, token, "/api/v1/evidence/resolve", text=text).get_json()["links"]
    assert link["error"] in ("forbidden-host", "unknown-wiki", "not-a-link") and link["message"]
    assert evidence.client.request_count == before


def test_form_check_button_shows_the_facts_without_javascript(app_client, mediawiki, edits):
    client, _ = app_client
    token = csrf_from(client.get("/report").get_data(as_text=True))
    response = client.post("/report", data={
        "csrf_token": token, "action": "check", "wiki": EN, "category": "harassment",
        "evidence": f"{named(mediawiki, EN)}/index.php?diff={edits['insult']}", "description": "kept as typed"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "What the links show" in html and "Mallory" in html and "you are an idiot" in html
    assert "kept as typed</textarea>" in html
    assert client.get("/api/v1/reports").get_json() == {"reports": []}


def test_evidence_api_needs_login_and_csrf(tmp_path):
    app = make_app(tmp_path)
    client = app.test_client()
    assert client.post("/api/v1/evidence/parse", json={"text": "x"}).status_code == 403
    token = csrf_from(client.get("/login").get_data(as_text=True))
    assert client.post("/api/v1/evidence/parse", json={"text": "x"},
                       headers={"X-CSRF-Token": token}).status_code == 401
