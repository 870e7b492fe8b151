"""Shared pieces of the case tests: an app delivering to a strict fake desk, a reporter, a sync pass."""
from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import login, make_app
from tests.fakes.zendesk import AGENT_EMAIL, AGENT_TOKEN, FakeZendesk
from tests.fakes.znuny import FakeZnuny

ZNUNY_USER, ZNUNY_PASSWORD, ZNUNY_QUEUE = "reporting-bot", "agent-password", "Trust and Safety"


def zendesk_settings(desk: FakeZendesk | int, query: str = "") -> dict[str, str]:
    """Delivery to ``desk`` (or to whatever listens on that port, if anything)."""
    port = desk if isinstance(desk, int) else desk.port
    return {"delivery.default": f"zendesk+http://127.0.0.1:{port}" + (f"?{query}" if query else ""),
            "delivery.zendesk_email": AGENT_EMAIL, "delivery.zendesk_api_token": AGENT_TOKEN}


def znuny_settings(desk: FakeZnuny, query: str = "") -> dict[str, str]:
    destination = f"znuny+http://127.0.0.1:{desk.port}{desk.webservice_path}?queue={ZNUNY_QUEUE.replace(' ', '+')}"
    return {"delivery.default": destination + (f"&{query}" if query else ""),
            "delivery.znuny_user": ZNUNY_USER, "delivery.znuny_password": ZNUNY_PASSWORD}


def app_for(tmp_path: Path, settings: dict[str, str], database_url: str | None = None, **more):
    return make_app(tmp_path, database_url, **settings, **more)


class Reporter:
    """A logged-in reporter: a test client and its CSRF token."""

    def __init__(self, app, name: str = "Alice") -> None:
        self.client = app.test_client()
        self.token = login(self.client, name)

    def report(self, **changes) -> str:
        body = {"wiki": "en.wikipedia.org", "category": "harassment", "description": "He insults me every day.",
                **changes}
        response = self.client.post("/api/v1/reports", json=body, headers={"X-CSRF-Token": self.token})
        assert response.status_code == 201, response.get_json()
        return response.get_json()["ref"]

    def post(self, path: str, body: dict, token: str | None = None):
        return self.client.post(path, json=body, headers={"X-CSRF-Token": self.token if token is None else token})

    def case(self, ref: str) -> dict:
        response = self.client.get(f"/api/v1/reports/{ref}")
        assert response.status_code == 200
        return response.get_json()

    def page(self, ref: str) -> str:
        response = self.client.get(f"/reports/{ref}")
        assert response.status_code == 200
        return response.get_data(as_text=True)


def sync(app) -> str:
    """``flask --app app reporting sync-status``: one pass; returns its output."""
    result = app.test_cli_runner().invoke(args=["reporting", "sync-status"])
    assert result.exit_code == 0, result.output
    return result.output


def status_chip(html: str) -> str:
    """The status the report's page shows."""
    return re.search(r'class="cdx-info-chip status status--([a-z-]+)"', html).group(1)
