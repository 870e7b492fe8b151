"""Static files under content-hashed URLs with a year's cache; gzip where safe (BREACH); /privacy."""
from __future__ import annotations

import gzip
import os
import re

from tests.conftest import login

GZIP = {"Accept-Encoding": "gzip, deflate, br"}


def asset_urls(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/assets/[^"]+)"', html)


def test_pages_link_hashed_assets_cached_for_a_year(client) -> None:
    html = client.get("/privacy").get_data(as_text=True)
    urls = asset_urls(html)
    assert any(u.endswith("/codex/codex-subset.css") for u in urls) and any(u.endswith("/favicon.svg") for u in urls)
    assert "codex.style-bidi.css" not in html and "/static/" not in html
    for url in urls:
        response = client.get(url, headers=GZIP)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        if url.endswith((".css", ".js")):
            assert response.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in response.headers["Vary"]
            assert gzip.decompress(response.get_data()) == client.get(url).get_data()
    # An outdated digest still gets the file, but only briefly cached; unhashed URLs too.
    stale = re.sub(r"/assets/\w+/", "/assets/000000000000/", urls[0])
    assert client.get(stale).headers["Cache-Control"] == "public, max-age=300"
    assert "max-age=300" in client.get("/static/style.css").headers["Cache-Control"]
    assert client.get("/favicon.ico").status_code == 200


def test_pages_are_compressed_for_every_request_that_accepts_it(app) -> None:
    """Whoever started the request (BREACH is mitigated instead: tests/test_breach.py)."""
    client = app.test_client()
    login(client, "Alice")
    plain = client.get("/report")
    assert "Content-Encoding" not in plain.headers  # the client did not ask for it
    for site in ("same-origin", "cross-site", "same-site"):
        response = client.get("/report", headers={"Accept-Encoding": "gzip", "Sec-Fetch-Site": site})
        assert response.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(response.get_data()).decode().count("<form") >= 1
        assert set(response.headers["Vary"].replace(" ", "").split(",")) == {"Accept-Encoding", "Cookie"}
        assert client.get("/report", headers={**GZIP, "Sec-Fetch-Site": site}).headers["Content-Encoding"] == "br"
    # Tiny bodies are not worth it.
    assert "Content-Encoding" not in client.get("/healthz", headers=GZIP).headers


def test_templates_send_no_indentation(alice) -> None:
    client, _ = alice
    html = client.get("/report").get_data(as_text=True)
    assert not re.search(r"^[ \t]", html, re.MULTILINE)


def test_report_page_weight_through_gunicorn(tmp_path, monkeypatch) -> None:
    """issue 14, measured as `make bench` does (bench/http.py): the first visit from the gadget's
    link (cross-site) with every asset it links, and a repeat visit (assets cached), on the wire."""
    import subprocess
    import sys

    from bench import http
    from tests.conftest import guarded_environment

    for name in [name for name in os.environ if name.startswith("TOOL_")]:
        monkeypatch.delenv(name)
    instance = str(tmp_path / "instance")
    env = {"TOOL_DEV_LOGIN": "1", "TOOL_LOCAL_DEVELOPMENT": "1", "TOOL_INSTANCE_PATH": instance,
           "BENCH_KIND": "reporting"}
    subprocess.run([sys.executable, "-m", "reporting", "init-instance", instance], cwd=http.ROOT, check=True,
                   capture_output=True, env=guarded_environment({**os.environ, **env}))
    with http.gunicorn("app:app", guarded_environment(env)) as base:
        cookie, _ = http.dev_login(base)
        for _ in range(5):  # the padding is random: a few samples
            first, _, _ = http.visit_weight(base, cookie, "cross-site")
            _, repeat, requests = http.visit_weight(base, cookie, "same-origin")
            assert first <= 30_000 and repeat <= 5_000 and requests == 1, (first, repeat, requests)


def test_privacy_page_states_the_configured_retention(tmp_path) -> None:
    from tests.conftest import make_app

    app = make_app(tmp_path, retention_days=90)
    client = app.test_client()
    html = client.get("/privacy?uselang=en").get_data(as_text=True)
    assert "90 days" in html and "never told" in html and "ca@wikimedia.org" in html
    arabic = client.get("/privacy?uselang=ar").get_data(as_text=True)
    assert 'dir="rtl"' in arabic and "بيان الخصوصية" in arabic
    assert 'href="/privacy"' in client.get("/").get_data(as_text=True)


def test_not_found_is_calm(client) -> None:
    response = client.get("/nothing-here?uselang=en")
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and "Page not found" in html and "cdx-message--error" not in html


def test_rate_limit_message_does_not_invite_choosing_an_emergency_category(app) -> None:
    from reporting.i18n import msg_text

    with app.app_context():
        for key in ("reporting-rate-limited-hours", "reporting-rate-limited-minutes"):
            text = msg_text(key, 2)
            assert "never applies to reports about someone in danger" in text and "choose a category" not in text


def test_static_files_carry_no_session_cookie(app) -> None:
    client = app.test_client()
    login(client, "Alice")
    html = client.get("/report").get_data(as_text=True)
    for url in asset_urls(html):
        response = client.get(url, headers=GZIP)
        assert "Set-Cookie" not in response.headers and "Cookie" not in response.headers.get("Vary", "")
    # Pages send the cookie only when the session changes (a language chosen), not on every view.
    assert "Set-Cookie" not in client.get("/report").headers
    assert "Set-Cookie" in client.get("/report?uselang=de").headers
