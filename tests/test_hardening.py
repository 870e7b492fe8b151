"""Hostile input and unsafe configuration are refused (issue: harden against misuse).

Each case here failed before its fix: weak secrets, a development login open
to anyone, deep JSON, world-readable files, private wikis before the first
sitematrix refresh, query strings in the development server's log.
"""
from __future__ import annotations

import base64
import logging
import os
import secrets
import stat

import pytest

from reporting import create_app
from reporting.config import ConfigError
from reporting.logs import RequestLineWithoutQuery, configure_logging
from reporting.storage.crypto import generate_key
from reporting.wiki.registry import WikiRegistry

from .conftest import csrf_from, make_app

STRONG = secrets.token_urlsafe(32)


def settings(tmp_path, **changes):
    return {"secret_key": STRONG, "encryption_key": generate_key(), "instance_path": str(tmp_path / "instance"),
            "dev_login": True, "local_development": True, **changes}


def raw_key(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


@pytest.mark.parametrize(("changes", "named"), [
    ({"secret_key": "a"}, r"secret_key \(TOOL_SECRET_KEY\) is too weak"),
    ({"secret_key": "x" * 64}, r"secret_key \(TOOL_SECRET_KEY\) is too weak"),
    ({"encryption_key": raw_key(bytes(32))}, r"encryption_key \(TOOL_ENCRYPTION_KEY\).*not random"),
    ({"encryption_key": generate_key()[:20] + "!!" + generate_key()[20:]}, r"TOOL_ENCRYPTION_KEY.*base64"),
    ({"encryption_key": generate_key() + "*"}, r"TOOL_ENCRYPTION_KEY.*base64"),
    ({"encryption_old_keys": [raw_key(b"\x01" * 32)]}, r"encryption_old_keys \(TOOL_ENCRYPTION_OLD_KEYS\)"),
    ({"session_lifetime_hours": 10_000_000}, r"session_lifetime_hours \(TOOL_SESSION_LIFETIME_HOURS\)"),
    ({"dev_login": False, "oauth.consumer_key": "k" * 32, "oauth.consumer_secret": "s" * 40,
      "oauth.index_url": "http://meta.wikimedia.org/w/index.php"}, r"oauth.index_url \(TOOL_OAUTH__INDEX_URL\).*https"),
    ({"oauth.meta_api_url": "http://meta.wikimedia.org/w/api.php"}, r"TOOL_OAUTH__META_API_URL.*https"),
    ({"local_development": False}, r"dev_login .* needs local_development"),
])
def test_unsafe_settings_are_refused_at_start_naming_the_setting(tmp_path, changes, named):
    with pytest.raises(ConfigError, match=named):
        create_app(overrides=settings(tmp_path, **changes), environ={})


def test_the_same_value_for_both_keys_is_refused(tmp_path):
    key = generate_key()
    with pytest.raises(ConfigError, match="must differ"):
        create_app(overrides=settings(tmp_path, secret_key=key, encryption_key=key), environ={})


def test_loopback_http_is_fine_for_a_test_wiki(tmp_path):
    create_app(overrides=settings(tmp_path, **{"oauth.meta_api_url": "http://127.0.0.1:8080/w/api.php"}), environ={})


def test_the_development_login_serves_only_this_machine(tmp_path):
    client = make_app(tmp_path).test_client()
    assert client.get("/login").status_code == 200
    remote = {"REMOTE_ADDR": "198.51.100.7"}
    assert client.get("/login", environ_base=remote).status_code == 404
    token = csrf_from(client.get("/login").get_data(as_text=True))
    # A forged X-Forwarded-For does not make a remote browser local.
    response = client.post("/login", data={"username": "Mallory", "csrf_token": token},
                           environ_base=remote, headers={"X-Forwarded-For": "127.0.0.1"})
    assert response.status_code == 404


@pytest.mark.parametrize("name", ["Ali\u202ece", "Bob\u200b", "Eve\x07", "Mal\u2066lory"])
def test_the_development_login_refuses_invisible_characters(tmp_path, name):
    client = make_app(tmp_path).test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"username": name, "csrf_token": token}).status_code == 422


def test_deeply_nested_json_is_a_bad_request_not_a_crash(tmp_path):
    from .conftest import login

    client = make_app(tmp_path).test_client()
    token = login(client)
    body = "[" * 30_000 + "]" * 30_000
    for path in ("/api/v1/reports", "/api/v1/evidence/parse"):
        response = client.post(path, data=body, content_type="application/json", headers={"X-CSRF-Token": token})
        assert response.status_code == 400, path
        assert response.get_json()["errors"][0]["code"] == "invalid-json"


def test_instance_files_are_private(tmp_path):
    app = make_app(tmp_path, **{"delivery.synchronous": True})
    instance = tmp_path / "instance"
    from .conftest import login

    client = app.test_client()
    token = login(client)
    response = client.post("/api/v1/reports", headers={"X-CSRF-Token": token}, json={
        "wiki": "en.wikipedia.org", "category": "harassment", "description": "x"})
    assert response.status_code == 201
    modes = {path.relative_to(tmp_path): stat.S_IMODE(os.stat(path).st_mode) for path in instance.rglob("*")}
    modes[instance.relative_to(tmp_path)] = stat.S_IMODE(os.stat(instance).st_mode)
    assert any(str(path).endswith("reports.sqlite3") for path in modes)
    assert any("maildir" in str(path) for path in modes)
    loose = {str(path): oct(mode) for path, mode in modes.items()
             if mode & 0o077 or (mode & 0o700) not in (0o700, 0o600)}
    assert loose == {}


def test_the_private_wiki_on_a_language_domain_is_refused_before_the_first_refresh():
    registry = WikiRegistry.builtin()
    assert registry.check("wg-en.wikipedia.org") == (None, "private-wiki")
    assert registry.check("arbcom-en.wikipedia.org")[1] in ("unknown-wiki", "private-wiki")
    assert registry.check("en.wikipedia.org")[1] is None


def test_the_development_server_log_keeps_no_query_string():
    configure_logging()
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1,
                               '127.0.0.1 - - [02/Dec/2026 01:00:00] "GET /report?wiki=en.wikipedia.org&user=Victim '
                               'HTTP/1.1" 200 -', (), None)
    assert RequestLineWithoutQuery().filter(record)
    assert "Victim" not in record.getMessage() and '"GET /report HTTP/1.1" 200' in record.getMessage()
    assert any(isinstance(f, RequestLineWithoutQuery) for f in logging.getLogger("werkzeug").filters)


def test_a_purge_leaves_no_old_ciphertext_in_the_sqlite_files(tmp_path):
    from datetime import timedelta

    from sqlalchemy import select, update

    from reporting.intake.references import new_reference
    from reporting.intake.submission import Reporter, Submission
    from reporting.storage import Stores, schema
    from reporting.storage.crypto import Sealer
    from reporting.storage.database import utcnow

    path = tmp_path / "reports.sqlite3"
    stores = Stores.open(f"sqlite:///{path}", Sealer(generate_key()))
    stores.migrate()
    submission = Submission(wiki="en.wikipedia.org", category="harassment", reported_users=("Troll",),
                            evidence=(), description="what happened " * 50, share_with_functionaries=False)
    report_id = stores.reports.create(new_reference(), submission, Reporter("Alice"), "en", "maildir:x")
    with stores.engine.begin() as connection:
        sealed = connection.execute(select(schema.reports.c.sealed)).scalar_one()
        connection.execute(update(schema.reports).values(status="forwarded", updated_at=utcnow() - timedelta(days=9)))
        connection.execute(update(schema.outbox).values(state="delivered"))
    assert stores.reports.purge_expired(utcnow() - timedelta(days=1)) == 1
    assert stores.reports.by_id(report_id).purged
    pieces = [sealed[start:start + 24] for start in range(16, len(sealed) - 24, 97)]
    leftovers = {file.name: sum(piece in file.read_bytes() for piece in pieces)
                 for file in tmp_path.iterdir() if file.name.startswith("reports.sqlite3")}
    assert leftovers and set(leftovers.values()) == {0}, leftovers


def test_logout_revokes_a_copied_session_cookie(tmp_path):
    from .conftest import login

    app = make_app(tmp_path)
    client = app.test_client()
    login(client, "Alice")
    copied = app.test_client()
    copied.set_cookie("reporting_session", client.get_cookie("reporting_session").value)
    assert copied.get("/api/v1/me").status_code == 200
    token = client.get("/api/v1/me").get_json()["csrf_token"]
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert copied.get("/api/v1/me").status_code == 401  # the copy died with the logout
    assert copied.get("/reports").status_code == 302


def test_trust_and_safety_can_end_every_session_of_a_user(tmp_path):
    from .conftest import login

    app = make_app(tmp_path)
    phone, laptop, other = app.test_client(), app.test_client(), app.test_client()
    login(phone, "Alice")
    login(laptop, "Alice")
    login(other, "Bob")
    result = app.test_cli_runner().invoke(args=["reporting", "end-sessions", "alice"])
    assert result.exit_code == 0 and "ended 2 sessions" in result.stdout
    assert phone.get("/api/v1/me").status_code == 401 and laptop.get("/api/v1/me").status_code == 401
    assert other.get("/api/v1/me").status_code == 200
    with app.extensions["reporting"].stores.engine.connect() as connection:
        from sqlalchemy import select

        from reporting.storage import schema

        rows = connection.execute(select(schema.login_sessions)).all()
    assert len(rows) == 1 and "Bob" not in repr(rows)  # keyed hashes only
