"""Property tests: whatever a reporter pastes, the parser answers per link, never raises and
never names a host outside the registry."""

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reporting.evidence import links
from reporting.evidence.links import MAX_ID, SHORT_URL_HOST, parse_evidence, parse_link
from reporting.wiki.registry import WikiRegistry
from reporting.wiki.siteinfo import SiteInfo

DATA = Path(__file__).parent / "data"
SITEINFO = {
    host: SiteInfo.from_api(json.loads((DATA / f"siteinfo_{host}.json").read_text(encoding="utf-8")))
    for host in ("en.wikipedia.org", "de.wikipedia.org", "ru.wikipedia.org", "ja.wikipedia.org")
}
REGISTRIES = [
    WikiRegistry.builtin().with_extra({"dewiki.local.test": "http://127.0.0.1:8123/w/api.php"}),
    WikiRegistry.from_sitematrix(json.loads((DATA / "sitematrix.json").read_text(encoding="utf-8"))),
]
KINDS = {"diff", "revision", "page", "log", "contribs", "comment", "shorturl"}
ERRORS = {
    "not-a-link", "unknown-wiki", "forbidden-host", "private-wiki", "unsupported",
    "bad-revision-id", "bad-id", "no-context-wiki", "siteinfo-unavailable",
}
SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


def siteinfo_for(wiki):
    return SITEINFO.get(wiki.host)


hosts = st.sampled_from([
    "en.wikipedia.org", "EN.M.WIKIPEDIA.ORG.", "de.wikipedia.org", "ru.m.wikipedia.org",
    "ja.wikipedia.org", "commons.m.wikimedia.org", "m.wikidata.org", "www.mediawiki.org",
    "w.wiki", "dewiki.local.test", "dewiki.local.test:8123", "127.0.0.1", "localhost", "[::1]",
    "2130706433", "0177.0.0.1", "0x7f.1", "en.wikipedia.org@evil.example", "evil.example",
    "en.wikipedia.org.evil.example", "en.wikip\u0435dia.org", "en.wikipedia.org:443",
    "arbcom-en.wikipedia.org", "xn--80ak6aa92e.com", "ｅｎ．ｗｉｋｉｐｅｄｉａ．ｏｒｇ", "",
]) | st.text(max_size=20)
schemes = st.sampled_from(["https://", "http://", "//", "", "HTTPS://", "ftp://", "javascript:", "https:/"])
numbers = st.integers(min_value=-5, max_value=2**40).map(str)
words = st.sampled_from([
    "prev", "next", "cur", "0", "", "1e3", "12abc", " 7", "-1", "+5", "%20", "%", "%zz", "&", "=",
    "#", "?", "/", "Special:Diff", "Spezial:Unterschied", "Служебная:Изменения", "特別:差分",
    "Special:PermanentLink", "Special:Redirect/revision", "Special:Redirect/user",
    "Special:ComparePages", "Special:MobileDiff", "Special:Log", "Special:Contributions",
    "Special:GoToComment", "c-A-20230101120000-B", "de:", ":", "w:", "Talk:Foo", "Foo_bar", "A+B",
])
fragments = st.one_of(numbers, words, st.text(max_size=10))
title_parts = st.lists(st.one_of(numbers, words, st.text(max_size=8)), max_size=4).map("/".join)
param_names = st.sampled_from([
    "diff", "oldid", "curid", "title", "action", "direction", "rev1", "rev2", "page1", "page2",
    "logid", "type", "target", "user", "page", "diff[]", "search",
])
queries = st.lists(
    st.tuples(param_names, st.one_of(numbers, words, st.text(max_size=8))), max_size=5
).map(lambda pairs: "&".join(f"{k}={v}" for k, v in pairs))
paths = st.sampled_from(["/wiki/", "/w/index.php", "/w/index.php/", "/", "", "/wiki", "/zh-tw/", "\\wiki\\"])


@st.composite
def urls(draw):
    url = draw(schemes) + draw(hosts) + draw(paths) + draw(title_parts)
    if draw(st.booleans()):
        url += "?" + draw(queries)
    if draw(st.booleans()):
        url += "#" + draw(fragments)
    return url


@st.composite
def wikitext(draw):
    inner = draw(title_parts)
    if draw(st.booleans()):
        inner += "|" + draw(st.text(max_size=5))
    template = "|".join(draw(st.lists(st.one_of(numbers, words), max_size=4)))
    name = draw(st.sampled_from(["diff", "Diff", "diff2", "oldid", "oldid2", "other"]))
    return draw(st.sampled_from([f"[[{inner}]]", f"[[:{inner}]]", f"{{{{{name}|{template}}}}}", inner]))


contexts = st.sampled_from([None, "en.wikipedia.org", "de.wikipedia.org", "dewiki.local.test", "evil.example", "127.0.0.1"])
registries = st.sampled_from(REGISTRIES)
pasted = st.one_of(urls(), wikitext(), st.text(max_size=200))


def check_result(result, registry):
    assert isinstance(result, dict)
    assert isinstance(result["input"], str)
    assert ("kind" in result) != ("error" in result)
    if "error" in result:
        assert result["error"] in ERRORS
        assert set(result) == {"input", "error"}
        return
    assert result["kind"] in KINDS
    if result["kind"] == "shorturl":
        assert result["wiki"] == SHORT_URL_HOST
    else:
        wiki, error = registry.check(result["wiki"])
        assert error is None and wiki is not None and wiki.host == result["wiki"]
    for key in ("oldid", "revid", "pageid", "logid", "userid"):
        value = result.get(key)
        assert value is None or (isinstance(value, int) and 0 < value <= MAX_ID)
    if result["kind"] == "diff":
        assert result["newid"] in ("prev", "next", "cur") or 0 < result["newid"] <= MAX_ID
        if result["oldid"] is None and result["newid"] == "cur":
            assert "title" in result or "pageid" in result


@SETTINGS
@given(text=pasted, context=contexts, registry=registries)
def test_parse_link_never_raises_and_stays_in_registry(text, context, registry):
    # The unguarded parser: parse_link's own safety net must not hide a bug from this test.
    result = links._Parser(context, registry, siteinfo_for).parse(text)
    check_result(result, registry)
    assert parse_link(text, context, registry, siteinfo_for) == result


@SETTINGS
@given(
    pieces=st.lists(st.one_of(urls(), wikitext(), st.text(max_size=30)), max_size=8),
    separators=st.lists(st.sampled_from([" ", "\n", ", ", " (", ") ", "\r\n", "<", ">", '"']), min_size=8, max_size=8),
    context=contexts,
    registry=registries,
)
def test_parse_evidence_never_raises(pieces, separators, context, registry):
    text = "".join(piece + sep for piece, sep in zip(pieces, separators))
    parser = links._Parser(context, registry, siteinfo_for)
    for line in text.splitlines():
        for _, item in links._find_items(parser, line):
            check_result(parser.parse(item), registry)
    for result in parse_evidence(text, context, registry, siteinfo_for):
        check_result(result, registry)
        assert result["input"] in text
