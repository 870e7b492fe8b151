"""reporting.identity.oauth against the fake Special:OAuth on 127.0.0.1."""
from __future__ import annotations

import json
import pathlib
import socket
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from reporting.identity.oauth import (
    ExpiredRequestToken,
    Identity,
    InMemoryReplayGuard,
    InvalidIdentity,
    LoginDenied,
    LoginError,
    MismatchedCallback,
    OAuthSettings,
    ProviderError,
    WikiUnreachable,
    finish_login,
    start_login,
    verify_identity_jwt,
)
from tests.fakes.oauth_provider import (
    FakeConsumer,
    FakeUser,
    RunningProvider,
    answer_authorization,
    running_oauth_provider,
)

CONSUMER = FakeConsumer(key="0a1b2c3d" * 4, secret="9f8e7d6c" * 5,
                        callback="https://reporting.toolforge.org/oauth-callback")
PREFIX_CONSUMER = FakeConsumer(key="11223344" * 4, secret="55667788" * 5,
                               callback="https://reporting.toolforge.org/", callback_is_prefix=True)
ALICE = FakeUser(username="Alice Ö", central_id=4242, groups=("*", "user", "autoconfirmed"),
                 editcount=1234, registered="20150304050607")
ALICE_IDENTITY = Identity(username="Alice Ö", central_id=4242, blocked=False, editcount=1234,
                          registered="20150304050607", confirmed_email=True,
                          groups=("*", "user", "autoconfirmed"))
UA = "reporting-tests/0 (https://example.org; test@example.org) python-requests"


@pytest.fixture
def wiki() -> Iterator[RunningProvider]:
    with running_oauth_provider([CONSUMER, PREFIX_CONSUMER], [ALICE],
                                logged_in_user="Alice Ö") as running:
        yield running


def settings_for(wiki: RunningProvider, consumer: FakeConsumer = CONSUMER, **extra) -> OAuthSettings:
    return OAuthSettings(consumer.key, consumer.secret, wiki.index_url, UA, **extra)


def allow(redirect: str) -> str:
    """The callback's query string after the user clicked Allow."""
    return urlsplit(answer_authorization(redirect).headers["Location"]).query


@pytest.mark.parametrize("sub_as_string", [False, True])
def test_login_accepts_sub_as_number_and_as_string(wiki: RunningProvider, sub_as_string: bool) -> None:
    wiki.provider.sub_as_string = sub_as_string
    settings = settings_for(wiki)
    redirect, request_token = start_login(settings, None)
    assert json.loads(json.dumps(request_token)) == request_token
    assert finish_login(settings, request_token, allow(redirect)) == ALICE_IDENTITY
    assert {seen["user_agent"] for seen in wiki.provider.requests_seen
            if seen["title"] in ("Special:OAuth/initiate", "Special:OAuth/token",
                                 "Special:OAuth/identify")} == {UA}


def test_start_login_redirects_like_mwoauth(wiki: RunningProvider) -> None:
    redirect, request_token = start_login(settings_for(wiki), None)
    assert redirect.startswith(wiki.index_url + "?")
    assert parse_qs(urlsplit(redirect).query) == {"title": ["Special:OAuth/authenticate"],
                                                  "oauth_token": [request_token["key"]],
                                                  "oauth_consumer_key": [CONSUMER.key]}


def test_explicit_callback_for_a_prefix_consumer(wiki: RunningProvider) -> None:
    settings = settings_for(wiki, PREFIX_CONSUMER)
    callback = "https://reporting.toolforge.org/oauth-callback"
    redirect, request_token = start_login(settings, callback)
    location = answer_authorization(redirect).headers["Location"]
    assert location.startswith(callback + "?")
    assert finish_login(settings, request_token, urlsplit(location).query).central_id == 4242


def test_query_string_may_be_bytes(wiki: RunningProvider) -> None:
    settings = settings_for(wiki)
    redirect, request_token = start_login(settings, None)
    assert finish_login(settings, request_token, allow(redirect).encode()) == ALICE_IDENTITY


def test_cancelled_authorization_is_denied(wiki: RunningProvider) -> None:
    settings = settings_for(wiki)
    redirect, request_token = start_login(settings, None)
    assert answer_authorization(redirect, button="cancel").status_code == 200
    # Whatever brings the user back to the callback, it carries no verifier.
    for query in ("", f"oauth_token={request_token['key']}", "error=access_denied"):
        with pytest.raises(LoginDenied):
            finish_login(settings, request_token, query)


@pytest.mark.parametrize("session_token", [None, {}, {"key": "f" * 32, "secret": "e" * 32}])
def test_callback_for_another_login_is_mismatched(wiki: RunningProvider, session_token) -> None:
    settings = settings_for(wiki)
    redirect, _ = start_login(settings, None)
    with pytest.raises(MismatchedCallback):
        finish_login(settings, session_token, allow(redirect))


def test_expired_request_token(wiki: RunningProvider) -> None:
    settings = settings_for(wiki)
    redirect, request_token = start_login(settings, None)
    query = allow(redirect)
    wiki.provider.advance_clock(601)
    with pytest.raises(ExpiredRequestToken):
        finish_login(settings, request_token, query)


def test_reusing_a_callback_is_refused_as_an_expired_request_token(wiki: RunningProvider) -> None:
    settings = settings_for(wiki)
    redirect, request_token = start_login(settings, None)
    query = allow(redirect)
    finish_login(settings, request_token, query)
    with pytest.raises(ExpiredRequestToken):
        finish_login(settings, request_token, query)


def test_forged_verifier_is_refused(wiki: RunningProvider) -> None:
    settings = settings_for(wiki)
    redirect, request_token = start_login(settings, None)
    allow(redirect)
    with pytest.raises(ExpiredRequestToken):
        finish_login(settings, request_token,
                     f"oauth_verifier={'0' * 32}&oauth_token={request_token['key']}")


@pytest.mark.parametrize("consumer", [
    FakeConsumer(CONSUMER.key, "wrong-secret", CONSUMER.callback),
    FakeConsumer("9" * 32, CONSUMER.secret, CONSUMER.callback),
])
def test_refused_initiate_is_a_provider_error(wiki: RunningProvider, consumer: FakeConsumer) -> None:
    with pytest.raises(ProviderError):
        start_login(settings_for(wiki, consumer), None)


def test_unregistered_callback_is_a_provider_error(wiki: RunningProvider) -> None:
    with pytest.raises(ProviderError):
        start_login(settings_for(wiki), "https://evil.example.org/cb")


@pytest.mark.parametrize("kind", ["forged-signature", "wrong-audience", "wrong-issuer", "expired",
                                  "issued-in-future", "wrong-nonce", "replay-previous",
                                  "missing-sub", "alg-none"])
def test_tampered_identity_is_refused(wiki: RunningProvider, kind: str) -> None:
    settings = settings_for(wiki)
    redirect, request_token = start_login(settings, None)
    finish_login(settings, request_token, allow(redirect))  # leaves a JWT to replay
    redirect, request_token = start_login(settings, None)
    query = allow(redirect)
    wiki.provider.tamper_next_identify(kind)
    with pytest.raises(InvalidIdentity):
        finish_login(settings, request_token, query)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_closed_port_is_unreachable_quickly() -> None:
    settings = OAuthSettings(CONSUMER.key, CONSUMER.secret,
                             f"http://127.0.0.1:{closed_port()}/w/index.php", UA, timeout=2)
    started = time.monotonic()
    with pytest.raises(WikiUnreachable):
        start_login(settings, None)
    with pytest.raises(WikiUnreachable):
        finish_login(settings, {"key": "a" * 32, "secret": "b" * 32},
                     f"oauth_verifier={'c' * 32}&oauth_token={'a' * 32}")
    assert time.monotonic() - started < 1


def test_silent_wiki_times_out() -> None:
    with socket.socket() as listener:  # accepts connections, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        settings = OAuthSettings(CONSUMER.key, CONSUMER.secret,
                                 f"http://127.0.0.1:{listener.getsockname()[1]}/w/index.php", UA,
                                 timeout=0.3)
        started = time.monotonic()
        with pytest.raises(WikiUnreachable):
            start_login(settings, None)
        assert time.monotonic() - started < 2


def test_wiki_answering_with_an_http_error_is_unreachable(wiki: RunningProvider) -> None:
    settings = OAuthSettings(CONSUMER.key, CONSUMER.secret, wiki.server_url + "/nowhere", UA)
    with pytest.raises(WikiUnreachable):
        start_login(settings, None)


# ----- verify_identity_jwt on hand-made tokens --------------------------------

SETTINGS = OAuthSettings(CONSUMER.key, CONSUMER.secret, "https://meta.wikimedia.org/w/index.php", UA)
NONCE = "123456789012345678901234"


def claims(**changes) -> dict:
    now = int(time.time())
    base = {"iss": "https://meta.wikimedia.org", "sub": 4242, "aud": CONSUMER.key,
            "exp": now + 100, "iat": now, "nonce": NONCE, "username": "Alice Ö",
            "editcount": 1234, "confirmed_email": True, "blocked": False,
            "registered": "20150304050607", "groups": ["*", "user", "autoconfirmed"],
            "rights": ["read"], "grants": ["mwoauth-authonly"]}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


def verify(payload: dict, secret: str = CONSUMER.secret, nonce: str = NONCE,
           guard: InMemoryReplayGuard | None = None) -> Identity:
    token = jwt.encode(payload, secret, algorithm="HS256")
    return verify_identity_jwt(SETTINGS, token, expected_nonce=nonce,
                               replay_guard=guard or InMemoryReplayGuard())


@pytest.mark.parametrize(("sub", "central_id"), [(4242, 4242), ("4242", 4242), (1, 1),
                                                 ("9007199254740993", 9007199254740993)])
def test_sub_number_or_digit_string(sub, central_id) -> None:
    assert verify(claims(sub=sub)).central_id == central_id


@pytest.mark.parametrize("sub", [0, "0", -5, "-5", "0042", "42a", "", 4.5, True, None, ..., ["1"]])
def test_sub_that_is_not_a_central_id_is_refused(sub) -> None:
    with pytest.raises(InvalidIdentity):
        verify(claims(sub=sub))


@pytest.mark.parametrize("payload", [
    claims(iss="https://en.wikipedia.org"),
    claims(iss="https://meta.wikimedia.org.evil.example"),
    claims(iss=...),
    claims(aud="f" * 32),
    claims(aud=[CONSUMER.key, "f" * 32]),
    claims(aud=...),
    claims(exp=int(time.time()) - 11),
    claims(exp=...),
    # Built at collection: far enough ahead to still be "in the future" after a long suite.
    claims(iat=int(time.time()) + 3600, exp=int(time.time()) + 7200),
    claims(iat=...),
    claims(nonce="other-nonce-000000000000"),
    claims(nonce=...),
    claims(username=...),
    claims(username=""),
    claims(registered="2015-03-04"),
    claims(groups="sysop"),
    claims(blocked="no"),
    claims(editcount="12"),
], ids=["other-wiki-issuer", "look-alike-issuer", "no-issuer", "other-audience",
        "several-audiences", "no-audience", "expired", "no-expiry", "issued-in-future", "no-iat",
        "other-nonce", "no-nonce", "no-username", "empty-username", "bad-registered",
        "groups-not-list", "blocked-not-bool", "editcount-not-int"])
def test_invalid_claims_are_refused(payload: dict) -> None:
    with pytest.raises(InvalidIdentity):
        verify(payload)


def test_issuer_compares_hosts_like_mwoauth() -> None:
    assert verify(claims(iss="http://meta.wikimedia.org")).username == "Alice Ö"


def test_leeway_applies_to_expiry_and_issue_time() -> None:
    now = int(time.time())
    assert verify(claims(iat=now + 5, exp=now - 5)) == ALICE_IDENTITY


def test_registered_may_be_null_for_old_accounts() -> None:
    assert verify(claims(registered=None)).registered is None


def test_wrong_secret_is_refused() -> None:
    with pytest.raises(InvalidIdentity):
        verify(claims(), secret="another-consumer-secret-0000000000")


def test_same_jwt_is_accepted_once() -> None:
    guard = InMemoryReplayGuard()
    token = jwt.encode(claims(), CONSUMER.secret, algorithm="HS256")
    verify_identity_jwt(SETTINGS, token, expected_nonce=NONCE, replay_guard=guard)
    with pytest.raises(InvalidIdentity, match="already used"):
        verify_identity_jwt(SETTINGS, token, expected_nonce=NONCE, replay_guard=guard)


def test_replay_guard_forgets_after_expiry() -> None:
    guard = InMemoryReplayGuard()
    assert guard.first_use("k", time.time() - 1)
    assert guard.first_use("k", time.time() + 60)
    assert not guard.first_use("k", time.time() + 60)


def test_finish_login_records_the_jwt_in_the_replay_guard(wiki: RunningProvider) -> None:
    class RecordingGuard(InMemoryReplayGuard):
        keys: list[str] = []

        def first_use(self, key: str, expires_at: float) -> bool:
            self.keys.append(key)
            assert time.time() < expires_at <= time.time() + 100 + SETTINGS.leeway + 1
            return super().first_use(key, expires_at)

    settings = settings_for(wiki)
    redirect, request_token = start_login(settings, None)
    finish_login(settings, request_token, allow(redirect), replay_guard=RecordingGuard())
    assert len(RecordingGuard.keys) == 1 and RecordingGuard.keys[0].startswith(wiki.server_url + "|")


# ----- Identity in the session -----------------------------------------------

def test_identity_session_round_trip() -> None:
    stored = json.loads(json.dumps(ALICE_IDENTITY.to_session()))
    assert Identity.from_session(stored) == ALICE_IDENTITY


@pytest.mark.parametrize("change", [{"central_id": "x"}, {"username": None}, {"groups": "sysop"},
                                    {"blocked": "false"}])
def test_altered_session_identity_is_refused(change: dict) -> None:
    with pytest.raises(ValueError):
        Identity.from_session({**ALICE_IDENTITY.to_session(), **change})


def test_missing_session_field_is_refused() -> None:
    data = ALICE_IDENTITY.to_session()
    del data["central_id"]
    with pytest.raises(ValueError):
        Identity.from_session(data)


# ----- every error code has its message -------------------------------------

I18N = pathlib.Path(__file__).resolve().parent.parent / "i18n"


@pytest.mark.parametrize("error", [LoginDenied, ExpiredRequestToken, WikiUnreachable,
                                   MismatchedCallback, InvalidIdentity, ProviderError])
def test_every_error_code_has_a_documented_message(error: type[LoginError]) -> None:
    key = error("detail").message_key
    assert key == f"reporting-login-error-{error.code}"
    for name in ("en.json", "qqq.json"):
        assert key in json.loads((I18N / name).read_text(encoding="utf-8"))
