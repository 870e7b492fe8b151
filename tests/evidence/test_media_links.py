"""No images, ever: every form a link to a file can take is refused by the form's validation and
by the link parser; a link that only a wiki can tell is a file page (``?curid=``, ``?diff=N``) is
refused when it is resolved. Off-wiki links stay evidence, except in the child safety category."""

from __future__ import annotations

import pytest

from devtools.media_names import OUTPUT, collect, render
from reporting.evidence.links import parse_link
from reporting.evidence.media import is_media_link
from reporting.evidence.resolve import resolve_links
from reporting.intake.submission import validate_submission
from reporting.wiki.client import WikiClient, build_user_agent
from reporting.wiki.registry import WikiRegistry
from tests.conftest import csrf_from, login, make_app
from tests.evidence.mediawiki import MEDIAWIKI_DIR, MediaWiki

REGISTRY = WikiRegistry.builtin()
W = "https://en.wikipedia.org"

# The 24 forms and more. Each is a file, a file page or a page that serves or lists files.
MEDIA_FORMS = [
    "https://upload.wikimedia.org/wikipedia/commons/a/ab/Example.jpg",
    "https://upload.wikimedia.org/wikipedia/commons/thumb/a/ab/Example.jpg/200px-Example.jpg",
    "https://example.org/photo.PNG",
    "https://example.org/photo.jpg?width=300",
    "https://example.org/photo.jpg#top",
    W + "/wiki/File:Example.jpg",
    W + "/wiki/File:Example%2Ejpg",
    "https://example.org/photo.jp%67",
    "https://example.org/photo.jpg/",
    "https://example.org/photo%252Ejpg",  # encoded twice
    "https://example.org/photo．jpg",  # a full-width full stop (NFKC)
    "https://example.org/pho\u200bto.jpg",  # a zero-width space
    "https://example.org/photo.jpg&#47;",  # an HTML entity
    W + "/wiki/Special:FilePath/Example.jpg",
    W + "/wiki/Special:FilePath/Example",
    W + "/w/index.php?title=Special:FilePath&file=Example",
    W + "/wiki/Special:Redirect/file/Example.jpg",
    W + "/w/index.php?title=Special:Redirect&wptype=file&wpvalue=Example",
    W + "/wiki/Spe%63ial:FilePath/Example",
    "https://example.org/x.avif",
    "https://example.org/x.pdf",
    "https://example.org/x.mkv",
    "https://example.org/x.mp3",
    "https://example.org/x.ogg",
    "https://example.org/x.djvu",
    "https://example.org/x.heic",
    "https://example.org/x.zip",
    "https://i.imgur.com/abcdefg",
    "https://imgur.com/gallery/abcdefg",
    "https://pbs.twimg.com/media/abc?format=jpg&name=large",
    "https://cdn.discordapp.com/attachments/1/2/x",
    "//upload.wikimedia.org/x",
    "upload.wikimedia.org/x",
    "https://upload.wikimedia.org./x",
    "https://UPLOAD.WIKIMEDIA.ORG/X",
    "https://example.org/?u=https://i.imgur.com/x",
    "[[File:Example.jpg]]",
    "[[Media:Example.jpg|the picture]]",
    "[[:File:Example]]",
    "[[commons:File:Example]]",
    "[[Image:Example]]",
    "File:Example.jpg",
    "{{diff|File:Example.jpg|5|4|x}}",
    W + "/wiki/Image:Example",
    W + "/w/index.php?title=File:Example.jpg&action=history",
    W + "/w/index.php?title=File:Example.jpg&diff=5&oldid=4",
    "https://en.m.wikipedia.org/wiki/File:Example.jpg",
    "https://commons.wikimedia.org/wiki/File:Example",
    "https://commons.wikimedia.org/wiki/Special:NewFiles",
    "https://commons.wikimedia.org/wiki/Special:ListFiles/Mallory",
    "https://commons.wikimedia.org/wiki/Special:MediaSearch?search=x",
    "https://de.wikipedia.org/wiki/Datei:Beispiel",
    "https://de.wikipedia.org/wiki/Spezial:Dateipfad/Beispiel",
    "https://ru.wikipedia.org/wiki/%D0%A4%D0%B0%D0%B9%D0%BB:Example",
    "https://ja.wikipedia.org/wiki/ファイル:Example",
    "https://vi.wikipedia.org/wiki/T%E1%BA%ADp_tin:Example",
    "https://fr.wikipedia.org/wiki/Fichier:Exemple",
    "see https://example.org/x.jpg here",
]
NOT_MEDIA = [
    W + "/w/index.php?title=User_talk:Alice&diff=123&oldid=122",
    W + "/wiki/Special:Diff/123",
    W + "/wiki/Special:Redirect/revision/5",
    W + "/wiki/Wikipedia:Files_for_discussion",
    "https://de.wikipedia.org/wiki/Benutzer_Diskussion:Alice",
    "[[User talk:Alice#Hello]]",
    "https://twitter.com/someone/status/1",
    "https://example.org/article.html",
    "https://evil.zip/",
    "https://w.wiki/ABC",
]


@pytest.mark.parametrize("link", MEDIA_FORMS)
def test_every_form_of_a_file_link_is_refused_by_validation(link):
    _, errors = validate_submission({"wiki": "en.wikipedia.org", "category": "harassment", "evidence": [link]},
                                    lambda raw: "en.wikipedia.org")
    assert [(e.field, e.code) for e in errors] == [("evidence", "media-link")]


@pytest.mark.parametrize("link", MEDIA_FORMS)
def test_every_form_of_a_file_link_is_refused_by_the_link_parser(link):
    assert parse_link(link, "en.wikipedia.org", REGISTRY)["error"] == "media-link"


@pytest.mark.parametrize("link", NOT_MEDIA)
def test_pages_edits_and_other_sites_are_not_files(link):
    assert not is_media_link(link)
    assert parse_link(link, "en.wikipedia.org", REGISTRY).get("error") != "media-link"


def normalize(raw: str) -> str | None:
    wiki, error = REGISTRY.check(raw)
    return wiki.host if wiki is not None and error is None else None


@pytest.mark.parametrize("link, category, refused", [
    ("https://example.org/post/1", "harassment", False),  # off-wiki harassment is evidence
    ("https://example.org/post/1", "child-safety", True),
    ("see example.org/post/1", "child-safety", True),
    ("//example.org/x", "child-safety", True),
    ("https://192.0.2.1/x", "child-safety", True),
    (W + "/wiki/Special:Diff/5", "child-safety", False),
    ("https://w.wiki/ABC", "child-safety", False),
    ("[[User talk:Alice]]", "child-safety", False),
    ("e.g. the edit above", "child-safety", False),
])
def test_child_safety_accepts_no_off_wiki_link(link, category, refused):
    _, errors = validate_submission({"wiki": "en.wikipedia.org", "category": category, "evidence": [link],
                                     "description": "x"}, normalize)
    assert [(e.field, e.code) for e in errors] == ([("evidence", "off-wiki-child-safety")] if refused else [])


@pytest.mark.parametrize("lang", ["en", "qqx", "ar", "fa", "ru", "es", "fr", "de", "pt", "zh-hans", "id", "uk"])
def test_the_form_says_where_child_abuse_material_is_reported(tmp_path, lang):
    client = make_app(tmp_path).test_client()
    login(client, "Alice")
    html = client.get(f"/report?uselang={lang}").get_data(as_text=True)
    assert "legal-reports@wikimedia.org" in html or "(reporting-child-safety-report-to)" in html


def test_the_api_refuses_a_file_link_and_an_off_wiki_child_safety_link(tmp_path):
    client = make_app(tmp_path).test_client()
    token = login(client, "Alice")
    for evidence, category, code in ((["https://example.org/photo.jp%67"], "harassment", "media-link"),
                                     (["https://example.org/x"], "child-safety", "off-wiki-child-safety")):
        response = client.post("/api/v1/reports", json={"wiki": "en.wikipedia.org", "category": category,
                                                        "evidence": evidence}, headers={"X-CSRF-Token": token})
        assert response.status_code == 422
        assert [e["code"] for e in response.get_json()["errors"]] == [code]
        assert "legal-reports@wikimedia.org" in response.get_json()["errors"][0]["message"] or code == "media-link"


def test_the_form_refuses_an_off_wiki_child_safety_link(tmp_path):
    client = make_app(tmp_path).test_client()
    login(client, "Alice")
    token = csrf_from(client.get("/report").get_data(as_text=True))
    response = client.post("/report", data={"csrf_token": token, "wiki": "en.wikipedia.org",
                                            "category": "child-safety", "evidence": "https://example.org/x"})
    assert response.status_code == 422
    assert "only links to Wikimedia wikis are accepted" in response.get_data(as_text=True)


def test_a_file_page_named_only_by_its_id_is_refused_when_resolved(mediawiki: MediaWiki):
    # A file description page can be edited without an upload: its text is all it holds here,
    # but a wiki shows the file on it, so links to it are refused whatever form they take.
    revision = mediawiki.edit("Mallory", "File:Evidence test.jpg", "A description.", summary="describe")
    page_id = mediawiki.admin.call({"action": "query", "prop": "info", "titles": "File:Evidence test.jpg"}
                                   )["query"]["pages"][0]["pageid"]
    client = WikiClient(build_user_agent("reporting-tests", "1.0", "https://example.org/tool", "t@example.org"))
    links = [{"input": "curid", "wiki": "local", "kind": "page", "pageid": page_id},
             {"input": "diff", "wiki": "local", "kind": "diff", "oldid": None, "newid": revision},
             {"input": "permalink", "wiki": "local", "kind": "revision", "revid": revision}]
    results = resolve_links(links, client, {"local": mediawiki.api_url}.get, siteinfo_for=lambda api_url: {})
    assert [result.get("error") for result in results] == ["media-link"] * 3
    assert all("status" not in result and "analysis" not in result and "page_title" not in result
               for result in results)


def test_the_list_of_localised_file_names_is_generated_from_mediawiki():
    assert (MEDIAWIKI_DIR / "languages" / "messages" / "MessagesDe.php").is_file()
    generated = render(collect(MEDIAWIKI_DIR / "languages" / "messages"))
    assert OUTPUT.read_text(encoding="utf-8") == generated
