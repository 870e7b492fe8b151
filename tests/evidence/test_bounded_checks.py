"""Link checks hold a web thread for a bounded time whatever the wikis do.

``/api/v1/evidence/parse``, ``/resolve`` and the form's "Check the links" count and cap links and
wikis before any request, send one try per request and no sleeps, share one cap on requests in
flight per process, are limited per user, refuse barred users, and finish within 10 seconds
against wikis that hang, trickle or fail (fake wikis on 127.0.0.1, registered with
``wikis.extra`` like an operator registers a test wiki).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from reporting.intake.eligibility import bar
from tests.conftest import csrf_from, login, make_app
from tests.fakes.wiki_api import FakeWikiApi

REQUEST_LIMIT_SECONDS = 10.0


@pytest.fixture
def wikis() -> Iterator[list[FakeWikiApi]]:
    servers = [FakeWikiApi() for _ in range(3)]
    for server in servers:
        server.start()
    yield servers
    for server in servers:
        server.stop()


def app_with(tmp_path, wikis: list[FakeWikiApi], names: list[str] | None = None, **settings):
    names = names or [f"wiki-{index}.test" for index in range(len(wikis))]
    extra = {name: wikis[index % len(wikis)].api_url for index, name in enumerate(names)}
    return make_app(tmp_path, **{"wikis.extra": extra, **settings})


def links_on(wiki: FakeWikiApi, name: str, count: int = 1) -> str:
    return "\n".join(f"{wiki.link_host(name)}/index.php?diff={100 + n}" for n in range(count))


def post(client, token, path, **body):
    return client.post(path, json=body, headers={"X-CSRF-Token": token})


def timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


@pytest.mark.parametrize("fault", ["hang", "trickle"])
def test_resolve_finishes_in_time_against_wikis_that_hang_or_trickle(tmp_path, wikis, fault):
    for wiki in wikis:
        if fault == "hang":
            wiki.hang(60, times=100)
        else:
            wiki.trickle(0.5, times=100)  # status line and headers too: no read ever times out
    app = app_with(tmp_path, wikis)
    client = app.test_client()
    token = login(client, "Alice")
    text = "\n".join(links_on(wiki, f"wiki-{index}.test", 5) for index, wiki in enumerate(wikis))
    response, seconds = timed(lambda: post(client, token, "/api/v1/evidence/resolve", text=text))
    assert seconds <= REQUEST_LIMIT_SECONDS
    links = response.get_json()["links"]
    assert len(links) == 15
    assert {link["status"] for link in links} == {"unresolved"}
    assert {link["reason"] for link in links} <= {"wiki-unavailable", "not-checked"}
    assert any(link["reason"] == "not-checked" and link["message"].startswith("Not checked yet") for link in links)
    assert all(link["retryable"] for link in links)


def test_the_form_check_finishes_in_time_against_hanging_wikis(tmp_path, wikis):
    for wiki in wikis:
        wiki.hang(60, times=100)
    app = app_with(tmp_path, wikis)
    client = app.test_client()
    login(client, "Alice")
    token = csrf_from(client.get("/report").get_data(as_text=True))
    text = "\n".join(links_on(wiki, f"wiki-{index}.test", 3) for index, wiki in enumerate(wikis))
    response, seconds = timed(lambda: client.post("/report", data={
        "csrf_token": token, "action": "check", "wiki": "wiki-0.test", "category": "harassment", "evidence": text}))
    assert seconds <= REQUEST_LIMIT_SECONDS
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Not checked yet" in html


def test_parse_finishes_in_time_when_siteinfo_hangs(tmp_path, wikis):
    for wiki in wikis:
        wiki.hang(60, times=100)
    app = app_with(tmp_path, wikis)
    client = app.test_client()
    token = login(client, "Alice")
    # Localised special page names need each wiki's siteinfo: asked once, within the deadline.
    text = "\n".join(f"{wiki.link_host(f'wiki-{index}.test')}/index.php?title=Spezial:Diff/5"
                     for index, wiki in enumerate(wikis))
    response, seconds = timed(lambda: post(client, token, "/api/v1/evidence/parse", text=text))
    assert seconds <= REQUEST_LIMIT_SECONDS
    assert len(response.get_json()["links"]) == 3
    assert sum(len(wiki.requests) for wiki in wikis) >= 1  # it did ask, within the deadline


def test_too_many_links_are_refused_before_any_request(tmp_path, wikis):
    app = app_with(tmp_path, wikis)
    client = app.test_client()
    token = login(client, "Alice")
    response, seconds = timed(lambda: post(client, token, "/api/v1/evidence/resolve",
                                           text=links_on(wikis[0], "wiki-0.test", 51)))
    assert response.status_code == 422 and seconds < 2
    [error] = response.get_json()["errors"]
    assert error["code"] == "too-many-links" and "51 links" in error["message"]
    assert all(wiki.requests == [] for wiki in wikis)


def test_links_on_too_many_wikis_are_refused_before_any_request(tmp_path, wikis):
    names = [f"wiki-{index}.test" for index in range(11)]
    app = app_with(tmp_path, wikis, names)
    client = app.test_client()
    token = login(client, "Alice")
    text = "\n".join(links_on(wikis[index % 3], name) for index, name in enumerate(names))
    for path in ("/api/v1/evidence/parse", "/api/v1/evidence/resolve"):
        response = post(client, token, path, text=text)
        assert response.status_code == 422
        [error] = response.get_json()["errors"]
        assert error["code"] == "too-many-wikis" and "11 wikis" in error["message"]
    login_token = csrf_from(client.get("/report").get_data(as_text=True))
    page = client.post("/report", data={"csrf_token": login_token, "action": "check", "wiki": "",
                                        "category": "harassment", "evidence": text})
    assert page.status_code == 422 and "11 wikis" in page.get_data(as_text=True)
    assert all(wiki.requests == [] for wiki in wikis)


def test_a_failing_wiki_gets_one_try_per_request_and_no_sleep(tmp_path, wikis):
    wikis[0].fail_with(503, {"error": "busy"}, headers={"Retry-After": "5"}, times=100)
    app = app_with(tmp_path, wikis[:1])
    client = app.test_client()
    token = login(client, "Alice")
    response, seconds = timed(lambda: post(client, token, "/api/v1/evidence/resolve",
                                           text=links_on(wikis[0], "wiki-0.test", 3)))
    assert seconds < 3  # a retry would have slept 5 s (Retry-After)
    assert {link["reason"] for link in response.get_json()["links"]} == {"wiki-unavailable"}
    # siteinfo for the parser, then the resolver's own try: never the same request twice
    assert len(wikis[0].requests) <= 2


def test_one_cap_on_requests_in_flight_per_process(tmp_path, wikis):
    slow = wikis[0]
    slow.delay = 2.0
    app = app_with(tmp_path, [slow], **{"wikis.max_concurrent_requests": 1})
    clients = []
    for user in ("Alice", "Bob", "Carol"):
        client = app.test_client()
        clients.append((client, login(client, user)))
    durations: list[float] = []
    statuses: list[int] = []

    def check(client, token):
        response, seconds = timed(lambda: post(client, token, "/api/v1/evidence/resolve",
                                               text=links_on(slow, "wiki-0.test", 2)))
        statuses.append(response.status_code)
        durations.append(seconds)

    threads = [threading.Thread(target=check, args=pair) for pair in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert statuses == [200, 200, 200]
    assert slow.max_in_flight == 1
    assert max(durations) <= REQUEST_LIMIT_SECONDS


def test_checks_are_limited_per_user(tmp_path, wikis):
    app = app_with(tmp_path, wikis[:1], **{"rate_limit.evidence_checks_per_hour": 3})
    alice, bob = app.test_client(), app.test_client()
    alice_token, bob_token = login(alice, "Alice"), login(bob, "Bob")
    text = links_on(wikis[0], "wiki-0.test")
    assert [post(alice, alice_token, "/api/v1/evidence/parse", text=text).status_code for _ in range(3)] == [200] * 3
    limited = post(alice, alice_token, "/api/v1/evidence/resolve", text=text)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 60
    assert limited.get_json()["errors"][0]["code"] == "rate-limited"
    form_token = csrf_from(alice.get("/report").get_data(as_text=True))
    page = alice.post("/report", data={"csrf_token": form_token, "action": "check", "wiki": "",
                                       "category": "harassment", "evidence": text})
    assert page.status_code == 429 and "You have checked links very often" in page.get_data(as_text=True)
    assert post(bob, bob_token, "/api/v1/evidence/parse", text=text).status_code == 200


def test_barred_users_cannot_check_links(tmp_path, wikis):
    app = app_with(tmp_path, wikis[:1])
    with app.app_context():
        bar(app.extensions["reporting"].stores.bar_list, "Mallory", "abusive-reports")
    client = app.test_client()
    token = login(client, "Mallory")
    for path in ("/api/v1/evidence/parse", "/api/v1/evidence/resolve"):
        response = post(client, token, path, text=links_on(wikis[0], "wiki-0.test"))
        assert response.status_code == 403 and response.get_json()["errors"][0]["code"] == "barred"
    assert wikis[0].requests == []
