"""Evidence link parsing: every form of REFERENCE §1, read the way MediaWiki 1.39 reads it."""

import json
import time
from pathlib import Path

import pytest

from reporting.evidence.links import parse_evidence, parse_link
from reporting.wiki.registry import WikiRegistry
from reporting.wiki.siteinfo import SiteInfo

DATA = Path(__file__).parent / "data"
SITEINFO_HOSTS = ("en.wikipedia.org", "de.wikipedia.org", "ru.wikipedia.org", "ja.wikipedia.org")
SITEINFO = {
    host: SiteInfo.from_api(json.loads((DATA / f"siteinfo_{host}.json").read_text(encoding="utf-8")))
    for host in SITEINFO_HOSTS
}
EXTRA = {"dewiki.local.test": "http://127.0.0.1:8123/w/api.php"}
REGISTRY = WikiRegistry.builtin().with_extra(EXTRA)
EN = "en.wikipedia.org"


def siteinfo_for(wiki):
    return SITEINFO.get(wiki.host)


def parsed(text, context=EN, registry=REGISTRY):
    result = parse_link(text, context, registry, siteinfo_for)
    assert result.pop("input") == text
    return result


def D(oldid, newid, wiki=EN, **extra):
    return {"wiki": wiki, "kind": "diff", "oldid": oldid, "newid": newid, **extra}


def R(revid, wiki=EN, **extra):
    return {"wiki": wiki, "kind": "revision", "revid": revid, **extra}


def P(wiki=EN, **extra):
    return {"wiki": wiki, "kind": "page", **extra}


def E(code):
    return {"error": code}


W = "https://en.wikipedia.org"
IDX = W + "/w/index.php"

INDEX_PHP = [
    # diff and oldid (DifferenceEngine::mapDiffPrevNext, Article::getOldIDFromRequest)
    (IDX + "?title=Foo&diff=123&oldid=100", D(100, 123, title="Foo")),
    (IDX + "?diff=123&oldid=100", D(100, 123)),
    (IDX + "?oldid=100&diff=123", D(100, 123)),
    (IDX + "?title=Foo&diff=100&oldid=123", D(123, 100, title="Foo", reversed=True)),
    (IDX + "?diff=123", D(None, 123)),
    (IDX + "?title=Foo&diff=123", D(None, 123, title="Foo")),
    (IDX + "?diff=prev&oldid=55", D(55, "prev")),
    (IDX + "?title=Foo&diff=prev&oldid=55", D(55, "prev", title="Foo")),
    (IDX + "?diff=next&oldid=55", D(55, "next")),
    (IDX + "?diff=cur&oldid=55", D(55, "cur")),
    (IDX + "?diff=0&oldid=55", D(55, "cur")),
    (IDX + "?diff=&oldid=55", D(55, "cur")),
    (IDX + "?diff=last&oldid=55", D(55, "cur")),  # intval("last") is 0
    (IDX + "?diff=12abc&oldid=5", D(5, 12)),  # intval reads the numeric prefix
    (IDX + "?diff=1e3", D(None, 1000)),  # PHP intval("1e3") == 1000
    (IDX + "?diff=+7", D(None, 7)),
    (IDX + "?diff=%2012", D(None, 12)),  # leading whitespace is skipped by intval
    (IDX + "?diff=7&oldid=abc", D(None, 7)),  # a non-numeric oldid counts as absent
    (IDX + "?diff=7&oldid=12abc", D(None, 7)),
    (IDX + "?diff=7&oldid=", D(None, 7)),
    (IDX + "?diff=7&oldid=0", D(None, 7)),
    (IDX + "?diff=7&oldid=%209", D(9, 7, reversed=True)),  # is_numeric allows whitespace
    (IDX + "?diff=7&oldid=5&diff=9", D(5, 9)),  # PHP: the last value wins
    (IDX + "?diff[]=7&oldid=5", R(5)),  # arrays are ignored by getVal/getCheck
    (IDX + "?title=Foo&diff=cur", D(None, "cur", title="Foo")),  # the page's last edit
    (IDX + "?title=Foo&diff=next", D(None, "cur", title="Foo")),
    (IDX + "?title=Foo&diff=prev", P(title="Foo")),  # no old side: the latest revision alone
    (IDX + "?curid=42&diff=cur", D(None, "cur", pageid=42)),
    (IDX + "?diff=cur", E("unsupported")),  # the Main Page's last edit: not evidence
    (IDX + "?diff=prev", E("unsupported")),
    (IDX + "?diff=-5", E("bad-revision-id")),
    (IDX + "?diff=5&oldid=-3", E("bad-revision-id")),
    (IDX + "?diff=99999999999", E("bad-revision-id")),
    (IDX + "?diff=prev&oldid=55&direction=next", D(55, "prev", direction="next")),
    (IDX + "?title=Foo&diff=5&oldid=3&curid=9", D(3, 5, title="Foo")),  # revision ids win
    # oldid alone, direction
    (IDX + "?oldid=777", R(777)),
    (IDX + "?title=Foo&oldid=777", R(777)),
    (IDX + "?title=Foo&oldid=777&direction=prev", R(777, direction="prev")),
    (IDX + "?oldid=777&direction=next", R(777, direction="next")),
    (IDX + "?oldid=777&direction=NEXT", R(777)),  # getRawVal is compared exactly
    (IDX + "?oldid=777&curid=12", R(777)),
    (IDX + "?oldid=777.9", R(777)),
    (IDX + "?oldid=-4", E("bad-revision-id")),
    (IDX + "?oldid=12abc", E("unsupported")),  # MediaWiki shows rev 12's page, not rev 12
    (IDX + "?title=Foo&oldid=abc", P(title="Foo")),
    (IDX + "?title=Foo&oldid=0", P(title="Foo")),
    # curid and titles
    (W + "/?curid=42", P(pageid=42)),
    (IDX + "?curid=42", P(pageid=42)),
    (IDX + "?curid=42&title=Bar", P(pageid=42)),
    (IDX + "?curid=42abc", P(pageid=42)),  # getInt is intval
    (IDX + "?curid=-1", E("bad-id")),
    (IDX + "?title=Foo_bar", P(title="Foo bar")),
    (IDX + "?title=Foo+bar", P(title="Foo bar")),  # + is a space in the query string
    (IDX + "?title=Foo%2Bbar", P(title="Foo+bar")),
    (IDX + "?title=Talk:Foo&action=history", P(title="Talk:Foo")),
    (IDX + "?title=Foo&action=edit", P(title="Foo")),
    (IDX + "?title=Foo&action=edit&oldid=5", R(5)),
    (IDX + "?title=Foo&action=raw&oldid=5", R(5)),
    (IDX + "?title=Foo&action=historysubmit&diff=5&oldid=4", D(4, 5, title="Foo")),
    (IDX + "?title=Foo&action=render&diff=5", D(None, 5, title="Foo")),
    (IDX + "?title=Foo&action=nonsense", E("unsupported")),
    (IDX + "?title=Foo&action=history&oldid=5", E("unsupported")),
    (IDX, E("unsupported")),
    (W, E("unsupported")),
    (W + "/", E("unsupported")),
    (IDX + "?search=Foo", E("unsupported")),
]

PATHS = [
    (W + "/wiki/Foo", P(title="Foo")),
    (W + "/wiki/Foo_bar", P(title="Foo bar")),
    (W + "/wiki/A+B", P(title="A+B")),  # in the path + is a literal plus
    (W + "/wiki/A%2BB", P(title="A+B")),
    (W + "/wiki/A%20B", P(title="A B")),
    (W + "/wiki/%E6%97%A5%E6%9C%AC", P(title="日本")),
    (W + "/wiki/日本", P(title="日本")),
    (W + "/wiki/Caf%C3%A9", P(title="Café")),
    (W + "/wiki/Cafe%CC%81", P(title="Café")),  # NFC, as WebRequest normalises
    (W + "/wiki/Foo?title=Bar", P(title="Foo")),  # the path title wins
    (W + "/wiki/Foo?oldid=5", R(5)),
    (W + "/wiki/Foo?diff=5&oldid=4", D(4, 5, title="Foo")),
    (W + "/wiki/Foo?action=history", P(title="Foo")),
    (W + "/wiki/Foo#History", P(title="Foo", fragment="History")),
    (W + "/wiki/Foo%23Bar", P(title="Foo", fragment="Bar")),
    (W + "/wiki/Foo#Caf%C3%A9", P(title="Foo", fragment="Café")),
    (W + "/wiki/Foo#", P(title="Foo")),
    (W + "/w/index.php/Foo", P(title="Foo")),
    (W + "/w/index.php/Special:Diff/5", D(None, 5)),
    (W + "/w/index.php/Foo?oldid=3", R(3)),
    (W + "//wiki//Foo", P(title="Foo")),  # PathRouter's normalised retry
    (W + "/x/../wiki/Foo", P(title="Foo")),
    (W + "/wiki/", E("unsupported")),
    (W + "/wiki", E("unsupported")),
    (W + "/w/api.php?action=query", E("unsupported")),
    (W + "/something/else", E("unsupported")),
    (W + "/wiki/Wikipedia:Village_pump", P(title="Wikipedia:Village pump")),
    (W + "/wiki/User_talk:Foo", P(title="User talk:Foo")),
    (W + "/wiki/%E2%80%8EFoo", P(title="Foo")),  # bidi marks are dropped from titles
]

HOSTS = [
    ("http://en.wikipedia.org/wiki/Foo", P(title="Foo")),
    ("//en.wikipedia.org/wiki/Foo", P(title="Foo")),
    ("en.wikipedia.org/wiki/Foo", P(title="Foo")),
    ("HTTPS://EN.WIKIPEDIA.ORG/wiki/Foo", P(title="Foo")),
    ("https://en.wikipedia.org./wiki/Foo", P(title="Foo")),
    ("https://en.m.wikipedia.org/wiki/Foo", P(title="Foo")),
    ("https://EN.M.wikipedia.org/w/index.php?diff=5", D(None, 5)),
    ("https://m.wikidata.org/wiki/Q42", P(wiki="www.wikidata.org", title="Q42")),
    ("https://wikidata.org/wiki/Q42", P(wiki="www.wikidata.org", title="Q42")),
    ("https://commons.m.wikimedia.org/wiki/User_talk:X", P(wiki="commons.wikimedia.org", title="User talk:X")),
    ("https://commons.m.wikimedia.org/wiki/File:X.jpg", E("media-link")),  # files: never accepted
    ("https://de.wikipedia.org/wiki/Foo", P(wiki="de.wikipedia.org", title="Foo")),
    ("https://www.mediawiki.org/wiki/Foo", P(wiki="www.mediawiki.org", title="Foo")),
    ("https://en.wikipedia.org\\wiki\\Foo", P(title="Foo")),  # browsers read \ as /
    ("<https://en.wikipedia.org/wiki/Foo>", P(title="Foo")),
    ('"https://en.wikipedia.org/wiki/Foo"', P(title="Foo")),
    ("[https://en.wikipedia.org/wiki/Foo label text]", P(title="Foo")),
    ("  https://en.wikipedia.org/wiki/Foo  ", P(title="Foo")),
    ("https://w.wiki/4Bc", {"wiki": "w.wiki", "kind": "shorturl", "code": "4Bc"}),
    ("http://W.WIKI./$Ab-_", {"wiki": "w.wiki", "kind": "shorturl", "code": "$Ab-_"}),
    ("w.wiki/7xY", {"wiki": "w.wiki", "kind": "shorturl", "code": "7xY"}),
    ("https://w.wiki/", E("unsupported")),
    ("https://w.wiki/a%2Fb", E("unsupported")),
    # hosts that are never contacted
    ("https://127.0.0.1/wiki/Foo", E("forbidden-host")),
    ("http://localhost/wiki/Foo", E("forbidden-host")),
    ("http://[::1]/wiki/Foo", E("forbidden-host")),
    ("http://2130706433/wiki/Foo", E("forbidden-host")),
    ("http://0177.0.0.1/wiki/Foo", E("forbidden-host")),
    ("https://en.wikipedia.org@evil.example/wiki/Foo", E("forbidden-host")),
    ("en.wikipedia.org@evil.example/wiki/Foo", E("forbidden-host")),
    ("https://en.wikipedia.org:443/wiki/Foo", E("forbidden-host")),
    ("https://en.wikipedia.org:8080/wiki/Foo", E("forbidden-host")),
    ("https://en.wikipedia.org.evil.example/wiki/Foo", E("unknown-wiki")),
    ("https://en.wikip\u0435dia.org/wiki/Foo", E("unknown-wiki")),
    ("https://evil.example/wiki/Foo", E("unknown-wiki")),
    ("https://en%2Ewikipedia.org/wiki/Foo", E("forbidden-host")),
    ("ftp://en.wikipedia.org/wiki/Foo", E("unsupported")),
    ("javascript:alert(1)", E("not-a-link")),
    # operator-registered wiki (a local MediaWiki in tests)
    ("http://dewiki.local.test/wiki/Foo", P(wiki="dewiki.local.test", title="Foo")),
    ("http://dewiki.local.test:8123/w/index.php?diff=5&oldid=4", D(4, 5, wiki="dewiki.local.test")),
    ("https://dewiki.local.test:8123/wiki/Special:Diff/9", D(None, 9, wiki="dewiki.local.test")),
    ("http://dewiki.local.test:8124/wiki/Foo", E("forbidden-host")),
    ("http://127.0.0.1:8123/wiki/Foo", E("forbidden-host")),
]

SPECIAL = [
    # Special:Diff (SpecialDiff::getRedirect)
    (W + "/wiki/Special:Diff/5", D(None, 5)),
    (W + "/wiki/Special:Diff/4/5", D(4, 5)),
    (W + "/wiki/Special:Diff/5/4", D(5, 4, reversed=True)),
    (W + "/wiki/Special:Diff/5/prev", D(5, "prev")),
    (W + "/wiki/Special:Diff/5/next", D(5, "next")),
    (W + "/wiki/Special:Diff/5/cur", D(5, "cur")),
    (W + "/wiki/Special:Diff/5/0", D(5, "cur")),
    (W + "/wiki/special:diff/5", D(None, 5)),
    (W + "/wiki/SPECIAL:DIFF/5", D(None, 5)),
    (W + "/wiki/Special:diff/5", D(None, 5)),
    (W + "/wiki/Special%3ADiff%2F5", D(None, 5)),
    (W + "/wiki/Special_:_Diff/5", D(None, 5)),
    (W + "/wiki/Special:Diff/5?oldid=1", D(None, 5)),  # no parameters pass through
    (W + "/wiki/Special:Diff/5#frag", D(None, 5, fragment="frag")),
    (W + "/wiki/Special:Diff/5x", D(None, 5)),
    (W + "/wiki/Special:Diff", E("unsupported")),
    (W + "/wiki/Special:Diff/", E("unsupported")),
    (W + "/wiki/Special:Diff/1/2/3", E("unsupported")),
    (W + "/wiki/Special:Diff/prev", E("unsupported")),
    (IDX + "?title=Special:Diff/5", D(None, 5)),
    (IDX + "?title=Special:Diff&diff=5", E("unsupported")),
    (IDX + "?title=Special:Diff/5&curid=3", P(pageid=3)),  # curid replaces even a special title
    # PermanentLink
    (W + "/wiki/Special:PermanentLink/55", R(55)),
    (W + "/wiki/Special:Permalink/55", R(55)),
    (W + "/wiki/special:permalink/55", R(55)),
    (W + "/wiki/Special:PermanentLink/55#Section", R(55, fragment="Section")),
    (W + "/wiki/Special:PermanentLink/55/whatever", R(55)),
    (W + "/wiki/Special:PermanentLink/55abc", R(55)),
    (W + "/wiki/Special:PermanentLink/abc", E("unsupported")),
    (W + "/wiki/Special:PermanentLink", E("unsupported")),
    (W + "/wiki/Special:PermanentLink/-5", E("bad-revision-id")),
    # Redirect
    (W + "/wiki/Special:Redirect/revision/55", R(55)),
    (W + "/wiki/Special:Redirect/page/42", P(pageid=42)),
    (W + "/wiki/Special:Redirect/logid/9", {"wiki": EN, "kind": "log", "logid": 9}),
    (W + "/wiki/Special:Redirect/user/3", {"wiki": EN, "kind": "contribs", "userid": 3}),
    (W + "/wiki/Special:Redirect/revision/5x", E("bad-revision-id")),
    (W + "/wiki/Special:Redirect/revision/0", E("bad-revision-id")),
    (W + "/wiki/Special:Redirect/revision/+5", E("bad-revision-id")),
    (W + "/wiki/Special:Redirect/page/x", E("bad-id")),
    (W + "/wiki/Special:Redirect/file/X.jpg", E("media-link")),  # an image: never fetched
    (W + "/wiki/Special:Redirect/Revision/5", E("unsupported")),
    (W + "/wiki/Special:Redirect", E("unsupported")),
    # ComparePages
    (W + "/wiki/Special:ComparePages?page1=A&rev1=5&page2=B&rev2=9", D(5, 9)),
    (W + "/wiki/Special:ComparePages?rev1=9&rev2=5", D(9, 5, reversed=True)),
    (W + "/w/index.php?title=Special:ComparePages&rev1=+5&rev2=%209", D(5, 9)),
    (W + "/wiki/Special:ComparePages?page1=A&page2=B", E("unsupported")),
    (W + "/wiki/Special:ComparePages?page1=A&rev1=5&page2=B", E("unsupported")),
    (W + "/wiki/Special:ComparePages?rev1=5x&rev2=9", E("unsupported")),
    (W + "/wiki/Special:ComparePages?rev1=-5&rev2=9", E("bad-revision-id")),
    # MobileDiff
    ("https://en.m.wikipedia.org/wiki/Special:MobileDiff/9", D(None, 9)),
    ("https://en.m.wikipedia.org/wiki/Special:MobileDiff/3...9", D(3, 9)),
    ("https://en.m.wikipedia.org/wiki/Special:MobileDiff/9...3", D(9, 3, reversed=True)),
    ("https://en.m.wikipedia.org/wiki/Special:MobileDiff/3...3", E("bad-revision-id")),
    ("https://en.m.wikipedia.org/wiki/Special:MobileDiff/...3", E("unsupported")),
    ("https://en.m.wikipedia.org/wiki/Special:MobileDiff/0...3", E("unsupported")),
    ("https://en.m.wikipedia.org/wiki/Special:MobileDiff", E("unsupported")),
    # Log
    (IDX + "?title=Special:Log&logid=44", {"wiki": EN, "kind": "log", "logid": 44}),
    (W + "/wiki/Special:Log?logid=44", {"wiki": EN, "kind": "log", "logid": 44}),
    (W + "/wiki/Special:Log?logid=x", E("bad-id")),
    (W + "/wiki/Special:Log/block", {"wiki": EN, "kind": "log", "log_type": "block"}),
    (W + "/wiki/Special:Log/block?page=User:Foo",
     {"wiki": EN, "kind": "log", "log_type": "block", "title": "User:Foo"}),
    (W + "/wiki/Special:Log?type=delete&user=Foo_bar&page=Baz",
     {"wiki": EN, "kind": "log", "log_type": "delete", "title": "Baz", "user": "Foo bar"}),
    (W + "/wiki/Special:Log/delete/foo", {"wiki": EN, "kind": "log", "log_type": "delete", "user": "Foo"}),
    (W + "/wiki/Special:Log/Foo", {"wiki": EN, "kind": "log", "log_type": None, "user": "Foo"}),
    (W + "/wiki/Special:Log/Block", {"wiki": EN, "kind": "log", "log_type": None, "user": "Block"}),
    (W + "/wiki/Special:Log?type=nonsense", {"wiki": EN, "kind": "log", "log_type": None}),
    (W + "/wiki/Special:Log/all", {"wiki": EN, "kind": "log", "log_type": None}),
    (W + "/wiki/Special:Logs/move", {"wiki": EN, "kind": "log", "log_type": "move"}),
    # Contributions
    (W + "/wiki/Special:Contributions/Foo_bar", {"wiki": EN, "kind": "contribs", "user": "Foo bar"}),
    (W + "/wiki/Special:Contributions/foo", {"wiki": EN, "kind": "contribs", "user": "Foo"}),
    (W + "/wiki/Special:Contribs/Foo", {"wiki": EN, "kind": "contribs", "user": "Foo"}),
    (W + "/wiki/Special:Contributions?target=Foo+bar", {"wiki": EN, "kind": "contribs", "user": "Foo bar"}),
    (IDX + "?title=Special:Contributions&target=Foo", {"wiki": EN, "kind": "contribs", "user": "Foo"}),
    (W + "/wiki/Special:Contributions/192.0.2.7", {"wiki": EN, "kind": "contribs", "user": "192.0.2.7"}),
    (W + "/wiki/Special:Contributions/2001:db8::1",
     {"wiki": EN, "kind": "contribs", "user": "2001:DB8:0:0:0:0:0:1"}),
    (W + "/wiki/Special:Contributions/2001:DB8::/32", {"wiki": EN, "kind": "contribs", "user": "2001:DB8:0:0:0:0:0:0/32"}),
    (W + "/wiki/Special:Contributions/192.0.2.0/24", {"wiki": EN, "kind": "contribs", "user": "192.0.2.0/24"}),
    (W + "/wiki/Special:Contributions/Foo/Bar", {"wiki": EN, "kind": "contribs", "user": "Foo/Bar"}),
    (W + "/wiki/Special:Contributions", E("unsupported")),
    # GoToComment and comment anchors
    (W + "/wiki/Special:GoToComment/c-Foo-20230101120000-Bar",
     {"wiki": EN, "kind": "comment", "comment_id": "c-Foo-20230101120000-Bar"}),
    (W + "/wiki/Talk:Foo#c-Bar-20230101120000-Baz",
     {"wiki": EN, "kind": "comment", "comment_id": "c-Bar-20230101120000-Baz", "title": "Talk:Foo"}),
    (W + "/wiki/User_talk:X#c-Some_user-2023-01-01T12:00:00.000Z-Heading",
     {"wiki": EN, "kind": "comment", "comment_id": "c-Some_user-2023-01-01T12:00:00.000Z-Heading",
      "title": "User talk:X"}),
    (W + "/wiki/Talk:Foo#c-notacomment", P(title="Talk:Foo", fragment="c-notacomment")),
    (W + "/w/index.php?oldid=5#c-Bar-20230101120000-Baz", R(5, fragment="c-Bar-20230101120000-Baz")),
    (W + "/wiki/Special:GoToComment", E("unsupported")),
    # history / edit / info special pages
    (W + "/wiki/Special:PageHistory/Foo_bar", P(title="Foo bar")),
    (W + "/wiki/Special:History/Foo", P(title="Foo")),
    (W + "/wiki/Special:RecentChanges", E("unsupported")),
    (W + "/wiki/Special:NoSuchPage/5", E("unsupported")),
]

LOCALIZED = [
    ("https://de.wikipedia.org/wiki/Spezial:Unterschied/5", D(None, 5, wiki="de.wikipedia.org")),
    ("https://de.wikipedia.org/wiki/spezial:differenz/4/5", D(4, 5, wiki="de.wikipedia.org")),
    ("https://de.wikipedia.org/wiki/Spezial:Diff/5", D(None, 5, wiki="de.wikipedia.org")),
    ("https://de.wikipedia.org/wiki/Special:Unterschied/5", D(None, 5, wiki="de.wikipedia.org")),
    ("https://de.wikipedia.org/wiki/Spezial:Permanenter_Link/7", R(7, wiki="de.wikipedia.org")),
    ("https://de.wikipedia.org/wiki/Spezial:Beitr%C3%A4ge/Foo",
     {"wiki": "de.wikipedia.org", "kind": "contribs", "user": "Foo"}),
    ("https://de.wikipedia.org/wiki/Spezial:Beiträge/Foo",
     {"wiki": "de.wikipedia.org", "kind": "contribs", "user": "Foo"}),
    ("https://de.wikipedia.org/wiki/Spezial:Logbuch/block",
     {"wiki": "de.wikipedia.org", "kind": "log", "log_type": "block"}),
    ("https://de.wikipedia.org/wiki/Spezial:Weiterleitung/revision/9", R(9, wiki="de.wikipedia.org")),
    ("https://de.wikipedia.org/w/index.php?title=Spezial:Seiten_vergleichen&rev1=1&rev2=2",
     D(1, 2, wiki="de.wikipedia.org")),
    ("https://de.wikipedia.org/wiki/Benutzer:Foo", P(wiki="de.wikipedia.org", title="Benutzer:Foo")),
    ("https://ru.wikipedia.org/wiki/Служебная:Изменения/7", D(None, 7, wiki="ru.wikipedia.org")),
    ("https://ru.wikipedia.org/wiki/%D0%A1%D0%BB%D1%83%D0%B6%D0%B5%D0%B1%D0%BD%D0%B0%D1%8F:"
     "%D0%98%D0%B7%D0%BC%D0%B5%D0%BD%D0%B5%D0%BD%D0%B8%D1%8F/7", D(None, 7, wiki="ru.wikipedia.org")),
    ("https://ru.wikipedia.org/wiki/СЛУЖЕБНАЯ:ИЗМЕНЕНИЯ/7", D(None, 7, wiki="ru.wikipedia.org")),
    ("https://ru.wikipedia.org/wiki/служебная:постоянная_ссылка/8", R(8, wiki="ru.wikipedia.org")),
    ("https://ru.wikipedia.org/wiki/Служебная:Вклад/Пример",
     {"wiki": "ru.wikipedia.org", "kind": "contribs", "user": "Пример"}),
    ("https://ru.m.wikipedia.org/w/index.php?title=Служебная:Журналы&logid=3",
     {"wiki": "ru.wikipedia.org", "kind": "log", "logid": 3}),
    ("https://ja.wikipedia.org/wiki/特別:差分/8", D(None, 8, wiki="ja.wikipedia.org")),
    ("https://ja.wikipedia.org/wiki/%E7%89%B9%E5%88%A5:%E5%B7%AE%E5%88%86/8/9", D(8, 9, wiki="ja.wikipedia.org")),
    ("https://ja.wikipedia.org/wiki/特別:固定リンク/8", R(8, wiki="ja.wikipedia.org")),
    ("https://ja.wikipedia.org/wiki/特別:パーマリンク/8", R(8, wiki="ja.wikipedia.org")),
    ("https://ja.wikipedia.org/wiki/特別:投稿記録/例",
     {"wiki": "ja.wikipedia.org", "kind": "contribs", "user": "例"}),
    ("https://ja.wikipedia.org/wiki/特別:転送/revision/5", R(5, wiki="ja.wikipedia.org")),
    # English aliases are German aliases elsewhere: not valid on the English Wikipedia
    (W + "/wiki/Spezial:Unterschied/5", P(title="Spezial:Unterschied/5")),
    (W + "/wiki/Special:Unterschied/5", E("unsupported")),
]

WIKITEXT = [
    ("[[Special:Diff/9]]", D(None, 9)),
    ("[[Special:Diff/9|label]]", D(None, 9)),
    ("[[special:diff/8/9|label]]", D(8, 9)),
    ("[[Special:PermanentLink/9#Sec|x]]", R(9, fragment="Sec")),
    ("[[:Special:Diff/9]]", D(None, 9)),
    ("[[Special:Diff%2F9]]", D(None, 9)),
    ("[[Special:Contributions/Foo&amp;Bar]]", {"wiki": EN, "kind": "contribs", "user": "Foo&Bar"}),
    ("[[:de:Spezial:Diff/10]]", D(None, 10, wiki="de.wikipedia.org")),
    ("[[de:Spezial:Unterschied/10]]", D(None, 10, wiki="de.wikipedia.org")),
    ("[[:ja:特別:差分/11]]", D(None, 11, wiki="ja.wikipedia.org")),
    ("[[w:de:Spezial:Diff/10]]", D(None, 10, wiki="de.wikipedia.org")),
    ("[[:m:Special:Diff/12]]", D(None, 12, wiki="meta.wikimedia.org")),
    ("[[c:Special:PermanentLink/12]]", R(12, wiki="commons.wikimedia.org")),
    ("[[d:Q42]]", P(wiki="www.wikidata.org", title="Q42")),
    ("[[wikt:fr:chat]]", P(wiki="fr.wiktionary.org", title="chat")),
    ("[[:en:Special:Diff/13]]", D(None, 13)),
    ("[[Talk:Foo#c-Bar-20230101120000-Baz|comment]]",
     {"wiki": EN, "kind": "comment", "comment_id": "c-Bar-20230101120000-Baz", "title": "Talk:Foo"}),
    ("[[Foo]]", P(title="Foo")),
    ("[[Wikipedia:Administrators' noticeboard]]", P(title="Wikipedia:Administrators' noticeboard")),
    ("[[]]", E("not-a-link")),
    ("[[w:xx-nonexistent-language-name:Foo]]", P(title="xx-nonexistent-language-name:Foo")),  # w: is local
    ("{{diff|Foo|12|11|label}}", D(11, 12, title="Foo")),
    ("{{Diff|Foo|12|11}}", D(11, 12, title="Foo")),
    ("{{diff|Foo|12}}", D(None, 12, title="Foo")),
    ("{{diff|Foo|prev|11}}", D(11, "prev", title="Foo")),
    ("{{diff|page=Foo|diff=12|oldid=11|label=x}}", D(11, 12, title="Foo")),
    ("{{diff|Foo|11|12}}", D(12, 11, title="Foo", reversed=True)),
    ("{{diff2|12|label}}", D(None, 12)),
    ("{{diff2|11/12}}", D(11, 12)),
    ("{{oldid|Foo|12|label}}", R(12)),
    ("{{oldid2|12}}", R(12)),
    ("{{diff}}", E("not-a-link")),
    ("Special:Diff/5", D(None, 5)),
    ("special:contributions/Foo", {"wiki": EN, "kind": "contribs", "user": "Foo"}),
    ("Foo", E("not-a-link")),
    ("User:Foo", E("not-a-link")),
    ("12345", E("not-a-link")),
    ("", E("not-a-link")),
]


@pytest.mark.parametrize("text, expected", INDEX_PHP + PATHS + HOSTS + SPECIAL + LOCALIZED + WIKITEXT)
def test_parse_link(text, expected):
    assert parsed(text) == expected


@pytest.mark.parametrize(
    "text, context, expected",
    [
        ("Spezial:Unterschied/5", "de.wikipedia.org", D(None, 5, wiki="de.wikipedia.org")),
        ("[[Spezial:Beiträge/X]]", "de.wikipedia.org", {"wiki": "de.wikipedia.org", "kind": "contribs", "user": "X"}),
        ("[[:en:Special:Diff/5]]", "de.wikipedia.org", D(None, 5)),
        ("[[Wikipedia:Foo]]", "de.wikipedia.org", P(wiki="de.wikipedia.org", title="Wikipedia:Foo")),
        ("[[w:Foo]]", "de.wiktionary.org", P(wiki="de.wikipedia.org", title="Foo")),
        ("[[de:Foo]]", "commons.wikimedia.org", P(wiki="de.wikipedia.org", title="Foo")),
        ("[[Commons:Foo]]", "commons.wikimedia.org", P(wiki="commons.wikimedia.org", title="Commons:Foo")),
        ("{{diff|Foo|5}}", "ja.m.wikipedia.org", D(None, 5, wiki="ja.wikipedia.org", title="Foo")),
        ("Special:Diff/5", "dewiki.local.test", D(None, 5, wiki="dewiki.local.test")),
        ("[[:de:Foo]]", "dewiki.local.test", P(wiki="dewiki.local.test", title="de:Foo")),
        ("Special:Diff/5", None, E("no-context-wiki")),
        ("[[Special:Diff/5]]", None, E("no-context-wiki")),
        ("{{diff2|5}}", None, E("no-context-wiki")),
        ("Special:Diff/5", "evil.example", E("no-context-wiki")),
        ("https://en.wikipedia.org/wiki/Special:Diff/5", None, D(None, 5)),
    ],
)
def test_context_wiki(text, context, expected):
    assert parsed(text, context=context) == expected


def test_interwiki_to_private_or_unknown_wikis():
    matrix = json.loads((DATA / "sitematrix.json").read_text(encoding="utf-8"))
    registry = WikiRegistry.from_sitematrix(matrix)
    assert parsed("[[:fr:Foo]]", registry=registry) == P(title="fr:Foo")
    assert parsed("[[wikt:Foo]]", registry=registry) == P(wiki="en.wiktionary.org", title="Foo")
    assert parsed("[[b:de:Foo]]", registry=registry) == E("unknown-wiki")  # de.wikibooks not listed
    assert parsed("https://arbcom-en.wikipedia.org/wiki/Special:Diff/5", registry=registry) == E("private-wiki")
    assert parsed("https://fr.wikipedia.org/wiki/Foo", registry=registry) == E("unknown-wiki")


class CountingSiteInfo:
    def __init__(self, available=True):
        self.calls = []
        self.available = available

    def __call__(self, wiki):
        self.calls.append(wiki.host)
        return SITEINFO.get(wiki.host) if self.available else None


@pytest.mark.parametrize(
    "text",
    [
        W + "/wiki/Special:Diff/5",
        W + "/w/index.php?title=Foo&diff=5&oldid=4",
        W + "/wiki/Foo",
        W + "/wiki/User:Foo",
        W + "/wiki/Special:PermanentLink/5",
        W + "/wiki/special:contribs/Foo",
        W + "/?curid=3",
        "https://de.wikipedia.org/wiki/Special:Diff/5",
        "https://w.wiki/abc",
        "[[Special:Diff/5]]",
        "{{diff|Foo|5|4}}",
    ],
)
def test_english_canonical_names_need_no_siteinfo(text):
    counter = CountingSiteInfo()
    result = parse_link(text, EN, REGISTRY, counter)
    assert "kind" in result
    assert counter.calls == []


def test_localized_names_ask_siteinfo_once():
    counter = CountingSiteInfo()
    results = parse_evidence(
        "https://de.wikipedia.org/wiki/Spezial:Unterschied/5\n[[:de:Spezial:Diff/6]]\n", EN, REGISTRY, counter
    )
    assert [r["newid"] for r in results] == [5, 6]
    assert counter.calls.count("de.wikipedia.org") == 1


@pytest.mark.parametrize(
    "text, expected",
    [
        ("https://de.wikipedia.org/wiki/Spezial:Unterschied/5", P(wiki="de.wikipedia.org", title="Spezial:Unterschied/5")),
        ("https://de.wikipedia.org/wiki/Special:Unterschied/5", E("siteinfo-unavailable")),
        ("https://de.wikipedia.org/wiki/Special:Diff/5", D(None, 5, wiki="de.wikipedia.org")),
        ("https://de.wikipedia.org/wiki/Spezial:Diff/5", P(wiki="de.wikipedia.org", title="Spezial:Diff/5")),
    ],
)
def test_without_siteinfo(text, expected):
    # Without siteinfo, a localised namespace is not recognised; the resolver's API query then
    # reports the title as a special page.  A localised special page name cannot be read.
    result = parse_link(text, EN, REGISTRY, CountingSiteInfo(available=False))
    result.pop("input")
    assert result == expected


def test_siteinfo_lookup_that_raises_counts_as_missing():
    def broken(wiki):
        raise RuntimeError("boom")

    result = parse_link("https://de.wikipedia.org/wiki/Special:Unterschied/5", EN, REGISTRY, broken)
    assert result["error"] == "siteinfo-unavailable"


def test_variant_article_paths_come_from_siteinfo():
    data = json.loads((DATA / "siteinfo_en.wikipedia.org.json").read_text(encoding="utf-8"))
    data["query"]["general"]["lang"] = "zh"
    data["query"]["general"]["variantarticlepath"] = "/$2/$1"
    data["query"]["general"]["variants"] = [{"code": "zh"}, {"code": "zh-hans"}, {"code": "zh-tw"}]
    info = SiteInfo.from_api(data)

    def zh_info(wiki):
        return info if wiki.host == "zh.wikipedia.org" else None

    def parse(text):
        result = parse_link(text, None, REGISTRY, zh_info)
        result.pop("input")
        return result

    assert parse("https://zh.wikipedia.org/zh-tw/Foo") == P(wiki="zh.wikipedia.org", title="Foo")
    assert parse("https://zh.wikipedia.org/zh-hans/Special:Diff/5") == D(None, 5, wiki="zh.wikipedia.org")
    assert parse("https://zh.wikipedia.org/xx/Foo") == E("unsupported")


def test_operator_wiki_layout_from_api_url():
    registry = WikiRegistry.builtin().with_extra({"mw.local.test": "http://127.0.0.1:9000/api.php"})
    assert parse_link("http://mw.local.test:9000/index.php?diff=5", None, registry) == {
        "input": "http://mw.local.test:9000/index.php?diff=5", **D(None, 5, wiki="mw.local.test")}
    assert parse_link("http://mw.local.test:9000/index.php/Foo", None, registry)["title"] == "Foo"
    assert parse_link("http://mw.local.test/wiki/Foo", None, registry)["title"] == "Foo"


def test_input_is_kept_verbatim():
    text = "  <https://en.wikipedia.org/wiki/Special:Diff/5>  "
    assert parse_link(text, EN, REGISTRY)["input"] == text


# -- many links in one textarea ---------------------------------------------------------------

TEXTAREA = """Here is what happened: https://en.wikipedia.org/w/index.php?title=Foo&diff=12&oldid=11, then
he did it again (https://en.m.wikipedia.org/wiki/Special:Diff/13).
[[Special:PermanentLink/14|this version]] and {{diff|Bar|16|15|here}}
en.wikipedia.org/wiki/Special:Contributions/Vandal.
Special:Diff/17
https://evil.example/steal
see <https://de.wikipedia.org/wiki/Spezial:Unterschied/18>; and "https://w.wiki/Ab1".
thanks
this line is only prose without links
https://en.wikipedia.org/wiki/Foo_(disambiguation)
(https://en.wikipedia.org/wiki/Bar)
https://en.wikipedia.org/wiki/Foo_(bar)_baz.
"""


def test_parse_evidence_textarea():
    results = parse_evidence(TEXTAREA, EN, REGISTRY, siteinfo_for)
    assert [{k: v for k, v in r.items()} for r in results] == [
        {"input": "https://en.wikipedia.org/w/index.php?title=Foo&diff=12&oldid=11", **D(11, 12, title="Foo")},
        {"input": "https://en.m.wikipedia.org/wiki/Special:Diff/13", **D(None, 13)},
        {"input": "[[Special:PermanentLink/14|this version]]", **R(14)},
        {"input": "{{diff|Bar|16|15|here}}", **D(15, 16, title="Bar")},
        {"input": "en.wikipedia.org/wiki/Special:Contributions/Vandal",
         "wiki": EN, "kind": "contribs", "user": "Vandal"},
        {"input": "Special:Diff/17", **D(None, 17)},
        {"input": "https://evil.example/steal", "error": "unknown-wiki"},
        {"input": "https://de.wikipedia.org/wiki/Spezial:Unterschied/18", **D(None, 18, wiki="de.wikipedia.org")},
        {"input": "https://w.wiki/Ab1", "wiki": "w.wiki", "kind": "shorturl", "code": "Ab1"},
        {"input": "thanks", "error": "not-a-link"},
        {"input": "https://en.wikipedia.org/wiki/Foo_(disambiguation)", **P(title="Foo (disambiguation)")},
        {"input": "https://en.wikipedia.org/wiki/Bar", **P(title="Bar")},
        {"input": "https://en.wikipedia.org/wiki/Foo_(bar)_baz", **P(title="Foo (bar) baz")},
    ]


@pytest.mark.parametrize(
    "text, count",
    [
        ("", 0),
        ("\n\n  \n", 0),
        ("just words here", 0),
        ("https://en.wikipedia.org/wiki/A https://en.wikipedia.org/wiki/A", 2),
        ("https://en.wikipedia.org/wiki/Ahttps://en.wikipedia.org/wiki/B", 1),
        ("a\r\nb", 2),
        ("e.g. this, i.e. that", 0),
        ("and/or either/or", 0),
        ("User:Foo/sandbox is mine", 0),
    ],
)
def test_parse_evidence_counts(text, count):
    assert len(parse_evidence(text, EN, REGISTRY, siteinfo_for)) == count


@pytest.mark.parametrize(
    "text",
    [
        "x" * 100000 + " " + "a/" * 20000,
        "a." * 50000 + "/x",
        "https://" + "a." * 2000 + "/x",
        "Special:" + "a:" * 50000 + "/x",
        ":" * 100000,
        "[[" + "a|" * 100000 + "]]",
        "{{diff|" * 20000,
        "x://" * 30000,
    ],
)
def test_pathological_input_stays_fast(text):
    # Regular expressions over pasted prose must stay linear: no request can hang the form.
    start = time.monotonic()
    results = parse_evidence(text, EN, REGISTRY, siteinfo_for)
    single = parse_link(text, EN, REGISTRY, siteinfo_for)
    assert time.monotonic() - start < 2
    assert all("input" in r for r in results) and "input" in single
