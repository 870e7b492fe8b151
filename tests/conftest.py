"""Shared fixtures: an app on a throw-away database, logged-in clients.

Storage-related tests take the ``database_url`` fixture, which is
parametrized over SQLite and the local MariaDB (a throw-away database per
test, dropped afterwards), so the same assertions hold on both.
"""
from __future__ import annotations

import re
import secrets
from pathlib import Path

import pymysql
import pytest

from tests.netguard import sitecustomize as _netguard  # noqa: F401  (installs the guard)

from reporting import create_app
from reporting.storage.crypto import generate_key

MARIADB = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}
# The operator token of every test app (``health.token``): /healthz shows its figures to it.
HEALTH_TOKEN = "health-token-for-the-tests-0123456789"
NETGUARD_DIR = str(Path(__file__).resolve().parent / "netguard")


def guarded_environment(environ: dict[str, str]) -> dict[str, str]:
    """An environment for processes the tests start: the same no-internet guard."""
    path = environ.get("PYTHONPATH", "")
    return {**environ, "PYTHONPATH": NETGUARD_DIR + (":" + path if path else "")}


def mariadb_database():
    """Create a throw-away MariaDB database; yields its SQLAlchemy URL and drops it."""
    name = f"reporting_test_{secrets.token_hex(6)}"
    try:
        connection = pymysql.connect(**MARIADB)
    except pymysql.MySQLError as error:
        pytest.fail(f"MariaDB is not reachable on 127.0.0.1:3306 ({error}); .ci/run starts it")
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
    connection.close()
    try:
        yield f"mysql+pymysql://root@127.0.0.1:3306/{name}?charset=utf8mb4"
    finally:
        connection = pymysql.connect(**MARIADB)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        connection.close()


@pytest.fixture(params=["sqlite", "mariadb"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'reports.sqlite3'}"
    else:
        yield from mariadb_database()


def make_app(tmp_path: Path, database_url: str | None = None, **overrides):
    settings = {
        "secret_key": "test-secret-" + secrets.token_hex(16),
        "encryption_key": generate_key(),
        "instance_path": str(tmp_path / "instance"),
        "dev_login": True,
        "local_development": True,
        # No delivery threads behind every test app; tests that want the job ask for it.
        "delivery.worker_in_web": False,
        "health.token": HEALTH_TOKEN,
    }
    if database_url:
        settings["database_url"] = database_url
    settings.update(overrides)
    app = create_app(overrides=settings, environ={})
    app.config["TESTING"] = True
    return app


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path)


def health_of(client, token: str | None = HEALTH_TOKEN):
    """``/healthz`` as an operator's monitor reads it: (HTTP status, body)."""
    response = client.get("/healthz", headers={"Authorization": f"Bearer {token}"} if token else {})
    return response.status_code, response.get_json()


CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    return CSRF_FIELD.search(html).group(1)


def tokens_blanked(page: str | bytes) -> str:
    """A page with its CSRF tokens blanked: they are masked afresh in every response (BREACH), so
    two answers that must be the same (an existing and an unknown case's 404) differ only there."""
    text = page.decode() if isinstance(page, bytes) else page
    return CSRF_FIELD.sub('name="csrf_token" value="…"', text)


def login(client, username: str = "Alice", groups: str = "") -> str:
    """Log in through the dev login form; return the new CSRF token."""
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": username, "groups": groups, "csrf_token": token})
    assert response.status_code == 302
    return client.get("/api/v1/me").get_json()["csrf_token"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium shared by one browser-test module (tests/browser.py launches it)."""
    from tests.browser import chromium

    with chromium() as launched:
        yield launched


@pytest.fixture
def alice(app):
    """A client logged in as Alice, and her CSRF token."""
    client = app.test_client()
    return client, login(client, "Alice")


def maildir_messages(app):
    import mailbox

    path = Path(app.instance_path) / "maildir"
    return list(mailbox.Maildir(path, create=False)) if path.exists() else []
