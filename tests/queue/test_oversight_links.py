"""Trust & Safety move between the queue and their own pages; nobody else is shown the way there."""
from __future__ import annotations

import re

import pytest

from tests.conftest import make_app
from tests.queue.helpers import Person

OVERSIGHT = ("/queue/stats", "/queue/audit", "/queue/suspensions")


def links(html: str) -> set[str]:
    return set(re.findall(r'href="(/queue[^"?#]*)"', html))


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return make_app(tmp_path_factory.mktemp("links"))


def test_the_queue_links_to_the_oversight_pages_for_trust_and_safety(app):
    html = Person(app, "trust-and-safety").client.get("/queue").get_data(as_text=True)
    assert set(OVERSIGHT) <= links(html)
    nav = re.search(r'<nav class="oversight-nav".*?</nav>', html, re.S).group(0)
    assert 'href="/queue" aria-current="page"' in nav and "Numbers" in nav and "Suspensions" in nav


@pytest.mark.parametrize(("who", "status"), [("reporter", 404), ("functionary of this wiki", 200), ("steward", 200)])
def test_nobody_else_sees_those_links(app, who, status):
    response = Person(app, who).client.get("/queue")
    assert response.status_code == status  # a user with no role has no queue at all
    html = response.get_data(as_text=True)
    assert not set(OVERSIGHT) & links(html) and "oversight-nav" not in html


@pytest.mark.parametrize("path", OVERSIGHT)
def test_each_oversight_page_links_back_to_the_queue(app, path):
    html = Person(app, "trust-and-safety").client.get(path).get_data(as_text=True)
    nav = re.search(r'<nav class="oversight-nav".*?</nav>', html, re.S).group(0)
    assert 'href="/queue"' in nav and f'href="{path}" aria-current="page"' in nav


def test_the_links_are_localized(app):
    tess = Person(app, "trust-and-safety")
    html = tess.client.get("/queue?uselang=ar").get_data(as_text=True)
    nav = re.search(r'<nav class="oversight-nav".*?</nav>', html, re.S).group(0)
    assert "القضايا" in nav and "Numbers" not in nav
