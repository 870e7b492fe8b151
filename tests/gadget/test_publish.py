"""`flask --app app reporting gadget publish` against a real MediaWiki (Debian's 1.39, Gadgets).

Bot passwords log in through the Action API, as an interface administrator would publish it; the
pages are then read back through the API and MediaWiki's own list of gadgets.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from reporting.gadget.build import build_gadget
from reporting.gadget.publish import PublishError, merge_definition, publish_gadget
from tests.conftest import make_app
from tests.evidence.mediawiki import MediaWiki
from tests.gadget.wiki import password_file

TOOL = "https://incident-reporting.toolforge.org"
PAGES = ["MediaWiki:Gadget-report-privately.js", "MediaWiki:Gadget-report-privately", "MediaWiki:Gadgets-definition"]
OTHER_GADGETS = "== tools ==\n* other-gadget|other-gadget.js\n\n== more ==\n* another[ResourceLoader]|another.js"


def tool(tmp_path: Path, wiki: MediaWiki, **settings):
    """The tool, with the local wiki registered (as an operator registers a test wiki)."""
    return make_app(tmp_path, **{"wikis.extra": {"127.0.0.1": wiki.api_url}, **settings})


def page_exists(wiki: MediaWiki, title: str) -> bool:
    page = wiki.admin.call({"action": "query", "titles": title})["query"]["pages"][0]
    return not page.get("missing")


@pytest.fixture
def cli(tmp_path: Path, gadget_wiki: MediaWiki):
    runner = tool(tmp_path, gadget_wiki, tool_url=TOOL).test_cli_runner()

    def publish(user: str = "Admin", *extra: str):
        return runner.invoke(args=["reporting", "gadget", "publish", "--api", gadget_wiki.api_url,
                                   "--user", f"{user}@tests",
                                   "--password-file", str(password_file(gadget_wiki, user, tmp_path)), *extra])
    return publish


@pytest.fixture
def fresh_wiki(gadget_wiki: MediaWiki) -> MediaWiki:
    """The wiki without the gadget's pages, and with two other gadgets already defined."""
    for title in PAGES:
        if page_exists(gadget_wiki, title):
            gadget_wiki.delete_page(title)
    gadget_wiki.edit("Admin", "MediaWiki:Gadgets-definition", OTHER_GADGETS, summary="other gadgets")
    return gadget_wiki


def test_publish_writes_the_pages_once_and_keeps_other_gadgets(cli, fresh_wiki: MediaWiki) -> None:
    result = cli()
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("created MediaWiki:Gadget-report-privately.js (revision ")
    assert lines[1].startswith("created MediaWiki:Gadget-report-privately (revision ")
    assert lines[2].startswith("edited MediaWiki:Gadgets-definition (revision ")

    gadget = build_gadget(TOOL)
    assert fresh_wiki.page_text(PAGES[0]) == gadget.code.rstrip("\n")  # MediaWiki drops the final newline
    assert fresh_wiki.page_text(PAGES[1]) == gadget.description
    assert fresh_wiki.page_text(PAGES[2]) == OTHER_GADGETS + "\n" + gadget.definition

    # MediaWiki reads the definition as intended.
    listed = fresh_wiki.admin.call({"action": "query", "list": "gadgets", "gaprop": "id|metadata",
                                    "gaids": "report-privately"})["query"]["gadgets"]
    assert len(listed) == 1
    settings, module = listed[0]["metadata"]["settings"], listed[0]["metadata"]["module"]
    assert settings["default"] is True and settings["rights"] == ["editmyuserjs"]
    assert module["dependencies"] == ["mediawiki.util"]
    assert module["scripts"] == ["MediaWiki:Gadget-report-privately.js"]

    # The summary says where the gadget comes from.
    revision = fresh_wiki.admin.call({"action": "query", "prop": "revisions", "titles": PAGES[0],
                                      "rvprop": "comment|user"})["query"]["pages"][0]["revisions"][0]
    assert revision == {"comment": f"Report privately gadget, built by the private incident-reporting tool at {TOOL}",
                        "user": "Admin"}

    # Again: nothing to do, no edit.
    revids = [fresh_wiki.current_revid(title) for title in PAGES]
    again = cli()
    assert again.exit_code == 0, again.output
    assert again.output.splitlines() == [f"unchanged {title}" for title in PAGES]
    assert [fresh_wiki.current_revid(title) for title in PAGES] == revids


def test_publish_replaces_an_old_line_of_the_gadget_in_place(cli, fresh_wiki: MediaWiki) -> None:
    old = "== tools ==\n* report-privately|report-privately.js\n* other-gadget|other-gadget.js"
    fresh_wiki.edit("Admin", "MediaWiki:Gadgets-definition", old, summary="an older version of the gadget")
    result = cli()
    assert result.exit_code == 0, result.output
    assert fresh_wiki.page_text(PAGES[2]) == ("== tools ==\n" + build_gadget(TOOL).definition
                                              + "\n* other-gadget|other-gadget.js")


def test_publish_in_the_wiki_s_language(cli, fresh_wiki: MediaWiki) -> None:
    result = cli("Admin", "--lang", "de")
    assert result.exit_code == 0, result.output
    assert fresh_wiki.page_text(PAGES[1]) == build_gadget(TOOL, lang="de").description
    revision = fresh_wiki.admin.call({"action": "query", "prop": "revisions", "titles": PAGES[1],
                                      "rvprop": "comment"})["query"]["pages"][0]["revisions"][0]
    assert revision["comment"].startswith("Helferlein „Vertraulich melden“")


def test_an_account_without_interface_rights_gets_a_clear_error_and_changes_nothing(cli, gadget_wiki) -> None:
    before = {title: page_exists(gadget_wiki, title) and gadget_wiki.current_revid(title) for title in PAGES}
    result = cli("Alice")
    assert result.exit_code == 1
    assert "Alice@tests may not publish the gadget: the account lacks editinterface, editsitejs." in result.output
    assert "Interface administrators have these rights" in result.output
    assert {title: page_exists(gadget_wiki, title) and gadget_wiki.current_revid(title) for title in PAGES} == before


def test_a_wrong_password_is_a_login_error(tmp_path: Path, gadget_wiki: MediaWiki) -> None:
    wrong = tmp_path / "wrong"
    wrong.write_text("0" * 32 + "\n")
    wrong.chmod(0o600)
    result = tool(tmp_path, gadget_wiki).test_cli_runner().invoke(args=[
        "reporting", "gadget", "publish", "--api", gadget_wiki.api_url, "--user", "Admin@tests",
        "--password-file", str(wrong)])
    assert result.exit_code == 1
    assert "login as Admin@tests failed: Failed" in result.output
    assert "0" * 32 not in result.output


def test_the_password_file_must_be_private(tmp_path: Path, gadget_wiki: MediaWiki) -> None:
    readable = password_file(gadget_wiki, "Admin", tmp_path)
    readable.chmod(0o644)
    result = tool(tmp_path, gadget_wiki).test_cli_runner().invoke(args=[
        "reporting", "gadget", "publish", "--api", gadget_wiki.api_url, "--user", "Admin@tests",
        "--password-file", str(readable)])
    assert result.exit_code == 1
    assert f"chmod 600 {readable}" in result.output


@pytest.mark.parametrize("api", [
    "http://meta.wikimedia.org/w/api.php",  # the password would travel in the clear
    "https://meta.wikimedia.org/wiki/Main_Page",
    "https://meta.wikimedia.org/w/api.php?action=query",
    "https://evil.example/w/api.php",
    "https://en.wikipedia.org.evil.example/w/api.php",
])
def test_the_password_goes_only_to_the_api_of_a_known_wiki(tmp_path: Path, gadget_wiki: MediaWiki, api: str) -> None:
    result = tool(tmp_path, gadget_wiki).test_cli_runner().invoke(args=[
        "reporting", "gadget", "publish", "--api", api, "--user", "Admin@tests",
        "--password-file", str(password_file(gadget_wiki, "Admin", tmp_path))])
    assert result.exit_code == 1
    assert f"--api {api} is not the API of a wiki the tool knows" in result.output


@pytest.mark.parametrize(("api", "problem"), [
    ("http://wiki.example.org/w/api.php", "only sent over https://"),
    ("https://wiki.example.org/w/index.php", "give the wiki's api.php"),
])
def test_publishing_checks_the_address_before_the_password_leaves(api: str, problem: str) -> None:
    """Also for a wiki an operator registered over plain http: refused before any request."""
    with pytest.raises(PublishError, match=problem):
        publish_gadget(build_gadget(TOOL), api_url=api, user="Admin@tests", password="x" * 32,
                       summary="", user_agent="tests")


LINE = "* report-privately[ResourceLoader|default]|report-privately.js"


@pytest.mark.parametrize(("current", "merged"), [
    (None, LINE),
    ("", LINE),
    ("* a|a.js", "* a|a.js\n" + LINE),
    ("* a|a.js\n\n\n", "* a|a.js\n" + LINE),
    ("* report-privately|report-privately.js\n* a|a.js", LINE + "\n* a|a.js"),
    ("** report-privately [ResourceLoader]|x.js\n* a|a.js\n* report-privately|y.js", LINE + "\n* a|a.js"),
    ("* report-privately-extra|x.js", "* report-privately-extra|x.js\n" + LINE),
    ("== s ==\n* a|a.js\n== t ==\n* b|b.js", "== s ==\n* a|a.js\n== t ==\n* b|b.js\n" + LINE),
])
def test_merging_the_definition(current: str | None, merged: str) -> None:
    assert merge_definition(current, LINE) == merged
