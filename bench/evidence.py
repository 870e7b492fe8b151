"""Benchmarks of evidence resolution, printed as `BENCH <name> <value>` lines.

- requests per link: 20 diffs on one wiki (siteinfo already cached) -> API requests / links
- batched vs naive: wall time of one action=compare per diff divided by our batched resolution
- large page: mwparserfromhell on a whole 2 MB talk page divided by `analyze_change` of one edit

Runs against a throw-away local MediaWiki (Debian's package; see tests/evidence/mediawiki.py).
Usage: python bench/evidence.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import mwparserfromhell  # noqa: E402

from reporting.evidence.resolve import cached_siteinfo, resolve_links  # noqa: E402
from reporting.evidence.wikitext import analyze_change  # noqa: E402
from reporting.wikiclient import WikiClient, build_user_agent  # noqa: E402
from tests.evidence.mediawiki import running_mediawiki  # noqa: E402

USER_AGENT = build_user_agent("reporting-bench", "1.0", "https://example.org/tool", "bench@example.org")
LINKS = 20
ROUNDS = 5


def bench(name: str, value: float) -> None:
    print(f"BENCH {name} {value:.4g}", flush=True)


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
    cached_siteinfo(client, wiki.api_url)
    before = client.request_count
    links = [{"input": str(r), "wiki": "local", "kind": "diff", "oldid": None, "newid": r} for r in revids]
    results = resolve_links(links, client, {"local": wiki.api_url}.get)
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


def large_page_speedup() -> float:
    section = ("== Topic {i} ==\n" + ":Reply with [[link]] and {{{{tl|x}}}}. [[User:U{i}|U{i}]] "
               "([[User talk:U{i}|talk]]) 10:{m:02d}, 1 January 2024 (UTC)\n" * 8 + "\n")
    old = "".join(section.format(i=i, m=i % 60) for i in range(2400))
    at = old.find("== Topic 1500 ==")
    new = old[:at] + ":{{ping|U7}} go away [[User:Mallory|Mallory]] 11:00, 2 January 2024 (UTC)\n" + old[at:]
    bench("large_page_megabytes", len(new.encode()) / 1e6)
    analysis_time = best_time(analyze_change, old, new)
    started = time.perf_counter()
    mwparserfromhell.parse(new)
    parse_time = time.perf_counter() - started
    bench("large_page_analysis_ms", analysis_time * 1000)
    bench("large_page_full_parse_ms", parse_time * 1000)
    return parse_time / analysis_time


def main() -> None:
    with running_mediawiki(lang="en") as wiki:
        revids = make_edits(wiki)
        results, requests = resolve_batched(wiki, revids)
        assert all(r["status"] == "resolved" and r["analysis"]["mentions"] == ["Carol"] for r in results)
        bench("requests_for_20_diffs", requests)
        bench("requests_per_link", requests / LINKS)
        naive_requests = resolve_naive(wiki, revids)
        bench("naive_requests_for_20_diffs", naive_requests)
        batched = best_time(resolve_batched, wiki, revids)
        naive = best_time(resolve_naive, wiki, revids)
        bench("batched_wall_ms", batched * 1000)
        bench("naive_compare_wall_ms", naive * 1000)
        bench("naive_over_batched_wall_ratio", naive / batched)
    bench("large_page_speedup", large_page_speedup())


if __name__ == "__main__":
    main()
