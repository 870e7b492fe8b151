"""Wikimedia OAuth 1.0a login: start, finish, and a verified identity.

The protocol is mwoauth's (same endpoints, same parameters, its token types and
its parsing of the request-token answer), with three differences that make it
safe to run in production:

- Every request has a timeout and follows no redirect. mwoauth calls
  ``requests.post`` without a timeout, so an unresponsive wiki would hang a
  web worker forever.
- The identify JWT is verified here. ``mwoauth.identify`` 0.4.0 fails on every
  login with PyJWT >= 2.10, because MediaWiki sends ``sub`` as a JSON number
  and PyJWT now refuses a non-string subject (python-mwoauth issue #51). We
  call PyJWT with only that subject check turned off, check ``sub`` ourselves
  (a positive integer, as a number or a digit string), and keep every check
  mwoauth makes: HS256 signature with the consumer secret, audience = consumer
  key, issuer host = the wiki's host, ``iat`` not in the future and ``exp`` not
  past (with leeway), nonce = the identify request's ``oauth_nonce``. On top,
  a JWT is accepted only once (replay guard).
- Failures become a few ``LoginError`` subclasses whose ``code`` names the
  message ``reporting-login-error-<code>`` the view shows.
"""
from __future__ import annotations

import dataclasses
import hmac
import logging
import re
import threading
import time
from typing import Any, ClassVar, Protocol
from urllib.parse import parse_qs, urlencode, urlparse

import jwt
import requests
from mwoauth.errors import OAuthException
from mwoauth.functions import process_request_token
from mwoauth.tokens import AccessToken, RequestToken
from oauthlib.oauth1.rfc5849.utils import parse_authorization_header
from requests_oauthlib import OAuth1

logger = logging.getLogger(__name__)

_MEDIAWIKI_TIMESTAMP = re.compile(r"^[0-9]{14}$")
_DIGITS = re.compile(r"^[1-9][0-9]{0,18}$")


@dataclasses.dataclass(frozen=True)
class OAuthSettings:
    """A registered consumer and the wiki it is registered on.

    ``index_url`` is the wiki's ``index.php`` (e.g.
    ``https://meta.wikimedia.org/w/index.php``); its host is also the issuer
    the identify JWT must name. ``user_agent`` must follow Wikimedia's policy
    (tool name, version, contact).
    """

    consumer_key: str
    consumer_secret: str
    index_url: str
    user_agent: str
    timeout: float = 10.0
    leeway: float = 10.0


class LoginError(Exception):
    """A login that cannot continue. ``code`` selects the message
    ``reporting-login-error-<code>``; ``str(error)`` is for logs only."""

    code: ClassVar[str] = "invalid-identity"

    @property
    def message_key(self) -> str:
        return f"reporting-login-error-{self.code}"


class LoginDenied(LoginError):
    """The user did not allow the tool (the callback carries no verifier)."""

    code = "denied"


class ExpiredRequestToken(LoginError):
    """The wiki no longer accepts the request token: it expired, was already
    used, or the verifier does not belong to it. Starting again fixes it."""

    code = "expired-request-token"


class WikiUnreachable(LoginError):
    """No usable answer from the wiki: connection refused, timeout, HTTP error."""

    code = "wiki-unreachable"


class MismatchedCallback(LoginError):
    """The callback does not belong to the login this session started
    (another tab, an old link, or no login in progress)."""

    code = "mismatched-callback"


class InvalidIdentity(LoginError):
    """The identify answer failed verification or lacks a usable identity."""

    code = "invalid-identity"


class ProviderError(LoginError):
    """The wiki refused to start a login: in practice a misconfigured consumer
    (wrong key or secret, callback not registered, clock skew)."""

    code = "provider-error"


@dataclasses.dataclass(frozen=True)
class Identity:
    """The only facts about a user the tool keeps (from the identify JWT)."""

    username: str
    central_id: int
    blocked: bool
    editcount: int
    registered: str | None
    confirmed_email: bool
    groups: tuple[str, ...]

    def to_session(self) -> dict[str, Any]:
        """A JSON-serializable dict for the session cookie."""
        return {**dataclasses.asdict(self), "groups": list(self.groups)}

    @classmethod
    def from_session(cls, data: dict[str, Any]) -> Identity:
        """Rebuild an identity from ``to_session()``'s output.

        Raises ``ValueError`` on anything else, so a stale or altered session
        is treated as logged out rather than trusted.
        """
        try:
            return _identity_from_claims({**data, "sub": data["central_id"]})
        except (KeyError, TypeError, InvalidIdentity) as error:
            raise ValueError(f"not a stored identity: {error}") from None


class ReplayGuard(Protocol):
    def first_use(self, key: str, expires_at: float) -> bool:
        """Record ``key`` until ``expires_at``; False if it was already recorded."""


class InMemoryReplayGuard:
    """Per-process record of accepted JWTs, kept for their validity window.

    The nonce check already binds a JWT to one identify request of ours; this
    refuses the same JWT a second time even if that binding were bypassed.
    """

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def first_use(self, key: str, expires_at: float) -> bool:
        now = time.time()
        with self._lock:
            for old in [k for k, expiry in self._seen.items() if expiry < now]:
                del self._seen[old]
            if key in self._seen:
                return False
            self._seen[key] = expires_at
            return True


_default_replay_guard = InMemoryReplayGuard()


def start_login(settings: OAuthSettings, callback_url: str | None) -> tuple[str, dict[str, str]]:
    """Ask the wiki for a request token; return where to send the user and the
    token to keep in the session (a plain dict, for ``finish_login``).

    ``callback_url`` None sends ``oob``: the wiki then uses the callback
    registered with the consumer.
    """
    auth = OAuth1(settings.consumer_key, client_secret=settings.consumer_secret,
                  callback_uri=callback_url or "oob")
    response = _post(settings, "Special:OAuth/initiate", auth)
    try:
        token = process_request_token(response.text)
    except OAuthException as error:
        raise ProviderError(f"initiate refused: {error}") from None
    redirect = settings.index_url + "?" + urlencode({
        "title": "Special:OAuth/authenticate",
        "oauth_token": token.key,
        "oauth_consumer_key": settings.consumer_key,
    })
    return redirect, {"key": token.key, "secret": token.secret}


def finish_login(settings: OAuthSettings, request_token: dict[str, str] | None,
                 query_string: str | bytes, *,
                 replay_guard: ReplayGuard | None = None) -> Identity:
    """Complete the handshake from the callback's query string and identify
    the user. ``request_token`` is what ``start_login`` returned (None if the
    session has none). Callers MUST drop the request token from the session
    whatever the outcome: it is single-use.
    """
    if isinstance(query_string, bytes):
        query_string = query_string.decode("utf-8", "replace")
    callback = parse_qs(query_string)
    if "oauth_verifier" not in callback:
        raise LoginDenied("callback without oauth_verifier")
    if (not request_token or "key" not in request_token or "secret" not in request_token
            or callback.get("oauth_token", [""])[0] != request_token["key"]):
        raise MismatchedCallback("callback token does not match the session's request token")
    token = RequestToken(request_token["key"], request_token["secret"])
    access = _exchange_for_access_token(settings, token, callback["oauth_verifier"][0])
    return _identify(settings, access, replay_guard or _default_replay_guard)


def _post(settings: OAuthSettings, title: str, auth: OAuth1) -> requests.Response:
    try:
        response = requests.post(settings.index_url, params={"title": title}, auth=auth,
                                 headers={"User-Agent": settings.user_agent},
                                 timeout=settings.timeout, allow_redirects=False)
    except requests.RequestException as error:
        raise WikiUnreachable(f"{title}: {type(error).__name__}") from None
    if response.status_code != 200:
        raise WikiUnreachable(f"{title}: HTTP {response.status_code}")
    return response


def _exchange_for_access_token(settings: OAuthSettings, token: RequestToken,
                               verifier: str) -> AccessToken:
    auth = OAuth1(settings.consumer_key, client_secret=settings.consumer_secret,
                  resource_owner_key=token.key, resource_owner_secret=token.secret,
                  verifier=verifier)
    response = _post(settings, "Special:OAuth/token", auth)
    if response.text.startswith("Error: "):
        # MediaWiki words an unknown, expired or used request token and a
        # wrong verifier alike; for the user all mean "start again".
        logger.info("OAuth token step refused: %s", response.text[:200])
        raise ExpiredRequestToken(response.text[:200])
    credentials = parse_qs(response.text)
    if "oauth_token" not in credentials or "oauth_token_secret" not in credentials:
        raise ProviderError(f"unexpected token answer: {response.text[:100]!r}")
    return AccessToken(credentials["oauth_token"][0], credentials["oauth_token_secret"][0])


def _identify(settings: OAuthSettings, access: AccessToken,
              replay_guard: ReplayGuard) -> Identity:
    auth = OAuth1(settings.consumer_key, client_secret=settings.consumer_secret,
                  resource_owner_key=access.key, resource_owner_secret=access.secret)
    response = _post(settings, "Special:OAuth/identify", auth)
    sent = dict(parse_authorization_header(_text(response.request.headers["Authorization"])))
    return verify_identity_jwt(settings, response.content, expected_nonce=sent["oauth_nonce"],
                               replay_guard=replay_guard)


def verify_identity_jwt(settings: OAuthSettings, token: bytes | str, *, expected_nonce: str,
                        replay_guard: ReplayGuard) -> Identity:
    """Verify an identify JWT as described in the module docstring and return
    the identity it carries. Raises ``InvalidIdentity`` on any failure."""
    try:
        claims = jwt.decode(
            token, settings.consumer_secret, algorithms=["HS256"],
            audience=settings.consumer_key, leeway=settings.leeway,
            options={
                "verify_sub": False,  # a number is MediaWiki's format; checked below
                "strict_aud": True,
                "require": ["iss", "aud", "iat", "exp", "nonce", "sub", "username"],
            })
    except jwt.InvalidTokenError as error:
        raise InvalidIdentity(f"JWT refused: {error}") from None
    issuer = claims["iss"]
    if not isinstance(issuer, str) or urlparse(issuer).netloc != urlparse(settings.index_url).netloc:
        raise InvalidIdentity(f"unexpected issuer {issuer!r}")
    nonce = claims["nonce"]
    if not isinstance(nonce, str) or not hmac.compare_digest(nonce, expected_nonce):
        raise InvalidIdentity("nonce does not match the identify request")
    identity = _identity_from_claims(claims)
    if not replay_guard.first_use(f"{issuer}|{claims['iat']}|{nonce}",
                                  float(claims["exp"]) + settings.leeway):
        raise InvalidIdentity("identify JWT already used")
    return identity


def _identity_from_claims(claims: dict[str, Any]) -> Identity:
    sub = claims["sub"]
    if isinstance(sub, int) and not isinstance(sub, bool) and sub > 0:
        central_id = sub
    elif isinstance(sub, str) and _DIGITS.match(sub):
        central_id = int(sub)
    else:
        raise InvalidIdentity(f"sub is not a central user id: {sub!r}")
    username = claims["username"]
    registered = claims.get("registered")
    groups = claims.get("groups", [])
    editcount = claims.get("editcount", 0)
    if (not isinstance(username, str) or not username
            or not (registered is None or (isinstance(registered, str)
                                           and _MEDIAWIKI_TIMESTAMP.match(registered)))
            or not isinstance(groups, (list, tuple)) or not all(isinstance(g, str) for g in groups)
            or not isinstance(editcount, int) or isinstance(editcount, bool)
            or not isinstance(claims.get("blocked", False), bool)
            or not isinstance(claims.get("confirmed_email", False), bool)):
        raise InvalidIdentity("identity claims have unexpected types")
    return Identity(
        username=username,
        central_id=central_id,
        blocked=claims.get("blocked", False),
        editcount=editcount,
        registered=registered,
        confirmed_email=claims.get("confirmed_email", False),
        groups=tuple(groups),
    )


def _text(value: str | bytes) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value
