"""Security as a feature: CSRF everywhere, headers, cookies, redirects."""
import re

import pytest
from werkzeug.datastructures import Headers

from reporting.identity.session import safe_returnto
from reporting.views.security import SecurityHeaders

from .conftest import login, make_app


def test_every_state_changing_route_requires_the_csrf_token(app):
    client = app.test_client()
    login(client, "Alice")
    posted = 0
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"GET", "HEAD", "OPTIONS"}:
            url = rule.rule.replace("<ref>", "IR-0000-0000-0000-0000")
            response = client.open(url, method=method, json={})
            assert response.status_code == 403, f"{method} {rule.rule} accepted a request without CSRF token"
            posted += 1
    assert posted >= 3


def test_wrong_csrf_token_is_refused_and_nothing_is_stored(alice):
    client, token = alice
    response = client.post("/api/v1/reports", json={"wiki": "en.wikipedia.org", "category": "harassment"},
                           headers={"X-CSRF-Token": token[:-1] + "x"})
    assert response.status_code == 403 and response.get_json()["errors"][0]["code"] == "csrf"
    assert client.get("/api/v1/reports").get_json() == {"reports": []}


def test_login_rotates_the_csrf_token(client):
    from .conftest import csrf_from
    before = csrf_from(client.get("/login").get_data(as_text=True))
    after = login(client, "Alice")
    assert before != after
    # A token from before login, however it was masked, is worthless after.
    stale = client.post("/api/v1/reports", json={"wiki": "en.wikipedia.org", "category": "harassment"},
                        headers={"X-CSRF-Token": before})
    assert stale.status_code == 403 and stale.get_json()["errors"][0]["code"] == "csrf"


def test_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


EVERYWHERE = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
              "Permissions-Policy": "camera=(), microphone=(), geolocation=()"}


def _stylesheet(client):
    return re.search(r'href="(/assets/[^"]+\.css)"', client.get("/").get_data(as_text=True)).group(1)


@pytest.mark.parametrize(("path", "document", "no_store"), [
    ("/", True, False),
    ("/privacy", True, False),
    ("/report", True, True),  # a redirect to the login, from a page that is never cached
    ("/login", True, True),
    ("/api/v1/me", True, True),  # JSON: a browser may open it as a document
    ("/no-such-page", True, False),  # the error page
    (_stylesheet, False, False),
])
def test_every_response_gets_the_headers_of_its_kind_once(client, path, document, no_store):
    """Documents get the policy and X-Frame-Options, subresources only what every response gets;
    each header once, and pages with tokens or report content are never cached."""
    response = client.get(path(client) if callable(path) else path)
    headers = response.headers
    for name, value in EVERYWHERE.items():
        assert headers.getlist(name) == [value]
    assert headers.getlist("X-Frame-Options") == (["DENY"] if document else [])
    assert len(headers.getlist("Content-Security-Policy")) == (1 if document else 0)
    assert "Strict-Transport-Security" not in headers  # local development: plain http
    if no_store:
        assert headers.getlist("Cache-Control") == ["no-store"]
    else:
        assert headers.get("Cache-Control") != "no-store"


def test_production_responses_demand_https(tmp_path):
    client = make_app(tmp_path, local_development=False, dev_login=False).test_client()
    assert client.get("/").headers.getlist("Strict-Transport-Security") == ["max-age=31536000"]


@pytest.mark.parametrize(("path", "content_type", "expected_policy", "expected_cache"), [
    ("/report/x", "text/html; charset=utf-8", "img-src 'none'", ["no-store"]),  # the view's policy kept
    ("//report", "text/html", "img-src 'none'", ["no-store"]),  # werkzeug routes it as /report
    ("/about", "text/html", "img-src 'none'", ["max-age=60"]),
    ("/queue", "TEXT/CSS", None, ["no-store"]),  # a subresource: no policy of its own
])
def test_the_middleware_keeps_a_views_policy_and_replaces_its_cache_control_where_never_cached(
        path, content_type, expected_policy, expected_cache):
    def inner(environ, start_response):
        headers = [("Content-Type", content_type), ("Cache-Control", "max-age=60")]
        if content_type.startswith("text/html"):
            headers.append(("Content-Security-Policy", "img-src 'none'"))
        start_response("200 OK", headers)
        return [b""]

    seen = {}
    SecurityHeaders(inner, list(EVERYWHERE.items()))(
        {"PATH_INFO": path}, lambda status, headers, exc_info=None: seen.setdefault("headers", headers))
    headers = Headers(seen["headers"])
    assert headers.getlist("Content-Security-Policy") == ([expected_policy] if expected_policy else [])
    assert headers.getlist("Cache-Control") == expected_cache


def test_pages_have_no_inline_script_or_style(alice):
    client, _ = alice
    for path in ("/", "/report", "/reports", "/login"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>" not in html and " style=" not in html and "<style" not in html


def test_session_cookie_flags_in_production_mode(tmp_path):
    # Production: no development login (it needs local development mode).
    app = make_app(tmp_path, local_development=False, dev_login=False)
    client = app.test_client()
    client.get("/?uselang=de")  # a choice the session keeps
    cookie = client.get_cookie("__Host-reporting_session")  # HTTPS only, this host only, path /
    assert cookie.http_only and cookie.secure and cookie.same_site == "Lax" and cookie.path == "/"
    assert "Strict-Transport-Security" in client.get("/").headers


def test_local_development_cookie_is_not_secure(client):
    client.get("/login")
    assert client.get_cookie("reporting_session").secure is False


def test_proxy_fix_trusts_toolforge_front_proxy(app):
    client = app.test_client()
    response = client.get("/report", headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "reports.toolforge.org"})
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("value, expected", [
    ("/report?wiki=en.wikipedia.org&diff=1", "/report?wiki=en.wikipedia.org&diff=1"),
    ("https://evil.example/", "/"), ("//evil.example/", "/"), ("/\\evil.example", "/"),
    ("javascript:alert(1)", "/"), ("/ok\r\nSet-Cookie: x=1", "/"), (None, "/"), ("", "/"),
])
def test_returnto_accepts_only_local_paths(value, expected):
    assert safe_returnto(value) == expected


def test_without_dev_login_or_oauth_login_explains_it_is_not_configured(tmp_path):
    app = make_app(tmp_path, dev_login=False)
    client = app.test_client()
    response = client.get("/login")
    assert response.status_code == 503
    assert "Logging in has not been set up" in response.get_data(as_text=True)
    # Nor can the development form be posted to, even with a valid CSRF token.
    import base64

    from reporting.views.security import SECRET_KEY, mask

    secret = bytes(range(32))
    with client.session_transaction() as session:
        session[SECRET_KEY] = base64.urlsafe_b64encode(secret).decode().rstrip("=")
    token = mask(secret)  # as a page would carry it
    assert client.post("/login", data={"username": "Mallory", "csrf_token": token}).status_code == 503
    assert client.get("/api/v1/me").status_code == 401


def test_logs_never_contain_report_content(alice, caplog):
    client, token = alice
    secret = "SECRET-CONTENT-ÄÖÜ-4711"
    with caplog.at_level("DEBUG"):
        client.post("/api/v1/reports", json={"wiki": "en.wikipedia.org", "category": "other",
                                             "description": secret, "reported_users": ["Secret User"],
                                             "evidence": ["https://en.wikipedia.org/wiki/Secret_Page"]},
                    headers={"X-CSRF-Token": token})
    assert caplog.records, "expected the delivery to be logged"
    for record in caplog.records:
        text = record.getMessage()
        assert secret not in text and "Secret User" not in text and "Secret_Page" not in text
