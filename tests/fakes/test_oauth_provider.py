"""The fake Special:OAuth, driven by the real mwoauth client over HTTP.

These tests pin the fake to the protocol mwoauth speaks (so tests of our own
login code against it mean something) and check that it refuses what
MediaWiki refuses.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import jwt
import mwoauth
import pytest
import requests
from oauthlib.oauth1 import Client
from requests_oauthlib import OAuth1

from tests.fakes.oauth_provider import (
    FakeConsumer,
    FakeUser,
    RunningProvider,
    answer_authorization,
    running_oauth_provider,
)

CONSUMER = FakeConsumer(key="c0ffee" + "0" * 26, secret="5ec7e7" + "1" * 34,
                        callback="https://reporting.toolforge.org/oauth-callback")
PREFIX_CONSUMER = FakeConsumer(key="beef" + "2" * 28, secret="5ec7e7" + "3" * 34,
                               callback="https://reporting.toolforge.org/", callback_is_prefix=True)
ALICE = FakeUser(username="Alice", central_id=4242, groups=("*", "user", "autoconfirmed", "sysop"),
                 editcount=1234, registered="20150304050607", rights=("read", "edit", "block"))
BOB = FakeUser(username="Bob", central_id=77, blocked=True, registered=None, confirmed_email=False)
UA = "reporting-tests/0 (https://example.org; test@example.org)"


@pytest.fixture
def wiki() -> Iterator[RunningProvider]:
    with running_oauth_provider([CONSUMER, PREFIX_CONSUMER], [ALICE, BOB],
                                logged_in_user="Alice", sub_as_string=True) as running:
        yield running


def handshaker(wiki: RunningProvider, consumer: FakeConsumer = CONSUMER) -> mwoauth.Handshaker:
    return mwoauth.Handshaker(wiki.index_url, mwoauth.ConsumerToken(consumer.key, consumer.secret),
                              user_agent=UA)


def login(wiki: RunningProvider) -> tuple[mwoauth.Handshaker, mwoauth.AccessToken]:
    shaker = handshaker(wiki)
    redirect, request_token = shaker.initiate()
    answer = answer_authorization(redirect)
    return shaker, shaker.complete(request_token, urlsplit(answer.headers["Location"]).query)


def signed_post(wiki: RunningProvider, title: str, **oauth: str) -> requests.Response:
    return requests.post(wiki.index_url, params={"title": title}, auth=OAuth1(**oauth), timeout=5)


def test_full_handshake_with_the_real_client(wiki: RunningProvider) -> None:
    shaker = handshaker(wiki)
    redirect, request_token = shaker.initiate()
    url = urlsplit(redirect)
    assert url.path == "/w/index.php"
    assert parse_qs(url.query) == {"title": ["Special:OAuth/authenticate"],
                                   "oauth_token": [request_token.key],
                                   "oauth_consumer_key": [CONSUMER.key]}

    answer = answer_authorization(redirect)
    assert answer.status_code == 302
    callback = urlsplit(answer.headers["Location"])
    assert callback._replace(query="").geturl() == CONSUMER.callback
    assert parse_qs(callback.query)["oauth_token"] == [request_token.key]

    access_token = shaker.complete(request_token, callback.query)
    identity = shaker.identify(access_token)
    assert identity["iss"] == wiki.server_url
    assert identity["aud"] == CONSUMER.key
    assert identity["sub"] == "4242"
    assert identity["exp"] - identity["iat"] == 100
    assert {k: identity[k] for k in ("username", "editcount", "confirmed_email", "blocked",
                                     "registered", "groups", "rights", "grants")} == {
        "username": "Alice", "editcount": 1234, "confirmed_email": True, "blocked": False,
        "registered": "20150304050607", "groups": ["*", "user", "autoconfirmed", "sysop"],
        "rights": ["read", "edit", "block"], "grants": ["mwoauth-authonly"]}
    assert {seen["user_agent"] for seen in wiki.provider.requests_seen
            if seen["title"] in ("Special:OAuth/initiate", "Special:OAuth/token",
                                 "Special:OAuth/identify")} == {UA}


def test_numeric_sub_is_what_breaks_mwoauth_identify_with_current_pyjwt(wiki: RunningProvider) -> None:
    """MediaWiki's default: sub as a JSON number. mwoauth 0.4.0 + PyJWT >= 2.10
    refuse it (python-mwoauth #51), which is why reporting.identity.oauth verifies the
    JWT itself."""
    wiki.provider.sub_as_string = False
    shaker, access_token = login(wiki)
    with pytest.raises(mwoauth.OAuthException, match="Could not read response"):
        shaker.identify(access_token)

    response = signed_post(wiki, "Special:OAuth/identify", client_key=CONSUMER.key,
                           client_secret=CONSUMER.secret, resource_owner_key=access_token.key,
                           resource_owner_secret=access_token.secret)
    claims = jwt.decode(response.content, CONSUMER.secret, algorithms=["HS256"],
                        audience=CONSUMER.key, options={"verify_sub": False})
    assert claims["sub"] == 4242 and type(claims["sub"]) is int


def test_identify_nonce_is_the_requests_oauth_nonce(wiki: RunningProvider) -> None:
    _, access_token = login(wiki)
    response = signed_post(wiki, "Special:OAuth/identify", client_key=CONSUMER.key,
                           client_secret=CONSUMER.secret, resource_owner_key=access_token.key,
                           resource_owner_secret=access_token.secret)
    sent = response.request.headers["Authorization"]
    sent = sent.decode() if isinstance(sent, bytes) else sent
    claims = jwt.decode(response.content, CONSUMER.secret, algorithms=["HS256"],
                        audience=CONSUMER.key)
    assert f'oauth_nonce="{claims["nonce"]}"' in sent


@pytest.mark.parametrize("kind", ["forged-signature", "wrong-audience", "wrong-issuer", "expired",
                                  "issued-in-future", "wrong-nonce", "replay-previous", "alg-none"])
def test_tampered_identify_answers_are_refused_by_mwoauth(wiki: RunningProvider, kind: str) -> None:
    shaker, access_token = login(wiki)
    shaker.identify(access_token)  # a genuine JWT first, so that one can be replayed
    wiki.provider.tamper_next_identify(kind)
    with pytest.raises(mwoauth.OAuthException):
        shaker.identify(access_token)
    shaker.identify(access_token)  # the hook is one-shot


def test_bad_signature_at_initiate_is_refused(wiki: RunningProvider) -> None:
    forged = mwoauth.Handshaker(wiki.index_url, mwoauth.ConsumerToken(CONSUMER.key, "wrong-secret"),
                                user_agent=UA)
    with pytest.raises(mwoauth.OAuthException, match="Invalid signature"):
        forged.initiate()
    assert wiki.provider.issued_request_tokens() == []


def test_unknown_consumer_is_refused(wiki: RunningProvider) -> None:
    stranger = mwoauth.Handshaker(wiki.index_url, mwoauth.ConsumerToken("d" * 32, "x" * 40),
                                  user_agent=UA)
    with pytest.raises(mwoauth.OAuthException, match="Invalid consumer"):
        stranger.initiate()


def test_unsigned_initiate_is_refused(wiki: RunningProvider) -> None:
    response = requests.post(wiki.index_url, params={"title": "Special:OAuth/initiate"}, timeout=5)
    assert response.text.startswith("Error: ")
    assert "Missing mandatory OAuth parameters" in response.text


def _fixed_request(wiki: RunningProvider, nonce: str, timestamp: str) -> requests.Response:
    client = Client(CONSUMER.key, client_secret=CONSUMER.secret, callback_uri="oob",
                    nonce=nonce, timestamp=timestamp)
    uri, headers, _ = client.sign(wiki.index_url + "?title=Special%3AOAuth%2Finitiate",
                                  http_method="POST")
    return requests.post(uri, headers=headers, timeout=5)


def test_reused_oauth_nonce_is_refused(wiki: RunningProvider) -> None:
    timestamp = str(int(time.time()))
    first = _fixed_request(wiki, "1234567890123456789012", timestamp)
    assert parse_qs(first.text)["oauth_callback_confirmed"] == ["true"]
    again = _fixed_request(wiki, "1234567890123456789012", timestamp)
    assert again.text == "Error: An error occurred in the OAuth protocol: Nonce already used: 1234567890123456789012"


def test_stale_timestamp_is_refused(wiki: RunningProvider) -> None:
    response = _fixed_request(wiki, "9876543210987654321098", str(int(time.time()) - 3600))
    assert response.text.startswith("Error: ") and "Timestamp" in response.text


def test_unknown_request_token_is_refused_at_token(wiki: RunningProvider) -> None:
    response = signed_post(wiki, "Special:OAuth/token", client_key=CONSUMER.key,
                           client_secret=CONSUMER.secret, resource_owner_key="a" * 32,
                           resource_owner_secret="b" * 32, verifier="c" * 32)
    assert response.text == "Error: An error occurred in the OAuth protocol: Invalid request token"


def test_request_token_is_single_use_and_needs_the_right_verifier(wiki: RunningProvider) -> None:
    shaker = handshaker(wiki)
    redirect, request_token = shaker.initiate()
    query = parse_qs(urlsplit(answer_authorization(redirect).headers["Location"]).query)

    def exchange(verifier: str) -> requests.Response:
        return signed_post(wiki, "Special:OAuth/token", client_key=CONSUMER.key,
                           client_secret=CONSUMER.secret, resource_owner_key=request_token.key,
                           resource_owner_secret=request_token.secret, verifier=verifier)

    assert exchange("f" * 32).text == "Error: An error occurred in the OAuth protocol: Invalid verifier"
    assert set(parse_qs(exchange(query["oauth_verifier"][0]).text)) == {"oauth_token", "oauth_token_secret"}
    assert exchange(query["oauth_verifier"][0]).text.startswith("Error: ")


def test_expired_request_token_is_refused_everywhere(wiki: RunningProvider) -> None:
    shaker = handshaker(wiki)
    redirect, request_token = shaker.initiate()
    query = urlsplit(answer_authorization(redirect).headers["Location"]).query
    wiki.provider.advance_clock(601)
    response = signed_post(wiki, "Special:OAuth/token", client_key=CONSUMER.key,
                           client_secret=CONSUMER.secret, resource_owner_key=request_token.key,
                           resource_owner_secret=request_token.secret,
                           verifier=parse_qs(query)["oauth_verifier"][0])
    assert response.text == "Error: An error occurred in the OAuth protocol: Invalid request token"

    _, late_token = shaker.initiate()
    wiki.provider.advance_clock(601)
    page = requests.get(redirect.replace(request_token.key, late_token.key), timeout=5)
    assert 'data-error="mwoauth-invalid-authorization-invalid-token"' in page.text


def test_unknown_access_token_is_refused_at_identify(wiki: RunningProvider) -> None:
    response = signed_post(wiki, "Special:OAuth/identify", client_key=CONSUMER.key,
                           client_secret=CONSUMER.secret, resource_owner_key="e" * 32,
                           resource_owner_secret="f" * 32)
    assert response.json() == {
        "error": "mwoauth-invalid-authorization",
        "message": "The authorization headers in your request are not valid: Invalid access token"}


def test_access_token_signed_with_another_secret_is_refused(wiki: RunningProvider) -> None:
    _, access_token = login(wiki)
    response = signed_post(wiki, "Special:OAuth/identify", client_key=CONSUMER.key,
                           client_secret=CONSUMER.secret, resource_owner_key=access_token.key,
                           resource_owner_secret="not-the-token-secret")
    assert response.json()["message"].endswith("Invalid signature")


def test_one_access_token_per_user_and_consumer(wiki: RunningProvider) -> None:
    assert login(wiki)[1] == login(wiki)[1]


def test_cancel_shows_a_page_and_issues_no_verifier(wiki: RunningProvider) -> None:
    shaker = handshaker(wiki)
    redirect, request_token = shaker.initiate()
    answer = answer_authorization(redirect, button="cancel")
    assert answer.status_code == 200
    assert 'id="mw-oauth-cancelled"' in answer.text
    page = requests.get(redirect, timeout=5)
    assert 'data-error="mwoauth-invalid-authorization-invalid-token"' in page.text


def test_authenticate_skips_the_prompt_once_approved(wiki: RunningProvider) -> None:
    login(wiki)
    redirect, _ = handshaker(wiki).initiate()
    page = requests.get(redirect, allow_redirects=False, timeout=5)
    assert page.status_code == 302 and "oauth_verifier=" in page.headers["Location"]
    redirect, _ = handshaker(wiki).initiate()
    authorize = redirect.replace("Special%3AOAuth%2Fauthenticate", "Special%3AOAuth%2Fauthorize")
    assert 'id="mw-mwoauth-accept"' in requests.get(authorize, timeout=5).text


def test_authorize_requires_a_logged_in_user_and_the_cookie_selects_one(wiki: RunningProvider) -> None:
    wiki.provider.logged_in_user = None
    shaker = handshaker(wiki)
    redirect, request_token = shaker.initiate()
    assert 'data-error="mwoauth-named-account-required"' in requests.get(redirect, timeout=5).text

    browser = requests.Session()
    browser.get(wiki.server_url + "/fake-login?user=Bob", timeout=5)
    answer = answer_authorization(redirect, session=browser)
    identity = shaker.identify(shaker.complete(request_token, urlsplit(answer.headers["Location"]).query))
    assert (identity["username"], identity["sub"], identity["blocked"], identity["registered"],
            identity["confirmed_email"]) == ("Bob", "77", True, None, False)


def test_form_post_without_the_edit_token_is_refused(wiki: RunningProvider) -> None:
    redirect, request_token = handshaker(wiki).initiate()
    response = requests.post(wiki.index_url + "?title=Special:OAuth/authorize", allow_redirects=False,
                             data={"oauth_token": request_token.key,
                                   "oauth_consumer_key": CONSUMER.key, "accept": "1"}, timeout=5)
    assert response.status_code == 200 and 'data-error="sessionfailure"' in response.text


@pytest.mark.parametrize(("consumer", "callback", "accepted"), [
    (CONSUMER, "oob", True),
    (CONSUMER, "https://reporting.toolforge.org/oauth-callback", False),
    (PREFIX_CONSUMER, "https://reporting.toolforge.org/oauth-callback?next=%2Fr", True),
    (PREFIX_CONSUMER, "https://evil.example.org/oauth-callback", False),
])
def test_callback_rules(wiki: RunningProvider, consumer: FakeConsumer, callback: str,
                        accepted: bool) -> None:
    shaker = handshaker(wiki, consumer)
    if not accepted:
        with pytest.raises(mwoauth.OAuthException, match="oauth_callback must be set"):
            shaker.initiate(callback=callback)
        return
    redirect, _ = shaker.initiate(callback=callback)
    location = answer_authorization(redirect).headers["Location"]
    expected = consumer.callback if callback == "oob" else callback
    assert location.startswith(expected + ("&" if "?" in expected else "?"))
