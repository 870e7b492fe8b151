"""An app configured for OAuth against the fake Special:OAuth and fake meta API.

Test modules import the fixtures (``wiki``, ``meta``, ``oauth_app``) and
:func:`oauth_login`, which walks the whole flow the way a browser does:
``/login`` -> the wiki's authorize page (Allow) -> ``/oauth-callback``.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from urllib.parse import urlencode, urlsplit

import pytest
import requests

from tests.conftest import make_app
from tests.fakes.meta_api import GlobalAccount, RunningMetaApi, running_meta_api
from tests.fakes.oauth_provider import (
    FakeConsumer,
    FakeUser,
    RunningProvider,
    answer_authorization,
    running_oauth_provider,
)

# The Flask test client's host is "localhost"; the consumer lets the tool name
# its own callback under the registered one ("Allow consumer to specify a callback").
CONSUMER = FakeConsumer(key="a1b2c3d4" * 4, secret="f0e1d2c3" * 5,
                        callback="http://localhost/oauth-callback", callback_is_prefix=True)


def new_account_registration() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")


USERS = [
    FakeUser("Alice", 4242, editcount=1234, registered="20150304050607"),
    FakeUser("Blocked Bob", 5001, blocked=True, editcount=50, registered="20180101000000"),
    FakeUser("Steward Sam", 6001, editcount=90000, registered="20050101000000"),
]


def accounts() -> dict[str, GlobalAccount]:
    return {
        "Alice": GlobalAccount(4242),
        "Blocked Bob": GlobalAccount(5001),
        "Steward Sam": GlobalAccount(6001, ["steward"], {"dewiki": ("de.wikipedia.org", ["checkuser"]),
                                                         "enwiki": ("en.wikipedia.org", ["sysop"])}),
    }


@pytest.fixture
def wiki() -> Iterator[RunningProvider]:
    # Created per test: a brand-new account is one registered moments ago.
    newbie = FakeUser("Newbie", 7001, editcount=0, registered=new_account_registration(),
                      confirmed_email=False, groups=("*", "user"))
    with running_oauth_provider([CONSUMER], [*USERS, newbie]) as running:
        yield running


@pytest.fixture
def meta() -> Iterator[RunningMetaApi]:
    with running_meta_api({**accounts(), "Newbie": GlobalAccount(7001)}) as running:
        yield running


def oauth_settings(wiki: RunningProvider, meta: RunningMetaApi, **overrides) -> dict:
    return {
        "dev_login": False,
        "oauth.consumer_key": CONSUMER.key,
        "oauth.consumer_secret": CONSUMER.secret,
        "oauth.index_url": wiki.index_url,
        "oauth.meta_api_url": meta.api_url,
        "contact": "https://example.org/incident-reporting-tests",
        **overrides,
    }


@pytest.fixture
def oauth_app(tmp_path, wiki, meta):
    return make_app(tmp_path, **oauth_settings(wiki, meta))


def wiki_browser(wiki: RunningProvider, username: str) -> requests.Session:
    """A browser session logged in to the fake wiki as ``username``."""
    session = requests.Session()
    answer = session.get(wiki.server_url + "/fake-login", params={"user": username},
                         allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    return session


def start(client, returnto: str | None = None):
    """GET /login; returns the response (a redirect to the wiki on success)."""
    return client.get("/login" + ("?" + urlencode({"returnto": returnto}) if returnto is not None else ""))


def authorize(wiki: RunningProvider, redirect: str, username: str, button: str = "accept") -> str:
    """Click Allow on the wiki; return the callback URL the wiki redirects to."""
    assert redirect.startswith(wiki.index_url), redirect
    answer = answer_authorization(redirect, button=button, session=wiki_browser(wiki, username))
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def callback_path(url: str) -> str:
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("http", "localhost", "/oauth-callback"), url
    return f"{parts.path}?{parts.query}"


def oauth_login(client, wiki: RunningProvider, username: str = "Alice", returnto: str | None = None):
    """The whole login; returns the tool's answer to the callback."""
    response = start(client, returnto)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client.get(callback_path(authorize(wiki, response.headers["Location"], username)))


def csrf_of(client) -> str:
    return client.get("/api/v1/me").get_json()["csrf_token"]
