"""What-the-edit-did analysis: tables of (old text, new text) -> expected facts."""

from __future__ import annotations

import time

import mwparserfromhell
import pytest

from reporting.evidence.wikitext import (
    analyze_change,
    contributions_aliases_from_siteinfo,
    namespace_names_from_siteinfo,
    readable_text,
)

SIG = "[[User:Mallory|Mallory]] ([[User talk:Mallory|talk]]) 10:00, 1 March 2024 (UTC)"
PAGE = "Intro.\n\n== First ==\nHello. [[User:Alice|Alice]] 09:00, 1 March 2024 (UTC)\n\n== Second ==\nSomething.\n"

GERMAN_SITEINFO = {"query": {
    "namespaces": {"-1": {"id": -1, "name": "Spezial", "canonical": "Special"},
                   "2": {"id": 2, "name": "Benutzer", "canonical": "User"},
                   "3": {"id": 3, "name": "Benutzer Diskussion", "canonical": "User talk"}},
    "namespacealiases": [{"id": 2, "alias": "Benutzerin"}, {"id": 3, "alias": "Benutzerin Diskussion"},
                         {"id": 3, "alias": "BD"}],
    "specialpagealiases": [{"realname": "Contributions", "aliases": ["Beiträge", "Contributions"]}],
}}
GERMAN = namespace_names_from_siteinfo(GERMAN_SITEINFO)
GERMAN_CONTRIBS = contributions_aliases_from_siteinfo(GERMAN_SITEINFO)


@pytest.mark.parametrize("old, new, expected", [
    # a signed reply with a ping, added to a section
    (PAGE, PAGE.replace("Something.\n", f"Something.\n:{{{{ping|Alice}}}} you idiot. {SIG}\n"),
     {"signatures": [{"user": "Mallory", "timestamp": "10:00, 1 March 2024 (UTC)"}], "mentions": ["Alice"],
      "user_links": ["Mallory"], "section": "Second", "added_text": "@Alice you idiot. Mallory (talk) 10:00, 1 March 2024 (UTC)",
      "removed_text": ""}),
    # a new section at the end
    (PAGE, PAGE + f"\n== Warning ==\nStop it, [[User:Alice]]. {SIG}",
     {"section": "Warning", "mentions": ["Alice"], "user_links": ["Alice", "Mallory"]}),
    # a reply to / several users, named parameters ignored
    ("", "{{reply to|Alice|Carol|p=.}} {{u|Dave}} hi", {"mentions": ["Alice", "Carol", "Dave"], "section": None,
                                                       "signatures": []}),
    # editing inside someone else's comment: the old signature is not new
    (PAGE, PAGE.replace("Hello.", "Hello, I am stupid."),
     {"signatures": [], "user_links": [], "mentions": [], "added_text": ", I am stupid", "removed_text": "",
      "section": "First"}),
    # removal of a comment
    (PAGE, PAGE.replace("Hello. [[User:Alice|Alice]] 09:00, 1 March 2024 (UTC)\n", ""),
     {"removed_text": "Hello. Alice 09:00, 1 March 2024 (UTC)", "added_text": "", "signatures": [], "section": "First"}),
    # moving a comment is neither a new signature nor a new mention
    ("A [[User:X|X]] 09:00, 1 March 2024 (UTC)\nB\n", "B\nA [[User:X|X]] 09:00, 1 March 2024 (UTC)\n",
     {"signatures": [], "user_links": []}),
    # an IP signs with a contributions link; a user subpage link names the user
    ("", "Hi [[Special:Contributions/192.0.2.1|192.0.2.1]] 10:00, 1 March 2024 (UTC) see [[User:Alice/Sandbox]]",
     {"signatures": [{"user": "192.0.2.1", "timestamp": "10:00, 1 March 2024 (UTC)"}],
      "user_links": ["192.0.2.1", "Alice"], "mentions": ["Alice"]}),
    # two signatures on one line belong to the nearest preceding user link
    ("", f"A [[User:One|1]] 10:00, 1 March 2024 (UTC) B [[User:Two|2]] 11:00, 1 March 2024 (UTC)",
     {"signatures": [{"user": "One", "timestamp": "10:00, 1 March 2024 (UTC)"},
                     {"user": "Two", "timestamp": "11:00, 1 March 2024 (UTC)"}]}),
    # lower-case first letter and underscores are normalised
    ("", "[[user_talk:alice_b|x]] 10:00, 1 March 2024 (UTC)",
     {"signatures": [{"user": "Alice b", "timestamp": "10:00, 1 March 2024 (UTC)"}]}),
    # no change at all
    (PAGE, PAGE, {"added_text": "", "removed_text": "", "signatures": [], "section": None}),
    # appending after a last line without a line break adds only the new line
    ("Line one", "Line one\nLine two", {"added_text": "Line two", "removed_text": ""}),
    # a Japanese timestamp
    ("", "こんにちは [[User:Taro|太郎]] 2024年3月1日 (金) 10:00 (UTC)",
     {"signatures": [{"user": "Taro", "timestamp": "2024年3月1日 (金) 10:00 (UTC)"}]}),
    # unbalanced markup does not break anything (an unclosed link is text, as in MediaWiki)
    ("", "{{ping|Alice}} [[User:Bob|Bob {{ <ref> '''", {"mentions": ["Alice"], "user_links": []}),
    # a link that is not to a user page is not a user link
    ("", "See [[Alice]] and [[Talk:User:Alice]] and [[Special:Log/Alice]]", {"user_links": [], "mentions": []}),
], ids=["reply-with-ping", "new-section", "reply-to", "edit-inside-comment", "removal", "move", "ip-and-subpage",
        "two-signatures", "normalised-names", "no-change", "no-final-newline", "japanese", "broken-markup",
        "non-user-links"])
def test_analysis_english(old, new, expected):
    analysis = analyze_change(old, new)
    for key, value in expected.items():
        assert analysis[key] == value, key
    assert analysis["structured_data"] is False


@pytest.mark.parametrize("new, expected", [
    ("[[Benutzer:Mallory|M]] ([[BD:Mallory|D]]) 12:00, 1. Mär. 2024 (CET)",
     {"signatures": [{"user": "Mallory", "timestamp": "12:00, 1. Mär. 2024 (CET)"}], "user_links": ["Mallory"]}),
    ("[[Benutzerin Diskussion:Alice|A]] 12:00, 1. Mär. 2024 (CET)",
     {"signatures": [{"user": "Alice", "timestamp": "12:00, 1. Mär. 2024 (CET)"}]}),
    ("[[Spezial:Beiträge/192.0.2.5|IP]] 12:00, 1. Mär. 2024 (CET)",
     {"signatures": [{"user": "192.0.2.5", "timestamp": "12:00, 1. Mär. 2024 (CET)"}]}),
    ("{{Ping|Carol}} [[User:Alice|A]] 12:00, 1. Mär. 2024 (CET)",  # canonical names work everywhere
     {"signatures": [{"user": "Alice", "timestamp": "12:00, 1. Mär. 2024 (CET)"}], "mentions": ["Carol"]}),
    ("[[Benutzer Diskussion:Alice/Archiv|x]]", {"user_links": ["Alice"], "mentions": ["Alice"]}),
])
def test_analysis_with_localised_namespaces(new, expected):
    analysis = analyze_change("", new, GERMAN, GERMAN_CONTRIBS)
    for key, value in expected.items():
        assert analysis[key] == value, key


def test_localised_names_are_unknown_without_siteinfo():
    assert analyze_change("", "[[Benutzer:Mallory|M]] 12:00, 1. Mär. 2024 (CET)")["signatures"] == []


def test_namespace_names_from_siteinfo():
    assert GERMAN["Benutzerin"] == 2 and GERMAN["BD"] == 3 and GERMAN["User talk"] == 3 and GERMAN["Spezial"] == -1
    assert GERMAN_CONTRIBS == ("Contributions", "Beiträge")


@pytest.mark.parametrize("wikitext, expected", [
    ("'''Bold''' and ''italic''", "Bold and italic"),
    ("[[Target|label]] and [[Plain]]", "label and Plain"),
    ("{{ping|Alice|Bob}} hello", "@Alice @Bob hello"),
    ("{{Some template|x}}text", "text"),
    ("[https://example.org site] <small>tiny</small>", "site tiny"),
    ("== Heading ==\n* item", "Heading\nitem"),
    ("", ""),
])
def test_readable_text(wikitext, expected):
    assert readable_text(wikitext) == expected


def test_parser_errors_are_caught(monkeypatch):
    def broken(_text):
        raise mwparserfromhell.parser.ParserError("boom")

    monkeypatch.setattr(mwparserfromhell, "parse", broken)
    analysis = analyze_change("", "{{ping|Alice}} [[User:Bob|Bob]] 10:00, 1 March 2024 (UTC)")
    assert analysis["signatures"] == [{"user": "Bob", "timestamp": "10:00, 1 March 2024 (UTC)"}]
    assert analysis["user_links"] == ["Bob"]
    assert "Bob" in analysis["added_text"]


def big_talk_page(sections: int = 2400) -> str:
    section = ("== Topic {i} ==\n" + ":Reply with [[link]] and {{{{tl|x}}}}. [[User:U{i}|U{i}]] "
               "([[User talk:U{i}|talk]]) 10:{m:02d}, 1 January 2024 (UTC)\n" * 8 + "\n")
    return "".join(section.format(i=i, m=i % 60) for i in range(sections))


def test_an_edit_on_a_two_megabyte_page_is_fast():
    old = big_talk_page()
    assert len(old) > 2_000_000
    at = old.find("== Topic 1500 ==")
    new = old[:at] + ":{{ping|U7}} go away [[User:Mallory|Mallory]] 11:00, 2 January 2024 (UTC)\n" + old[at:]
    started = time.perf_counter()
    analysis = analyze_change(old, new)
    elapsed = time.perf_counter() - started
    assert analysis["signatures"] == [{"user": "Mallory", "timestamp": "11:00, 2 January 2024 (UTC)"}]
    assert analysis["mentions"] == ["U7"]
    assert analysis["section"] == "Topic 1499"
    assert elapsed < 0.1


def test_replacing_a_huge_block_stays_bounded():
    old = big_talk_page(300)
    new = old.replace("Reply with", "Answer with")  # every line changes
    started = time.perf_counter()
    analysis = analyze_change(old, new)
    assert time.perf_counter() - started < 10
    assert "Answer" in analysis["added_text"] and analysis["signatures"] == []
