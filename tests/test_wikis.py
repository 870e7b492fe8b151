"""Wiki registry: host normalisation, SSRF rules, sitematrix, operator wikis, siteinfo cache."""

import json
import threading
from pathlib import Path

import pytest

from reporting.wiki.client import WikiUnavailable
from reporting.wiki.registry import Wiki, WikiRegistry, normalize_host
from reporting.wiki.siteinfo import SiteInfo, SiteInfoCache

DATA = Path(__file__).parent / "evidence" / "data"


def load(name: str) -> dict:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def sitematrix_registry() -> WikiRegistry:
    return WikiRegistry.from_sitematrix(load("sitematrix.json"))


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("en.wikipedia.org", "en.wikipedia.org"),
        ("EN.Wikipedia.ORG", "en.wikipedia.org"),
        ("en.wikipedia.org.", "en.wikipedia.org"),
        ("en.m.wikipedia.org", "en.wikipedia.org"),
        ("EN.M.WIKIPEDIA.ORG.", "en.wikipedia.org"),
        ("m.wikidata.org", "www.wikidata.org"),
        ("m.mediawiki.org", "www.mediawiki.org"),
        ("commons.m.wikimedia.org", "commons.wikimedia.org"),
        ("zh-min-nan.m.wikipedia.org", "zh-min-nan.wikipedia.org"),
        ("ｅｎ．ｗｉｋｉｐｅｄｉａ．ｏｒｇ", "en.wikipedia.org"),  # full-width forms (IDNA mapping)
        ("en.wikip\u0435dia.org", "en.xn--wikipdia-g8g.org"),  # Cyrillic е: a different host
        ("dewiki.local.test", "dewiki.local.test"),
        # unusable
        ("", None),
        (".", None),
        ("en.wikipedia.org..", None),
        ("a..b", None),
        ("localhost", None),
        ("127.0.0.1", None),
        ("127.1", None),
        ("2130706433", None),
        ("0177.0.0.1", None),
        ("0x7f.0.0.1", None),
        ("0x7f000001", None),
        ("1.2.3.4.", None),
        ("[::1]", None),
        ("::1", None),
        ("en.wikipedia.org:443", None),
        ("en.wikipedia.org:", None),
        ("user@en.wikipedia.org", None),
        ("en.wikipedia.org@evil.example", None),
        ("en.wikipedia.org/evil", None),
        ("en.wikipedia.org\\evil", None),
        ("en%2ewikipedia.org", None),
        ("en wikipedia.org", None),
        ("en.wikipedia.org\n", None),
        ("-en.wikipedia.org", None),
        ("en_wiki.wikipedia.org", None),
        ("xn--zz.wikipedia.org", None),
        ("a" * 64 + ".wikipedia.org", None),
    ],
)
def test_normalize_host(raw, expected):
    assert normalize_host(raw) == expected


@pytest.mark.parametrize(
    "raw, host, error",
    [
        ("en.wikipedia.org", "en.wikipedia.org", None),
        ("EN.M.Wikipedia.org.", "en.wikipedia.org", None),
        ("de.wikipedia.org", "de.wikipedia.org", None),
        ("zh-min-nan.wikipedia.org", "zh-min-nan.wikipedia.org", None),
        ("simple.wikipedia.org", "simple.wikipedia.org", None),
        ("be-tarask.wikipedia.org", "be-tarask.wikipedia.org", None),
        ("fr.wiktionary.org", "fr.wiktionary.org", None),
        ("de.wikibooks.org", "de.wikibooks.org", None),
        ("en.wikinews.org", "en.wikinews.org", None),
        ("en.wikiquote.org", "en.wikiquote.org", None),
        ("de.wikisource.org", "de.wikisource.org", None),
        ("en.wikiversity.org", "en.wikiversity.org", None),
        ("en.wikivoyage.org", "en.wikivoyage.org", None),
        ("commons.wikimedia.org", "commons.wikimedia.org", None),
        ("commons.m.wikimedia.org", "commons.wikimedia.org", None),
        ("meta.wikimedia.org", "meta.wikimedia.org", None),
        ("species.wikimedia.org", "species.wikimedia.org", None),
        ("incubator.wikimedia.org", "incubator.wikimedia.org", None),
        ("www.wikidata.org", "www.wikidata.org", None),
        ("wikidata.org", "www.wikidata.org", None),
        ("m.wikidata.org", "www.wikidata.org", None),
        ("www.mediawiki.org", "www.mediawiki.org", None),
        ("www.wikifunctions.org", "www.wikifunctions.org", None),
        ("wikisource.org", "wikisource.org", None),
        ("m.wikisource.org", "wikisource.org", None),
        # SSRF and look-alikes
        ("127.0.0.1", None, "forbidden-host"),
        ("localhost", None, "forbidden-host"),
        ("[::1]", None, "forbidden-host"),
        ("[::ffff:127.0.0.1]", None, "forbidden-host"),
        ("2130706433", None, "forbidden-host"),
        ("0177.0.0.1", None, "forbidden-host"),
        ("en.wikipedia.org:443", None, "forbidden-host"),
        ("en.wikipedia.org:8080", None, "forbidden-host"),
        ("en.wikipedia.org:", None, "forbidden-host"),
        ("en.wikipedia.org@evil.example", None, "forbidden-host"),
        ("user:pass@en.wikipedia.org", None, "forbidden-host"),
        ("en.wikipedia.org.evil.example", None, "unknown-wiki"),
        ("evilwikipedia.org", None, "unknown-wiki"),
        ("en.wikip\u0435dia.org", None, "unknown-wiki"),
        ("xn--n-0tb.wikipedia.org", None, "unknown-wiki"),
        ("www.wikipedia.org", None, "unknown-wiki"),
        ("wikipedia.org", None, "unknown-wiki"),
        ("arbcom-en.wikipedia.org", None, "unknown-wiki"),
        ("office.wikimedia.org", None, "unknown-wiki"),
        ("upload.wikimedia.org", None, "unknown-wiki"),
        ("dewiki.local.test", None, "unknown-wiki"),
    ],
)
def test_builtin_check(raw, host, error):
    wiki, code = WikiRegistry.builtin().check(raw)
    assert code == error
    assert (wiki.host if wiki else None) == host
    if wiki:
        assert wiki.api_url == f"https://{host}/w/api.php"


def test_localhost_is_never_a_host_we_contact():
    # A single-label name is never a wiki host, with or without a port.
    for registry in (WikiRegistry.builtin(), WikiRegistry.from_sitematrix(load("sitematrix.json"))):
        assert registry.lookup("localhost") is None
        assert registry.check("localhost:80") == (None, "forbidden-host")


def test_builtin_dbnames_and_languages():
    registry = WikiRegistry.builtin()
    assert registry.lookup("en.wiktionary.org") == Wiki(
        "en.wiktionary.org", "enwiktionary", "https://en.wiktionary.org/w/api.php", "en"
    )
    assert registry.lookup("zh-min-nan.wikipedia.org").dbname == "zh_min_nanwiki"
    assert registry.lookup("be-tarask.wikipedia.org").dbname == "be_x_oldwiki"
    assert registry.lookup("commons.wikimedia.org").dbname == "commonswiki"
    assert registry.is_builtin


@pytest.mark.parametrize(
    "raw, host, error",
    [
        ("en.wikipedia.org", "en.wikipedia.org", None),
        ("en.m.wikipedia.org", "en.wikipedia.org", None),
        ("ja.wikipedia.org", "ja.wikipedia.org", None),
        ("aa.wikipedia.org", "aa.wikipedia.org", None),  # closed wikis remain readable evidence
        ("commons.m.wikimedia.org", "commons.wikimedia.org", None),
        ("wikidata.org", "www.wikidata.org", None),
        ("www.wikisource.org", "wikisource.org", None),
        ("test.wikipedia.org", "test.wikipedia.org", None),
        ("arbcom-en.wikipedia.org", None, "private-wiki"),
        ("office.wikimedia.org", None, "private-wiki"),
        # not in the sitematrix: the domain rule no longer applies
        ("fr.wikipedia.org", None, "unknown-wiki"),
        ("species.wikimedia.org", None, "unknown-wiki"),
        ("127.0.0.1", None, "forbidden-host"),
        ("en.wikipedia.org.evil.example", None, "unknown-wiki"),
    ],
)
def test_sitematrix_check(sitematrix_registry, raw, host, error):
    wiki, code = sitematrix_registry.check(raw)
    assert code == error
    assert (wiki.host if wiki else None) == host


def test_sitematrix_fields(sitematrix_registry):
    closed = sitematrix_registry.lookup("aa.wikipedia.org")
    assert closed == Wiki("aa.wikipedia.org", "aawiki", "https://aa.wikipedia.org/w/api.php", "aa", closed=True)
    private = sitematrix_registry.lookup("arbcom-en.wikipedia.org")
    assert private is not None and private.private
    assert sitematrix_registry.lookup("commons.wikimedia.org").dbname == "commonswiki"
    assert not sitematrix_registry.is_builtin
    assert len(sitematrix_registry.wikis()) == 15


def test_sitematrix_formatversion1_flags():
    data = {"sitematrix": {"count": 1, "0": {"code": "xx", "name": "X", "site": [
        {"url": "https://xx.wikipedia.org", "dbname": "xxwiki", "code": "wiki", "closed": ""}]},
        "specials": [{"url": "https://secret.wikimedia.org", "dbname": "secretwiki", "code": "secret", "private": ""}]}}
    registry = WikiRegistry.from_sitematrix(data)
    assert registry.lookup("xx.wikipedia.org").closed
    assert registry.check("secret.wikimedia.org") == (None, "private-wiki")


@pytest.mark.parametrize(
    "data",
    [{}, {"sitematrix": []}, {"sitematrix": {"count": 0, "specials": []}},
     {"sitematrix": {"0": {"site": [{"url": "https://127.0.0.1"}, {"url": 5}, "x"]}}}],
)
def test_sitematrix_rejects_empty_or_broken(data):
    with pytest.raises(ValueError):
        WikiRegistry.from_sitematrix(data)


def test_sitematrix_skips_bad_entries():
    data = {"sitematrix": {"0": {"code": "en", "site": [
        {"url": "https://en.wikipedia.org", "dbname": "enwiki"},
        {"url": "https://127.0.0.1", "dbname": "evil"},
        {"url": "https://user@evil.example", "dbname": "evil2"},
        {"url": None}]}}}
    registry = WikiRegistry.from_sitematrix(data)
    assert [w.host for w in registry.wikis()] == ["en.wikipedia.org"]


def test_json_round_trip(sitematrix_registry):
    text = sitematrix_registry.to_json()
    again = WikiRegistry.from_json(text)
    assert sorted(again.wikis(), key=str) == sorted(sitematrix_registry.wikis(), key=str)
    assert again.check("arbcom-en.wikipedia.org") == (None, "private-wiki")
    assert again.interwiki("de", again.lookup("en.wikipedia.org"))[1].host == "de.wikipedia.org"
    assert WikiRegistry.from_json(WikiRegistry.builtin().to_json()).is_builtin


def test_json_does_not_store_operator_wikis(sitematrix_registry):
    extended = sitematrix_registry.with_extra({"dewiki.local.test": "http://127.0.0.1:8123/w/api.php"})
    again = WikiRegistry.from_json(extended.to_json())
    assert again.lookup("dewiki.local.test") is None


def test_json_rejects_tampered_hosts():
    bad = json.dumps({"format": 1, "sites": [{"host": "127.0.0.1", "dbname": "x"}], "languages": []})
    with pytest.raises(ValueError):
        WikiRegistry.from_json(bad)


EXTRA = {"dewiki.local.test": "http://127.0.0.1:8123/w/api.php", "127.0.0.1:9001": "http://127.0.0.1:9001/api.php"}


@pytest.mark.parametrize(
    "raw, host, error",
    [
        ("dewiki.local.test", "dewiki.local.test", None),
        ("DEWIKI.local.test.", "dewiki.local.test", None),
        ("dewiki.local.test:8123", "dewiki.local.test", None),
        ("dewiki.local.test:8124", None, "forbidden-host"),
        ("127.0.0.1:9001", "127.0.0.1", None),
        ("127.0.0.1", "127.0.0.1", None),
        ("127.0.0.1:9002", None, "forbidden-host"),
        ("127.0.0.1:8123", None, "forbidden-host"),
        ("localhost:8123", None, "forbidden-host"),
        ("en.wikipedia.org", "en.wikipedia.org", None),
        ("en.wikipedia.org:8123", None, "forbidden-host"),
        ("user@dewiki.local.test", None, "forbidden-host"),
    ],
)
def test_operator_wikis(raw, host, error):
    registry = WikiRegistry.builtin().with_extra(EXTRA)
    wiki, code = registry.check(raw)
    assert code == error
    assert (wiki.host if wiki else None) == host


def test_operator_wiki_fields():
    registry = WikiRegistry.builtin().with_extra(EXTRA)
    wiki = registry.lookup("dewiki.local.test")
    assert wiki == Wiki("dewiki.local.test", None, "http://127.0.0.1:8123/w/api.php", None)
    assert wiki.script_path == "/w"
    assert registry.lookup("127.0.0.1").script_path == ""
    assert registry.is_extra(wiki)


@pytest.mark.parametrize("api_url", ["ftp://127.0.0.1/api.php", "127.0.0.1/api.php", "javascript:alert(1)"])
def test_operator_wiki_needs_http_api(api_url):
    with pytest.raises(ValueError):
        WikiRegistry.builtin().with_extra({"x.local.test": api_url})


@pytest.mark.parametrize(
    "prefix, from_host, expected",
    [
        ("de", "en.wikipedia.org", (True, "de.wikipedia.org")),
        ("DE", "en.wiktionary.org", (True, "de.wiktionary.org")),
        ("w", "de.wiktionary.org", (True, "de.wikipedia.org")),
        ("wikt", "de.wikipedia.org", (True, "de.wiktionary.org")),
        ("c", "en.wikipedia.org", (True, "commons.wikimedia.org")),
        ("commons", "de.wikipedia.org", (True, "commons.wikimedia.org")),
        ("m", "en.wikipedia.org", (True, "meta.wikimedia.org")),
        ("meta", "en.wikipedia.org", (True, "meta.wikimedia.org")),
        ("d", "en.wikipedia.org", (True, "www.wikidata.org")),
        ("mw", "en.wikipedia.org", (True, "www.mediawiki.org")),
        ("species", "en.wikipedia.org", (True, "species.wikimedia.org")),
        ("w", "commons.wikimedia.org", (True, "en.wikipedia.org")),
        ("fr", "meta.wikimedia.org", (True, "fr.wikipedia.org")),
        ("foo bar", "en.wikipedia.org", (False, None)),
        ("www", "en.wikipedia.org", (False, None)),
        ("talkpage", "en.wikipedia.org", (False, None)),
    ],
)
def test_builtin_interwiki(prefix, from_host, expected):
    registry = WikiRegistry.builtin()
    is_prefix, wiki = registry.interwiki(prefix, registry.lookup(from_host))
    assert (is_prefix, wiki.host if wiki else None) == expected


def test_sitematrix_interwiki(sitematrix_registry):
    en = sitematrix_registry.lookup("en.wikipedia.org")
    assert sitematrix_registry.interwiki("ja", en)[1].host == "ja.wikipedia.org"
    assert sitematrix_registry.interwiki("zz", en) == (False, None)
    assert sitematrix_registry.interwiki("fr", en) == (False, None)  # not a language in the fixture
    assert sitematrix_registry.interwiki("de", sitematrix_registry.lookup("en.wiktionary.org")) == (True, None)


def test_operator_wikis_have_no_interwiki_map():
    registry = WikiRegistry.builtin().with_extra(EXTRA)
    assert registry.interwiki("de", registry.lookup("dewiki.local.test")) == (False, None)


# -- siteinfo ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host, namespace, expected",
    [
        ("de.wikipedia.org", "Spezial", -1),
        ("de.wikipedia.org", "spezial", -1),
        ("de.wikipedia.org", "SPECIAL", -1),
        ("de.wikipedia.org", "Benutzerin", 2),
        ("de.wikipedia.org", "Benutzer Diskussion", 3),
        ("de.wikipedia.org", "benutzer_diskussion", 3),
        ("de.wikipedia.org", "Bild", 6),
        ("de.wikipedia.org", "Image", 6),
        ("de.wikipedia.org", "Wikipedia", 4),
        ("de.wikipedia.org", "Project", 4),
        ("ru.wikipedia.org", "Служебная", -1),
        ("ru.wikipedia.org", "служебная", -1),
        ("ru.wikipedia.org", "Участница", 2),
        ("ru.wikipedia.org", "Обсуждение участника", 3),
        ("ja.wikipedia.org", "特別", -1),
        ("ja.wikipedia.org", "利用者‐会話", 3),
        ("ja.wikipedia.org", "利用者・トーク", 3),
        ("en.wikipedia.org", "Spezial", None),
        ("en.wikipedia.org", "", None),
    ],
)
def test_siteinfo_namespaces(host, namespace, expected):
    info = SiteInfo.from_api(load(f"siteinfo_{host}.json"))
    assert info.namespace_id(namespace) == expected


@pytest.mark.parametrize(
    "host, alias, expected",
    [
        ("de.wikipedia.org", "Unterschied", "Diff"),
        ("de.wikipedia.org", "unterschied", "Diff"),
        ("de.wikipedia.org", "DIFFERENZ", "Diff"),
        ("de.wikipedia.org", "Permanenter Link", "PermanentLink"),
        ("de.wikipedia.org", "permanenter_link", "PermanentLink"),
        ("de.wikipedia.org", "Beiträge", "Contributions"),
        ("de.wikipedia.org", "BEITRÄGE", "Contributions"),
        ("de.wikipedia.org", "Logbuch", "Log"),
        ("de.wikipedia.org", "Weiterleitung", "Redirect"),
        ("de.wikipedia.org", "Seiten vergleichen", "ComparePages"),
        ("de.wikipedia.org", "Contributions", "Contributions"),
        ("ru.wikipedia.org", "Изменения", "Diff"),
        ("ru.wikipedia.org", "изменения", "Diff"),
        ("ru.wikipedia.org", "Постоянная ссылка", "PermanentLink"),
        ("ru.wikipedia.org", "Вклад", "Contributions"),
        ("ru.wikipedia.org", "Журналы", "Log"),
        ("ja.wikipedia.org", "差分", "Diff"),
        ("ja.wikipedia.org", "固定リンク", "PermanentLink"),
        ("ja.wikipedia.org", "パーマリンク", "PermanentLink"),
        ("ja.wikipedia.org", "投稿記録", "Contributions"),
        ("ja.wikipedia.org", "転送", "Redirect"),
        ("ja.wikipedia.org", "ログ", "Log"),
        ("en.wikipedia.org", "Unterschied", None),
    ],
)
def test_siteinfo_special_aliases(host, alias, expected):
    info = SiteInfo.from_api(load(f"siteinfo_{host}.json"))
    assert info.special_page_name(alias) == expected


def test_siteinfo_general():
    info = SiteInfo.from_api(load("siteinfo_de.wikipedia.org.json"))
    assert info.lang == "de"
    assert info.fallback == ("en",)
    assert info.article_path == "/wiki/$1"
    assert info.script == "/w/index.php"
    assert info.variant_article_path is None


def test_siteinfo_canonical_names_win_over_aliases():
    data = {"query": {"general": {"lang": "xx"}, "namespaces": {"-1": {"id": -1, "name": "Special"}},
                      "specialpagealiases": [
                          {"realname": "Diff", "aliases": ["Diff", "Log"]},
                          {"realname": "Log", "aliases": ["Journal"]},
                          {"realname": "Contributions", "aliases": ["Journal2", "Shared"]},
                          {"realname": "PermanentLink", "aliases": ["Shared"]}]}}
    info = SiteInfo.from_api(data)
    assert info.special_page_name("log") == "Log"
    assert info.special_page_name("journal") == "Log"
    assert info.special_page_name("shared") == "PermanentLink"  # later non-first alias overrides


def test_siteinfo_formatversion1():
    data = {"query": {"general": {"lang": "en"},
                      "namespaces": {"-1": {"id": -1, "*": "Special", "canonical": "Special"}},
                      "namespacealiases": [{"id": 2, "*": "U"}],
                      "specialpagealiases": []}}
    info = SiteInfo.from_api(data)
    assert info.namespace_id("special") == -1
    assert info.namespace_id("u") == 2


@pytest.mark.parametrize("data", [{}, {"query": {}}, {"query": {"general": {}, "namespaces": {}}}, [], "x"])
def test_siteinfo_rejects_broken(data):
    with pytest.raises(ValueError):
        SiteInfo.from_api(data)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_siteinfo_cache_fetches_once_and_expires():
    calls = []
    clock = FakeClock()

    def fetch(wiki):
        calls.append(wiki.host)
        return load("siteinfo_de.wikipedia.org.json")

    cache = SiteInfoCache(fetch, ttl_seconds=100, clock=clock)
    wiki = WikiRegistry.builtin().lookup("de.wikipedia.org")
    first = cache.get(wiki)
    assert first is not None and first.lang == "de"
    assert cache.get(wiki) is first
    assert cache(wiki) is first
    assert calls == ["de.wikipedia.org"]
    clock.now += 101
    assert cache.get(wiki) is not None
    assert calls == ["de.wikipedia.org", "de.wikipedia.org"]


def test_siteinfo_cache_remembers_failures_briefly():
    calls = []
    clock = FakeClock()

    def fetch(wiki):
        calls.append(wiki.host)
        if len(calls) == 1:
            raise ConnectionError("down")
        if len(calls) == 2:
            return {"error": {"code": "readapidenied"}}
        return load("siteinfo_ja.wikipedia.org.json")

    cache = SiteInfoCache(fetch, ttl_seconds=1000, failure_ttl_seconds=10, clock=clock)
    wiki = WikiRegistry.builtin().lookup("ja.wikipedia.org")
    assert cache.get(wiki) is None
    assert cache.get(wiki) is None
    assert len(calls) == 1
    clock.now += 11
    assert cache.get(wiki) is None  # unusable response counts as a failure
    clock.now += 11
    assert cache.get(wiki).lang == "ja"
    assert len(calls) == 3


def test_siteinfo_cache_single_fetch_under_concurrency():
    calls = []
    gate = threading.Event()

    def fetch(wiki):
        calls.append(wiki.host)
        gate.wait(5)
        return load("siteinfo_ru.wikipedia.org.json")

    cache = SiteInfoCache(fetch)
    wiki = WikiRegistry.builtin().lookup("ru.wikipedia.org")
    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get(wiki))) for _ in range(8)]
    for thread in threads:
        thread.start()
    gate.set()
    for thread in threads:
        thread.join(10)
    assert calls == ["ru.wikipedia.org"]
    assert len(results) == 8 and all(r is results[0] for r in results)


class FakeApiClient:
    """What the siteinfo cache needs of a WikiClient: ``get`` (fails while ``down``) and
    ``remaining`` (no deadline)."""

    def __init__(self, answer: dict) -> None:
        self.answer = answer
        self.down = False
        self.calls: list[str] = []

    def remaining(self) -> float | None:
        return None

    def get(self, api_url: str, params: dict) -> dict:
        self.calls.append(api_url)
        if self.down:
            raise WikiUnavailable(api_url, "timeout")
        return self.answer


def test_siteinfo_cache_serves_parser_and_resolver_from_one_fetch():
    def fetch(wiki):
        raise AssertionError("the resolver's answer is already cached")

    cache = SiteInfoCache(fetch)
    wiki = WikiRegistry.builtin().lookup("de.wikipedia.org")
    client = FakeApiClient(load("siteinfo_de.wikipedia.org.json"))
    answer = cache.answer(wiki.api_url, client)
    assert answer["query"]["general"]["lang"] == "de"
    assert cache.answer(wiki.api_url, client) is answer
    assert cache.get(wiki).lang == "de"
    assert client.calls == [wiki.api_url]


def test_siteinfo_cache_answer_raises_failures_and_asks_again():
    clock = FakeClock()
    fetches = []
    cache = SiteInfoCache(lambda wiki: fetches.append(wiki.host) or {}, clock=clock)
    wiki = WikiRegistry.builtin().lookup("ja.wikipedia.org")
    client = FakeApiClient(load("siteinfo_ja.wikipedia.org.json"))
    client.down = True
    with pytest.raises(WikiUnavailable):
        cache.answer(wiki.api_url, client)
    assert cache.get(wiki) is None and fetches == []  # the parser settles for the remembered failure
    with pytest.raises(WikiUnavailable):
        cache.answer(wiki.api_url, client)  # the resolver asks again, through its own client
    client.down = False
    assert cache.answer(wiki.api_url, client)["query"]["general"]["lang"] == "ja"
    assert cache.get(wiki).lang == "ja"
    assert len(client.calls) == 3 and fetches == []
