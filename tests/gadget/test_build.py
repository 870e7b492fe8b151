"""The gadget's build: what it embeds, how it compacts, what it refuses, and the `gadget build` command.

No wiki here: tests/gadget/test_gadget_browser.py runs the built code in a real MediaWiki.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from reporting.gadget.build import (
    BUDGET_GZIP_BYTES,
    CODE_FILE,
    DEFINITION_FILE,
    DESCRIPTION_FILE,
    SOURCE,
    GadgetBuildError,
    build_gadget,
    compact,
    embedded_messages,
    gadget_language,
    global_js_line,
    gzip_size,
    mediawiki_language,
)
from reporting.i18n import DEFAULT_MESSAGES_DIR
from reporting.i18n.languages import MEDIAWIKI_FALLBACKS, fallback_chain
from reporting.i18n.messages import read_message_file
from tests.conftest import make_app

TOOL = "https://incident-reporting.toolforge.org"


def inverted(fallbacks: dict[str, str]) -> dict[str, str]:
    return {code: target for target, codes in fallbacks.items() for code in codes.split()}


def test_the_build_fills_in_the_tool_and_every_language() -> None:
    gadget = build_gadget(TOOL)
    assert "__" not in gadget.code  # no placeholder left
    assert f'var TOOL="{TOOL}";' in gadget.code
    for path in sorted(DEFAULT_MESSAGES_DIR.glob("*.json")):
        if path.stem != "qqq":
            own = read_message_file(path)
            assert json.dumps(own["reporting-gadget-link"], ensure_ascii=False) in gadget.code, path.stem
            assert json.dumps(own["reporting-gadget-tooltip"], ensure_ascii=False) in gadget.code, path.stem
    assert gadget.description == read_message_file(DEFAULT_MESSAGES_DIR / "en.json")["reporting-gadget-description"]
    assert gadget.definition == ("* report-privately[ResourceLoader|default|dependencies=mediawiki.util"
                                 "|rights=editmyuserjs|targets=desktop,mobile]|report-privately.js")


def test_the_gadget_is_within_its_budget() -> None:
    code = build_gadget(TOOL).code
    assert gzip_size(code) <= BUDGET_GZIP_BYTES
    # Compacting is what keeps it there: the readable source alone is larger.
    assert gzip_size(SOURCE.read_text(encoding="utf-8")) > gzip_size(code)


def test_a_build_over_budget_is_refused(tmp_path: Path) -> None:
    messages = tmp_path / "i18n"
    shutil.copytree(DEFAULT_MESSAGES_DIR, messages)
    english = json.loads((messages / "en.json").read_text(encoding="utf-8"))
    english["reporting-gadget-tooltip"] = " ".join(f"word{n}" for n in range(600))
    (messages / "en.json").write_text(json.dumps(english), encoding="utf-8")
    with pytest.raises(GadgetBuildError, match="over its budget"):
        build_gadget(TOOL, messages_dir=messages)


@pytest.mark.parametrize("text", ["{{PLURAL:$1|x|y}}", "Report $1", "<b>Report</b>", "[[Report]]",
                                  "Report\u202eprivately", "Report\nprivately"])
def test_messages_the_gadget_cannot_show_as_text_are_refused(tmp_path: Path, text: str) -> None:
    messages = tmp_path / "i18n"
    shutil.copytree(DEFAULT_MESSAGES_DIR, messages)
    german = json.loads((messages / "de.json").read_text(encoding="utf-8"))
    german["reporting-gadget-link"] = text
    (messages / "de.json").write_text(json.dumps(german), encoding="utf-8")
    with pytest.raises(GadgetBuildError, match="reporting-gadget-link in de.json must be plain text"):
        build_gadget(TOOL, messages_dir=messages)


def test_every_mediawiki_language_gets_what_its_fallback_chain_gives() -> None:
    messages, fallbacks = embedded_messages()
    table = inverted(fallbacks)
    assert {"en", "ar", "de", "es", "fa", "fr", "id", "pt", "ru", "uk", "zh-hans"} <= set(messages)
    for code in MEDIAWIKI_FALLBACKS:
        assert gadget_language(code, messages, table) == mediawiki_language(code, messages), code
    # Codes MediaWiki does not know go by their first subtag, as the tool's own pages do.
    for code in ["fr-ca", "de-xx", "pt-ao", "ar-eg", "ja", "xx"]:
        expected = next(c for c in fallback_chain(code) if c in messages or c == "en")
        assert gadget_language(code, messages, table) == expected, code
    # The examples people will try.
    assert [gadget_language(code, messages, table) for code in ["de-at", "de-formal", "azb", "zh-tw", "gan-hant",
                                                               "crh-cyrl", "bar", "en-gb", "ja"]] == [
        "de", "de", "fa", "zh-hans", "zh-hans", "ru", "de", "en", "en"]


def test_only_the_codes_the_simple_rule_gets_wrong_are_listed() -> None:
    messages, fallbacks = embedded_messages()
    table = inverted(fallbacks)
    assert not {"de-at", "de-ch", "pt-br", "zh-tw", "es-formal"} & set(table)  # their first subtag says it
    assert table["azb"] == "fa" and table["zh"] == "zh-hans" and table["ban-bali"] == "en"
    for code in table:
        without = {other: target for other, target in table.items() if other != code}
        assert gadget_language(code, messages, without) != mediawiki_language(code, messages), code


@pytest.mark.parametrize(("source", "expected"), [
    ("var a = 1; // note\nvar b = 2;\n", "var a=1;\nvar b=2;\n"),
    ("/* head\n   more */\n\tif ( a ) {\n\t\tb( c, d );\n\t}\n", "if(a){\nb(c,d);\n}\n"),
    ("x = 'a // not a comment' + \"/* nor this */\";\n", "x='a // not a comment' + \"/* nor this */\";\n"),
    ("s = '  spaced  ( kept )  ';\n", "s='  spaced  ( kept )  ';\n"),
    ("a = b + +c - -d;\n", "a=b + +c - -d;\n"),
    ("t = 'it\\'s';\n\n\n", "t='it\\'s';\n"),
    ("return typeof x === 'y';\n", "return typeof x==='y';\n"),
])
def test_compact_leaves_out_comments_and_space_but_not_code(source: str, expected: str) -> None:
    assert compact(source) == expected


@pytest.mark.parametrize(("source", "problem"), [
    ("x = a / b;", "must not divide"),
    ("x = /re/.test( y );", "must not divide"),
    ("x = 'open;\n", "unterminated string"),
    ("/* open", "unterminated comment"),
])
def test_compact_refuses_what_it_cannot_read(source: str, problem: str) -> None:
    with pytest.raises(GadgetBuildError, match=problem):
        compact(source)


def test_compacting_keeps_the_gadget_s_code() -> None:
    """Every string and name of the source is still there, in order."""
    source = SOURCE.read_text(encoding="utf-8")
    code = compact(source)
    for name in ["wgDiffNewId", "wgDiffOldId", "wgRelevantUserName", "addPortletLink", "'p-cactions'",
                 "'ca-report-privately'", "'wikipage.diff'", "'mediawiki.util'", "encodeURIComponent"]:
        assert name in code
    assert "//" not in code and "/*" not in code and "\t" not in code


@pytest.mark.parametrize("text", ["'~~~'", "'{{subst:x}}'", "'[[a|]]'"])
def test_code_mediawiki_would_rewrite_on_save_is_refused(tmp_path: Path, text: str) -> None:
    source = tmp_path / "gadget.js"
    source.write_text(SOURCE.read_text(encoding="utf-8").replace("'use strict';", f"{text};"), encoding="utf-8")
    with pytest.raises(GadgetBuildError, match="rewrite on save"):
        build_gadget(TOOL, source=source)


@pytest.mark.parametrize(("tool_url", "built"), [
    ("https://incident-reporting.toolforge.org/", "https://incident-reporting.toolforge.org"),
    ("https://tools.example.org/reporting", "https://tools.example.org/reporting"),
    ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
    ("http://localhost:5000/", "http://localhost:5000"),
])
def test_tool_addresses_the_gadget_may_link_to(tool_url: str, built: str) -> None:
    assert f'var TOOL="{built}";' in build_gadget(tool_url).code


@pytest.mark.parametrize("tool_url", [
    "http://incident-reporting.toolforge.org", "javascript:alert(1)", "https://user@tool.example.org",
    "https://tool.example.org/?x=1", "https://tool.example.org/#x", "//tool.example.org", "tool.example.org",
])
def test_tool_addresses_the_gadget_must_not_link_to(tool_url: str) -> None:
    with pytest.raises(GadgetBuildError, match="tool URL"):
        build_gadget(tool_url)


def test_the_description_can_be_in_the_wiki_s_language() -> None:
    german = read_message_file(DEFAULT_MESSAGES_DIR / "de.json")["reporting-gadget-description"]
    assert build_gadget(TOOL, lang="de").description == german
    assert build_gadget(TOOL, lang="de-at").description == german


def test_the_global_js_line_loads_the_page_from_meta() -> None:
    assert global_js_line() == ("mw.loader.load('//meta.wikimedia.org/w/index.php"
                                "?title=MediaWiki:Gadget-report-privately.js&action=raw&ctype=text/javascript');")


def test_the_build_command_writes_the_three_files(tmp_path: Path) -> None:
    app = make_app(tmp_path, tool_url="https://tools.example.org/reporting")
    out = tmp_path / "out"
    result = app.test_cli_runner().invoke(args=["reporting", "gadget", "build", str(out)])
    assert result.exit_code == 0, result.output
    gadget = build_gadget("https://tools.example.org/reporting")
    assert sorted(path.name for path in out.iterdir()) == sorted([CODE_FILE, DESCRIPTION_FILE, DEFINITION_FILE])
    assert (out / CODE_FILE).read_text(encoding="utf-8") == gadget.code
    assert (out / DESCRIPTION_FILE).read_text(encoding="utf-8") == gadget.description + "\n"
    assert (out / DEFINITION_FILE).read_text(encoding="utf-8") == gadget.definition + "\n"
    assert f"the code is {gzip_size(gadget.code)} bytes gzip" in result.output

    other = app.test_cli_runner().invoke(args=["reporting", "gadget", "build", str(tmp_path / "other"),
                                               "--tool-url", "https://elsewhere.example.org", "--lang", "fr"])
    assert other.exit_code == 0, other.output
    assert 'var TOOL="https://elsewhere.example.org";' in (tmp_path / "other" / CODE_FILE).read_text(encoding="utf-8")
    assert (tmp_path / "other" / DESCRIPTION_FILE).read_text(encoding="utf-8").startswith("Signaler en privé")

    refused = app.test_cli_runner().invoke(args=["reporting", "gadget", "build", str(tmp_path / "bad"),
                                                 "--tool-url", "http://tools.example.org"])
    assert refused.exit_code == 1 and "must be https://" in refused.output
    assert not (tmp_path / "bad").exists()
