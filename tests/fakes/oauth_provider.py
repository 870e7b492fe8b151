"""A local OAuth 1.0a provider that behaves like MediaWiki's Special:OAuth.

Wikimedia's provider (Extension:OAuth) cannot run offline, so tests talk to this
server instead. It implements the protocol strictly rather than accepting
anything: HMAC-SHA1 signatures, timestamps and nonces are checked by oauthlib's
server side (no signature code of our own), request tokens expire and are
single-use, verifiers must match, and unknown tokens are refused.

What it mirrors from MediaWiki (index.php?title=Special:OAuth/<step>):

- ``initiate`` (POST, signed, ``oauth_callback``): ``oob`` means "use the
  consumer's registered callback"; any other callback is refused unless the
  consumer was registered with "callback is a prefix" and it starts with the
  registered one. Answers ``oauth_token=..&oauth_token_secret=..&
  oauth_callback_confirmed=true``.
- ``authorize`` / ``authenticate`` (GET, the user's browser): a small page with
  Allow and Cancel buttons for the logged-in user. Allow redirects to the
  callback with ``oauth_verifier`` and ``oauth_token``; Cancel shows a
  "cancelled" page and does not return to the consumer (MediaWiki's
  OAuth 1.0a form behaves that way; mwoauth expects nothing on denial).
  ``authenticate`` skips the page when the user already approved the consumer.
- ``token`` (POST, signed with the request token and verifier): the access
  token. MediaWiki keeps one access token per user and consumer; so does this.
- ``identify`` (POST, signed with the access token): a JWT signed HS256 with
  the consumer secret carrying MediaWiki's claims, ``nonce`` being the
  identify request's ``oauth_nonce``.

Errors: like MediaWiki, protocol errors answer HTTP 200 with a plain-text body
``Error: <message>`` (identify: a JSON object ``{"error", "message"}``), and
browser-facing errors are HTML pages. mwoauth notes that Special:OAuth/identify
"returns 200 status even when there is an error".

Which user is "logged in" at the authorize page: the ``fake_oauth_user``
cookie (set by ``/fake-login?user=Name``), else the provider's
``logged_in_user`` attribute (tests may change it at any time).

Test hooks: ``tamper_next_identify(kind)`` makes the next identify answer a
forged, expired, wrong-audience, wrong-issuer, wrong-nonce, future, replayed
(the previous JWT again) or subject-less JWT; ``advance_clock(seconds)`` ages
tokens; ``sub_as_string`` sends ``sub`` as a JSON string instead of a number.
"""
from __future__ import annotations

import contextlib
import dataclasses
import html
import json
import re
import secrets
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import jwt
import requests
from oauthlib.oauth1 import (
    AccessTokenEndpoint,
    RequestTokenEndpoint,
    RequestValidator,
    ResourceEndpoint,
)
from oauthlib.oauth1.rfc5849 import errors as oauth_errors
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

TAMPER_KINDS = frozenset({
    "forged-signature",   # signed with a secret that is not the consumer's
    "wrong-audience",     # aud is another consumer key
    "wrong-issuer",       # iss is another server
    "expired",            # exp (and iat) well in the past
    "issued-in-future",   # iat far ahead of now
    "wrong-nonce",        # nonce differs from the request's oauth_nonce
    "replay-previous",    # the JWT issued by the previous identify, verbatim
    "missing-sub",        # no sub claim at all
    "alg-none",           # unsigned JWT ("alg": "none")
})


@dataclasses.dataclass(frozen=True)
class FakeConsumer:
    key: str
    secret: str
    callback: str
    callback_is_prefix: bool = False
    name: str = "Incident reporting"


@dataclasses.dataclass(frozen=True)
class FakeUser:
    username: str
    central_id: int
    groups: tuple[str, ...] = ("*", "user", "autoconfirmed")
    blocked: bool = False
    editcount: int = 0
    registered: str | None = "20200101000000"
    confirmed_email: bool = True
    rights: tuple[str, ...] = ("read", "edit")


@dataclasses.dataclass
class _RequestToken:
    consumer_key: str
    key: str
    secret: str
    callback: str
    created: float
    username: str | None = None
    verifier: str | None = None
    used: bool = False


@dataclasses.dataclass
class _AccessToken:
    consumer_key: str
    key: str
    secret: str
    username: str


def _new_token() -> str:
    """32 hex characters, the shape of MediaWiki's keys, tokens and verifiers."""
    return secrets.token_hex(16)


class _Validator(RequestValidator):
    """oauthlib's view of the provider's state; all checks of signatures,
    timestamps and mandatory parameters are oauthlib's own."""

    def __init__(self, provider: FakeOAuthProvider) -> None:
        super().__init__()
        self.provider = provider

    enforce_ssl = False  # the test server speaks plain HTTP on 127.0.0.1
    allowed_signature_methods = ("HMAC-SHA1",)
    client_key_length = (16, 64)
    request_token_length = (16, 64)
    access_token_length = (16, 64)
    verifier_length = (16, 64)
    nonce_length = (8, 128)

    @property
    def timestamp_lifetime(self) -> int:  # type: ignore[override]
        return self.provider.timestamp_lifetime

    # Dummies keep timing uniform for unknown clients/tokens (oauthlib's design).
    dummy_client = "dummyclient0000000000000"
    dummy_request_token = "dummyrequesttoken0000000"
    dummy_access_token = "dummyaccesstoken00000000"

    def get_default_realms(self, client_key, request):
        return []

    def validate_requested_realms(self, client_key, realms, request):
        return True

    def validate_realms(self, client_key, token, request, uri=None, realms=None):
        return True

    def validate_client_key(self, client_key, request):
        return client_key in self.provider.consumers

    def get_client_secret(self, client_key, request):
        consumer = self.provider.consumers.get(client_key)
        return consumer.secret if consumer else "dummy-secret"

    def validate_timestamp_and_nonce(self, client_key, timestamp, nonce, request,
                                     request_token=None, access_token=None):
        key = (client_key, timestamp, nonce, request_token or access_token or "")
        with self.provider._lock:
            if key in self.provider._used_nonces:
                request.fake_nonce_reused = True
                return False
            self.provider._used_nonces.add(key)
        return True

    def validate_redirect_uri(self, client_key, redirect_uri, request):
        consumer = self.provider.consumers.get(client_key)
        if consumer is None:
            return True  # the unknown client is reported instead
        if redirect_uri == "oob":
            return True
        return consumer.callback_is_prefix and redirect_uri.startswith(consumer.callback)

    def save_request_token(self, token, request):
        with self.provider._lock:
            self.provider._request_tokens[token["oauth_token"]] = _RequestToken(
                consumer_key=request.client_key,
                key=token["oauth_token"],
                secret=token["oauth_token_secret"],
                callback=request.redirect_uri,
                created=self.provider.now(),
            )

    def _live_request_token(self, client_key, token) -> _RequestToken | None:
        found = self.provider._request_tokens.get(token)
        if (found is None or found.used or found.consumer_key != client_key
                or self.provider.now() - found.created > self.provider.request_token_ttl):
            return None
        return found

    def validate_request_token(self, client_key, token, request):
        return self._live_request_token(client_key, token) is not None

    def get_request_token_secret(self, client_key, token, request):
        found = self._live_request_token(client_key, token)
        return found.secret if found else "dummy-secret"

    def validate_verifier(self, client_key, token, verifier, request):
        found = self._live_request_token(client_key, token)
        if found is None or found.verifier is None:
            return False
        request.fake_username = found.username
        return secrets.compare_digest(found.verifier, verifier)

    def invalidate_request_token(self, client_key, request_token, request):
        with self.provider._lock:
            found = self.provider._request_tokens.get(request_token)
            if found is not None:
                found.used = True

    def get_realms(self, token, request):
        return []

    def save_access_token(self, token, request):
        # MediaWiki answers with the acceptance's stored token; the endpoint
        # already generated one, which we only keep for a first acceptance.
        pass

    def validate_access_token(self, client_key, token, request):
        found = self.provider._access_tokens.get(token)
        return found is not None and found.consumer_key == client_key

    def get_access_token_secret(self, client_key, token, request):
        found = self.provider._access_tokens.get(token)
        return found.secret if found and found.consumer_key == client_key else "dummy-secret"


class _AccessTokenEndpoint(AccessTokenEndpoint):
    """Answers with the user's existing access token for the consumer, as
    MediaWiki does, instead of a fresh pair each time."""

    def __init__(self, validator: _Validator) -> None:
        super().__init__(validator)
        self.provider = validator.provider

    def create_access_token(self, request, credentials):
        token = self.provider._access_token_for(request.client_key, request.fake_username)
        return urlencode([("oauth_token", token.key), ("oauth_token_secret", token.secret)])


class FakeOAuthProvider:
    """State and WSGI application of the fake Special:OAuth.

    ``server_url`` is the value MediaWiki calls $wgCanonicalServer and sends as
    the JWT's ``iss``; ``running_oauth_provider`` sets it to the bound address.
    """

    def __init__(
        self,
        consumers: Iterable[FakeConsumer],
        users: Iterable[FakeUser],
        *,
        logged_in_user: str | None = None,
        request_token_ttl: float = 600.0,
        jwt_ttl: int = 100,
        timestamp_lifetime: int = 300,
        sub_as_string: bool = False,
        server_url: str = "http://127.0.0.1",
    ) -> None:
        self.consumers = {c.key: c for c in consumers}
        self.users = {u.username: u for u in users}
        self.logged_in_user = logged_in_user
        self.request_token_ttl = request_token_ttl
        self.jwt_ttl = jwt_ttl
        self.timestamp_lifetime = timestamp_lifetime
        self.sub_as_string = sub_as_string
        self.server_url = server_url
        self.requests_seen: list[dict[str, str]] = []
        self._lock = threading.RLock()
        self._clock_offset = 0.0
        self._used_nonces: set[tuple[str, str, str, str]] = set()
        self._request_tokens: dict[str, _RequestToken] = {}
        self._access_tokens: dict[str, _AccessToken] = {}
        self._approvals: set[tuple[str, str]] = set()
        self._form_tokens: dict[str, str] = {}
        self._tamper: str | None = None
        self._last_jwt: str | None = None
        validator = _Validator(self)
        self._initiate_endpoint = RequestTokenEndpoint(validator, token_generator=_new_token)
        self._token_endpoint = _AccessTokenEndpoint(validator)
        self._resource_endpoint = ResourceEndpoint(validator)

    # ----- test hooks -------------------------------------------------------

    def now(self) -> float:
        return time.time() + self._clock_offset

    def advance_clock(self, seconds: float) -> None:
        """Age stored request tokens by ``seconds`` (they expire after
        ``request_token_ttl``). Does not move the OAuth timestamp window nor
        the JWT's iat/exp; use ``tamper_next_identify`` for those."""
        self._clock_offset += seconds

    def tamper_next_identify(self, kind: str) -> None:
        if kind not in TAMPER_KINDS:
            raise ValueError(f"unknown tamper kind {kind!r}")
        self._tamper = kind

    def issued_request_tokens(self) -> list[str]:
        return list(self._request_tokens)

    # ----- WSGI -------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        response = self._dispatch(request)
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        self.requests_seen.append({
            "method": request.method,
            "path": request.path,
            "title": request.args.get("title", ""),
            "user_agent": request.headers.get("User-Agent", ""),
        })
        if request.path == "/fake-login":
            return self._fake_login(request)
        if request.path != "/w/index.php":
            return Response("Not found", status=404)
        title = request.args.get("title", "")
        if not title.startswith("Special:OAuth/"):
            return Response("Not found", status=404)
        step = title[len("Special:OAuth/"):]
        if step in ("authorize", "authenticate"):
            return self._authorize(request, authenticate=step == "authenticate")
        if step == "initiate":
            return self._handle_initiate(request)
        if step == "token":
            return self._handle_token(request)
        if step == "identify":
            return self._handle_identify(request)
        return _raw_error(f"Invalid action: {step}")

    @staticmethod
    def _oauth_args(request: Request) -> tuple[str, str, str, dict[str, str]]:
        # The signature base string is built from the URL as the client sent it.
        uri = urlunsplit((request.scheme, request.host, request.environ.get("PATH_INFO", ""),
                          request.environ.get("QUERY_STRING", ""), ""))
        return uri, request.method, request.get_data(as_text=True), dict(request.headers)

    # oauthlib's public *_response methods drop the reason of a refusal, which
    # MediaWiki reports; so the validate_* steps are called one by one.

    def _handle_initiate(self, request: Request) -> Response:
        endpoint = self._initiate_endpoint
        try:
            oauth_request = endpoint._create_request(*self._oauth_args(request))
            valid, oauth_request = endpoint.validate_request_token_request(oauth_request)
        except oauth_errors.OAuth1Error as error:
            return _raw_error(_mediawiki_protocol_message(error.description))
        if not valid:
            return _raw_error(_failure_message(oauth_request, callback_check=True))
        return Response(endpoint.create_request_token(oauth_request, {}),
                        content_type="text/plain; charset=UTF-8")

    def _handle_token(self, request: Request) -> Response:
        endpoint = self._token_endpoint
        try:
            oauth_request = endpoint._create_request(*self._oauth_args(request))
            valid, oauth_request = endpoint.validate_access_token_request(oauth_request)
        except oauth_errors.OAuth1Error as error:
            return _raw_error(_mediawiki_protocol_message(error.description))
        if not valid:
            return _raw_error(_failure_message(oauth_request))
        token = endpoint.create_access_token(oauth_request, {})
        endpoint.request_validator.invalidate_request_token(
            oauth_request.client_key, oauth_request.resource_owner_key, oauth_request)
        return Response(token, content_type="text/plain; charset=UTF-8")

    def _handle_identify(self, request: Request) -> Response:
        valid, oauth_request = self._resource_endpoint.validate_protected_resource_request(
            *self._oauth_args(request))
        if not valid:
            reason = "Invalid signature"
            if oauth_request is None:
                reason = "Missing mandatory OAuth parameters"
            elif getattr(oauth_request, "fake_nonce_reused", False):
                reason = f"Nonce already used: {oauth_request.nonce}"
            elif oauth_request.validator_log.get("resource_owner") is False:
                reason = "Invalid access token"
            elif oauth_request.validator_log.get("client") is False:
                reason = "Invalid consumer"
            return _json_error("mwoauth-invalid-authorization",
                               f"The authorization headers in your request are not valid: {reason}")
        access = self._access_tokens[oauth_request.resource_owner_key]
        consumer = self.consumers[access.consumer_key]
        user = self.users[access.username]
        token = self._identify_jwt(consumer, user, oauth_request.nonce)
        return Response(token, content_type="application/json; charset=UTF-8")

    def _identify_jwt(self, consumer: FakeConsumer, user: FakeUser, nonce: str) -> str:
        now = int(time.time())  # the real clock: advance_clock only ages stored tokens
        claims: dict[str, Any] = {
            "iss": self.server_url,
            "sub": str(user.central_id) if self.sub_as_string else user.central_id,
            "aud": consumer.key,
            "exp": now + self.jwt_ttl,
            "iat": now,
            "nonce": nonce,
            "username": user.username,
            "editcount": user.editcount,
            "confirmed_email": user.confirmed_email,
            "blocked": user.blocked,
            "registered": user.registered,
            "groups": list(user.groups),
            "rights": list(user.rights),
            "grants": ["mwoauth-authonly"],
        }
        secret = consumer.secret
        algorithm = "HS256"
        with self._lock:
            tamper, self._tamper = self._tamper, None
            previous = self._last_jwt
        if tamper == "replay-previous" and previous is not None:
            return previous
        if tamper == "forged-signature":
            secret = "not-the-consumer-secret-" + secrets.token_hex(8)
        elif tamper == "wrong-audience":
            claims["aud"] = "f" * 32
        elif tamper == "wrong-issuer":
            claims["iss"] = "https://evil.example.org"
        elif tamper == "expired":
            claims["iat"] = now - 3600
            claims["exp"] = now - 3600 + self.jwt_ttl
        elif tamper == "issued-in-future":
            claims["iat"] = now + 3600
            claims["exp"] = now + 3600 + self.jwt_ttl
        elif tamper == "wrong-nonce":
            claims["nonce"] = "0" * 30
        elif tamper == "missing-sub":
            del claims["sub"]
        elif tamper == "alg-none":
            algorithm = "none"
        token = jwt.encode(claims, secret if algorithm != "none" else None, algorithm=algorithm)
        with self._lock:
            self._last_jwt = token
        return token

    def _access_token_for(self, consumer_key: str, username: str) -> _AccessToken:
        with self._lock:
            for token in self._access_tokens.values():
                if token.consumer_key == consumer_key and token.username == username:
                    return token
            token = _AccessToken(consumer_key, _new_token(), _new_token(), username)
            self._access_tokens[token.key] = token
            return token

    # ----- the browser-facing authorization page ----------------------------

    def _current_user(self, request: Request) -> FakeUser | None:
        name = request.cookies.get("fake_oauth_user") or self.logged_in_user
        return self.users.get(name) if name else None

    def _fake_login(self, request: Request) -> Response:
        """Stand-in for Special:UserLogin: remember a user in a cookie."""
        name = request.args.get("user", "")
        if name not in self.users:
            return _html_page("Login error", "<p>No such user.</p>", status=400)
        next_url = request.args.get("next", "/")
        if not next_url.startswith("/") or next_url.startswith("//"):
            next_url = "/"
        response = Response(status=302, headers={"Location": next_url})
        response.set_cookie("fake_oauth_user", name, httponly=True)
        return response

    def _authorize(self, request: Request, *, authenticate: bool) -> Response:
        source = request.form if request.method == "POST" else request.args
        token_key = source.get("oauth_token", "")
        consumer_key = source.get("oauth_consumer_key", "")
        consumer = self.consumers.get(consumer_key)
        if consumer is None:
            return _html_error("mwoauth-invalid-consumer-key",
                               "No consumer exists with the given key.")
        with self._lock:
            token = self._request_tokens.get(token_key)
            valid = (token is not None and not token.used and token.verifier is None
                     and token.consumer_key == consumer_key
                     and self.now() - token.created <= self.request_token_ttl)
        if not valid:
            return _html_error("mwoauth-invalid-authorization-invalid-token",
                               "The request token is invalid or has expired.")
        user = self._current_user(request)
        if user is None:
            return _html_error("mwoauth-named-account-required",
                               "You must be logged in to authorize applications.")
        if request.method == "GET":
            if authenticate and (consumer.key, user.username) in self._approvals:
                return self._approve(token, consumer, user)
            return self._authorize_form(token, consumer, user)
        if not secrets.compare_digest(self._form_tokens.get(token.key, "-"),
                                      request.form.get("wpEditToken", "")):
            return _html_error("sessionfailure",
                               "There seems to be a problem with your login session.")
        if "accept" in request.form:
            return self._approve(token, consumer, user)
        if "cancel" in request.form:
            with self._lock:
                token.used = True
            return _html_page(
                "Authorization cancelled",
                f'<p id="mw-oauth-cancelled">You have chosen not to allow '
                f"{html.escape(consumer.name)} to access your account.</p>")
        return _html_error("mwoauth-bad-request", "Unknown form action.")

    def _authorize_form(self, token: _RequestToken, consumer: FakeConsumer,
                        user: FakeUser) -> Response:
        form_token = _new_token()
        with self._lock:
            self._form_tokens[token.key] = form_token
        hidden = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
            for name, value in (("oauth_token", token.key),
                                ("oauth_consumer_key", consumer.key),
                                ("wpEditToken", form_token)))
        body = (
            f'<p>Hi <bdi id="mw-oauth-user">{html.escape(user.username)}</bdi>, '
            f"{html.escape(consumer.name)} would like to verify your identity.</p>"
            '<form method="post" action="/w/index.php?title=Special:OAuth/authorize">'
            f"{hidden}"
            '<button type="submit" name="accept" value="1" id="mw-mwoauth-accept">Allow</button>'
            '<button type="submit" name="cancel" value="1" id="mw-mwoauth-cancel">Cancel</button>'
            "</form>")
        return _html_page("Connect to this application", body)

    def _approve(self, token: _RequestToken, consumer: FakeConsumer,
                 user: FakeUser) -> Response:
        with self._lock:
            token.username = user.username
            token.verifier = _new_token()
            self._approvals.add((consumer.key, user.username))
            self._form_tokens.pop(token.key, None)
        callback = consumer.callback if token.callback == "oob" else token.callback
        return Response(status=302, headers={"Location": _append_query(
            callback, [("oauth_verifier", token.verifier), ("oauth_token", token.key)])})


def _append_query(url: str, params: list[tuple[str, str]]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + params
    return urlunsplit(parts._replace(query=urlencode(query)))


def _mediawiki_protocol_message(description: str) -> str:
    return f"An error occurred in the OAuth protocol: {description}"


def _failure_message(oauth_request: Any, *, callback_check: bool = False) -> str:
    """MediaWiki's wording for the first failed check, in its order."""
    log = oauth_request.validator_log
    if getattr(oauth_request, "fake_nonce_reused", False):
        return _mediawiki_protocol_message(f"Nonce already used: {oauth_request.nonce}")
    if log.get("client") is False:
        return _mediawiki_protocol_message("Invalid consumer")
    if callback_check and log.get("callback") is False:
        return ('oauth_callback must be set, and must be set to "oob" (case-sensitive), '
                "or the configured callback must be a prefix of the supplied callback.")
    if log.get("resource_owner") is False:
        return _mediawiki_protocol_message("Invalid request token")
    if log.get("verifier") is False:
        return _mediawiki_protocol_message("Invalid verifier")
    return _mediawiki_protocol_message("Invalid signature")


def _raw_error(message: str) -> Response:
    return Response(f"Error: {message}", content_type="text/plain; charset=UTF-8")


def _json_error(code: str, message: str) -> Response:
    return Response(json.dumps({"error": code, "message": message}),
                    content_type="application/json; charset=UTF-8")


def _html_page(title: str, body_html: str, status: int = 200) -> Response:
    page = (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{html.escape(title)}"
            f"</title></head><body><h1>{html.escape(title)}</h1>{body_html}</body></html>")
    return Response(page, status=status, content_type="text/html; charset=UTF-8")


def _html_error(code: str, message: str) -> Response:
    return _html_page("OAuth authorization error",
                      f'<div class="errorbox" data-error="{html.escape(code)}">'
                      f"{html.escape(message)}</div>")


@dataclasses.dataclass(frozen=True)
class RunningProvider:
    provider: FakeOAuthProvider
    server_url: str

    @property
    def index_url(self) -> str:
        return self.server_url + "/w/index.php"


class _QuietRequestHandler(WSGIRequestHandler):
    """Keeps test output free of one access-log line per request."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@contextlib.contextmanager
def running_oauth_provider(consumers: Iterable[FakeConsumer], users: Iterable[FakeUser],
                           **options: Any) -> Iterator[RunningProvider]:
    """Serve a ``FakeOAuthProvider`` on 127.0.0.1:<free port> in a thread.

    Keyword options are those of ``FakeOAuthProvider``; ``server_url`` is
    always the bound address. The server is shut down on exit.
    """
    provider = FakeOAuthProvider(consumers, users, **options)
    server = make_server("127.0.0.1", 0, provider, threaded=True,
                         request_handler=_QuietRequestHandler)
    provider.server_url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="fake-oauth-provider", daemon=True)
    thread.start()
    try:
        yield RunningProvider(provider, provider.server_url)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def answer_authorization(redirect_url: str, *, button: str = "accept",
                         session: requests.Session | None = None) -> requests.Response:
    """Do what a user's browser does with the redirect from ``initiate``:
    open the authorize page and click Allow (``button="accept"``) or Cancel
    (``"cancel"``). Returns the wiki's answer without following its redirect,
    so ``Location`` is the consumer callback when the user allowed.

    Raises ``AssertionError`` when the page has no such button (an error page).
    """
    browser = session or requests.Session()
    page = browser.get(redirect_url, allow_redirects=False, timeout=5)
    if page.status_code == 302:
        return page  # authenticate: already approved, straight to the callback
    action = re.search(r'<form method="post" action="([^"]+)"', page.text)
    assert action and f'name="{button}"' in page.text, page.text
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    fields = {name: html.unescape(value) for name, value in fields.items()}
    fields[button] = "1"
    return browser.post(urljoin(redirect_url, html.unescape(action.group(1))), data=fields,
                        allow_redirects=False, timeout=5)
