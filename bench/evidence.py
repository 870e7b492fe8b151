"""Benchmarks of evidence resolution, printed as `BENCH <name> <value>` lines.

- requests per link: 20 diffs on one wiki (siteinfo already cached) -> API requests / links
- batched vs naive: wall time of one action=compare per diff divided by our batched resolution
- large page: mwparserfromhell on a whole 2 MB talk page divided by `analyze_change` of one edit
- hostile edit (issue 15): `analyze_change` of one line moved around 8,000 identical lines (CPU
  seconds; 7.9 s before the analysis was bounded), and ten links to that diff saved on the local
  wiki, resolved through the app's `/api/v1/evidence/resolve` (wall seconds; 89 s before)

Runs against a throw-away local MediaWiki (Debian's package; see tests/evidence/mediawiki.py).
Usage: `make bench` (all benchmarks) or python -m bench.evidence
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import mwparserfromhell  # noqa: E402

from reporting import create_app  # noqa: E402
from reporting.evidence.resolve import resolve_links  # noqa: E402
from reporting.storage.crypto import generate_key  # noqa: E402
from reporting.evidence.wikitext import analyze_change  # noqa: E402
from reporting.wiki.client import WikiClient, build_user_agent  # noqa: E402
from reporting.wiki.siteinfo import fetch_siteinfo  # noqa: E402
from tests.evidence.mediawiki import running_mediawiki  # noqa: E402

USER_AGENT = build_user_agent("reporting-bench", "1.0", "https://example.org/tool", "bench@example.org")
LINKS = 20
ROUNDS = 5


def make_edits(wiki) -> list[int]:
    """20 harassing replies on 20 talk pages, each page with some history, so that the
    parents of the linked revisions are not themselves linked (the realistic case)."""
    revids = []
    for i in range(LINKS):
        title = f"User talk:Target {i}"
        history = "".join(f"== Topic {k} ==\nText {k}. [[User:Alice|Alice]] 09:{k:02d}, 1 March 2024 (UTC)\n\n"
                          for k in range(30))
        wiki.edit("Alice", title, history, summary="archive")
        revids.append(wiki.edit("Mallory", title, appendtext=f"\n:{{{{ping|Carol}}}} reply {i}. "
                                "[[User:Mallory|Mallory]] 10:00, 1 March 2024 (UTC)", summary=f"reply {i}"))
    return revids


def resolve_batched(wiki, revids: list[int]) -> tuple[list[dict], int]:
    client = WikiClient(USER_AGENT)
    siteinfo = fetch_siteinfo(client, wiki.api_url)  # the service caches it: not part of the budget
    before = client.request_count
    links = [{"input": str(r), "wiki": "local", "kind": "diff", "oldid": None, "newid": r} for r in revids]
    results = resolve_links(links, client, {"local": wiki.api_url}.get, siteinfo_for=lambda api_url: siteinfo)
    return results, client.request_count - before


def resolve_naive(wiki, revids: list[int]) -> int:
    client = WikiClient(USER_AGENT)
    for revid in revids:
        client.get(wiki.api_url, {"action": "compare", "fromrev": str(revid), "torelative": "prev",
                                  "prop": "diff|ids|title|user|comment|size"})
    return client.request_count


def best_time(function, *args) -> float:
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - started)
    return min(times)


def large_page_figures():
    """Analysis of one edit on a 2 MB talk page vs parsing the whole page."""
    section = ("== Topic {i} ==\n" + ":Reply with [[link]] and {{{{tl|x}}}}. [[User:U{i}|U{i}]] "
               "([[User talk:U{i}|talk]]) 10:{m:02d}, 1 January 2024 (UTC)\n" * 8 + "\n")
    old = "".join(section.format(i=i, m=i % 60) for i in range(2400))
    at = old.find("== Topic 1500 ==")
    new = old[:at] + ":{{ping|U7}} go away [[User:Mallory|Mallory]] 11:00, 2 January 2024 (UTC)\n" + old[at:]
    yield "evidence_large_page_megabytes", round(len(new.encode()) / 1e6, 2)
    analysis_time = best_time(analyze_change, old, new)
    started = time.perf_counter()
    mwparserfromhell.parse(new)
    parse_time = time.perf_counter() - started
    yield "evidence_large_page_analysis_ms", round(analysis_time * 1000, 2)
    yield "evidence_large_page_full_parse_ms", round(parse_time * 1000, 1)
    yield "evidence_large_page_analysis_speedup", round(parse_time / analysis_time, 1)


HOSTILE_LINES = 8000
HOSTILE_WIKI = "hostile.test"


def hostile_edit() -> tuple[str, str]:
    """The issue's edit: one line moved from the top to the bottom of 8,000 identical lines."""
    body = "x\n" * HOSTILE_LINES
    return "moved\n" + body, body + "moved"


def hostile_analysis_seconds() -> float:
    """CPU seconds of one analysis of the hostile edit (best of ROUNDS)."""
    old, new = hostile_edit()
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.thread_time()
        analysis = analyze_change(old, new)
        best = min(best, time.thread_time() - started)
    assert analysis["limited"] is True
    return best


def resolve_hostile_links_seconds(wiki) -> float:
    """Wall seconds of /api/v1/evidence/resolve for ten links to the hostile diff saved on the wiki."""
    old, new = hostile_edit()
    first = wiki.edit("Mallory", "User:Mallory/Moved line", old, summary="start")
    second = wiki.edit("Mallory", "User:Mallory/Moved line", new, summary="move one line")
    server = wiki.server.replace("127.0.0.1", HOSTILE_WIKI)
    forms = [f"diff={second}", f"diff={second}&oldid={first}", f"oldid={first}&diff=next", f"diff=prev&oldid={second}",
             f"title=Special:Diff/{second}", f"title=Special:Diff/{first}/{second}",
             f"title=Special:PermanentLink/{second}", f"oldid={second}", f"diff={second}&uselang=en",
             f"title=User:Mallory/Moved_line&diff={second}"]
    text = "\n".join(f"{server}/index.php?{form}" for form in forms)
    with tempfile.TemporaryDirectory() as instance:
        app = create_app(overrides={
            "secret_key": "bench-" + generate_key(), "encryption_key": generate_key(), "instance_path": instance,
            "dev_login": True, "local_development": True, "delivery.worker_in_web": False,
            "wikis.extra": {HOSTILE_WIKI: wiki.api_url}, "rate_limit.evidence_checks_per_hour": 1000,
        }, environ={})
        client = app.test_client()
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
        client.post("/login", data={"username": "Bench", "csrf_token": token})
        csrf = client.get("/api/v1/me").get_json()["csrf_token"]
        best = float("inf")
        for _ in range(ROUNDS):
            started = time.perf_counter()
            links = client.post("/api/v1/evidence/resolve", json={"text": text},
                                headers={"X-CSRF-Token": csrf}).get_json()["links"]
            best = min(best, time.perf_counter() - started)
            assert len(links) == 10 and all(link["analysis"]["limited"] for link in links), links
    return best


def run():
    """The figures, for ``make bench`` (``bench/__main__.py`` prints them)."""
    yield "evidence.hostile_edit_analysis_s", round(hostile_analysis_seconds(), 4)
    with running_mediawiki(lang="en") as wiki:
        yield "evidence.resolve_10_links_same_hostile_diff_s", round(resolve_hostile_links_seconds(wiki), 3)
        revids = make_edits(wiki)
        results, requests = resolve_batched(wiki, revids)
        assert all(r["status"] == "resolved" and r["analysis"]["mentions"] == ["Carol"] for r in results)
        yield "evidence_requests_for_20_diffs", requests
        yield "evidence_requests_per_link", round(requests / LINKS, 3)
        yield "evidence_naive_requests_for_20_diffs", resolve_naive(wiki, revids)
        batched = best_time(resolve_batched, wiki, revids)
        naive = best_time(resolve_naive, wiki, revids)
        yield "evidence_batched_wall_ms", round(batched * 1000, 1)
        yield "evidence_naive_compare_wall_ms", round(naive * 1000, 1)
        yield "evidence_naive_over_batched_wall_ratio", round(naive / batched, 2)
    yield from large_page_figures()


if __name__ == "__main__":
    for name, value in run():
        print(f"BENCH {name} {value}", flush=True)
