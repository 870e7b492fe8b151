"""Requests per second of the tool's hot paths under gunicorn, as ratios to a
bare Flask "hello" app served with the same gunicorn settings, measured in
the same run with wrk on 127.0.0.1 (bounded: a few seconds per figure).

Both servers run at once and are measured in alternation, a short round each
(``BENCH_ROUNDS`` rounds of ``BENCH_DURATION``), and the ratio is the median of
the rounds' ratios: on a shared machine whatever else runs slows both sides of
a round alike, where one long measurement of each would compare a busy minute
with a quiet one. Both are warmed up first (``BENCH_WARM_UP``): what a worker
does once, on its first pages, is not what it does per request.

- ``GET /report``: the form, rendered for a logged-in user; also as browsers ask for it,
  compressed (``..._compressed_ratio_to_hello``).
- ``POST /api/v1/reports``: validate, seal, store with its outbox row, and
  deliver to the embedded Maildir (fsync) inside the request.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import requests

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_ARGS = ["--workers", "2", "--threads", "1", "--log-level", "warning"]
DURATION = os.environ.get("BENCH_DURATION", "2s")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "7"))
WARM_UP = os.environ.get("BENCH_WARM_UP", "2s")
CONNECTIONS = "8"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(app: str, env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", *GUNICORN_ARGS, "--bind", f"127.0.0.1:{port}", app],
        cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(base + "/healthz" if "reporting" in env.get("BENCH_KIND", "") else base, timeout=1)
                break
            except requests.RequestException:  # not up yet (refused, or still starting)
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def wrk(url: str, script: Path | None = None, duration: str = DURATION) -> float:
    command = ["wrk", "-t", "2", "-c", CONNECTIONS, "-d", duration, "--latency"]
    if script:
        command += ["-s", str(script)]
    output = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        raise RuntimeError(f"{errors.group(1)} failed responses from {url}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


def dev_login(base: str) -> tuple[str, str]:
    session = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', session.get(base + "/login").text).group(1)
    session.post(base + "/login", data={"username": "Bench", "csrf_token": token}, allow_redirects=False)
    csrf = session.get(base + "/api/v1/me").json()["csrf_token"]
    cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    return cookie, csrf


BROWSER_HEADERS = {"Accept-Encoding": "gzip, deflate, br", "Accept-Language": "en"}
ASSET = re.compile(r'<(?:link[^>]+href|script[^>]+src|img[^>]+src)="(/[^"]+)"')
YEAR = 31536000


def wire_bytes(response: requests.Response) -> int:
    """What crossed the wire: the status line, the headers and the body as sent (compressed)."""
    head = len(f"HTTP/1.1 {response.status_code} {response.reason}\r\n") + 2
    head += sum(len(name) + len(value) + 4 for name, value in response.raw.headers.items())
    return head + len(response.raw.read(decode_content=False))


def visit_weight(base: str, cookie: str, fetch_site: str) -> tuple[int, int, int]:
    """(first visit bytes, repeat visit bytes, repeat visit requests) of GET /report as a browser makes
    them: the page and everything it links; on the repeat visit, assets cached for a year (immutable)
    are not asked for again, others are."""
    headers = {**BROWSER_HEADERS, "Cookie": cookie, "Sec-Fetch-Site": fetch_site}
    page = requests.get(base + "/report", headers=headers, stream=True)
    first = wire_bytes(page)
    html = requests.get(base + "/report", headers={"Cookie": cookie}).text
    repeat_bytes, repeat_requests = first, 1
    for url in dict.fromkeys(ASSET.findall(html)):  # each once, as a browser fetches them
        asset = requests.get(base + url, headers={**headers, "Sec-Fetch-Site": "same-origin"}, stream=True)
        size = wire_bytes(asset)
        first += size
        control = asset.headers.get("Cache-Control", "")
        if not ("immutable" in control or f"max-age={YEAR}" in control):
            repeat_bytes += size
            repeat_requests += 1
    return first, repeat_bytes, repeat_requests


def run():
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        env = {"TOOL_DEV_LOGIN": "1", "TOOL_LOCAL_DEVELOPMENT": "1", "TOOL_INSTANCE_PATH": str(tmp_path / "instance"),
               # one account files thousands of reports here: lift the daily limit
               "TOOL_RATE_LIMIT__PER_DAY": "10000000", "TOOL_RATE_LIMIT__NEW_ACCOUNT_PER_DAY": "10000000",
               "BENCH_KIND": "reporting"}
        subprocess.run([sys.executable, "-m", "reporting", "init-instance", env["TOOL_INSTANCE_PATH"]],
                       cwd=ROOT, check=True, capture_output=True)
        with gunicorn("bench.hello_app:app", {}) as hello_base, gunicorn("app:app", env) as base:
            cookie, csrf = dev_login(base)
            get_script = tmp_path / "get.lua"
            get_script.write_text(f'wrk.headers["Cookie"] = "{cookie}"\n')
            # Steady state, as a server runs for days: each worker's first pages compile templates
            # and fill the per-process caches (page skeletons, wiki names), which is starting up.
            wrk(hello_base + "/", duration=WARM_UP)
            wrk(base + "/report", get_script, duration=WARM_UP)
            rounds = [(wrk(hello_base + "/"), wrk(base + "/report", get_script)) for _ in range(ROUNDS)]
            hello = statistics.median(hello_rps for hello_rps, _ in rounds)
            form = statistics.median(form_rps for _, form_rps in rounds)
            form_ratio = statistics.median(form_rps / hello_rps for hello_rps, form_rps in rounds)
            # As a browser asks for it: compressed (brotli), which the ratio above leaves out.
            browser_script = tmp_path / "browser.lua"
            browser_script.write_text(f'wrk.headers["Cookie"] = "{cookie}"\n'
                                      'wrk.headers["Accept-Encoding"] = "gzip, deflate, br"\n')
            compressed_ratio = statistics.median(
                wrk(base + "/report", browser_script) / wrk(hello_base + "/") for _ in range(ROUNDS))
            # Opened from the wiki's gadget link (cross-site: compressed too, with BREACH mitigated,
            # see reporting/views/compression.py), then again from within the tool or a bookmark.
            first_visit, _, _ = visit_weight(base, cookie, "cross-site")
            _, repeat_visit, repeat_requests = visit_weight(base, cookie, "same-origin")
            first_same_origin, _, _ = visit_weight(base, cookie, "same-origin")
            post_script = tmp_path / "post.lua"
            post_script.write_text(
                'wrk.method = "POST"\n'
                f'wrk.headers["Cookie"] = "{cookie}"\n'
                f'wrk.headers["X-CSRF-Token"] = "{csrf}"\n'
                'wrk.headers["Content-Type"] = "application/json"\n'
                'wrk.body = \'{"wiki": "en.wikipedia.org", "category": "harassment", '
                '"reported_users": ["Bench target"], "evidence": ["https://en.wikipedia.org/w/index.php?diff=1"], '
                '"description": "Benchmark report", "share_with_functionaries": false}\'\n')
            post = wrk(base + "/api/v1/reports", post_script)
    yield "http.report_first_visit_bytes", first_visit
    yield "http.report_first_visit_same_origin_bytes", first_same_origin
    yield "http.report_repeat_visit_bytes", repeat_visit
    yield "http.report_repeat_visit_requests", repeat_requests
    yield "http_hello_rps", round(hello, 1)
    yield "http_get_report_rps", round(form, 1)
    yield "http_get_report_ratio_to_hello", round(form_ratio, 3)
    yield "http_get_report_compressed_ratio_to_hello", round(compressed_ratio, 3)
    yield "http_post_report_rps", round(post, 1)
    yield "http_post_report_ratio_to_hello", round(post / hello, 3)
