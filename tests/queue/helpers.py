"""Shared pieces of the workspace tests: people with roles (through the development login), reports."""
from __future__ import annotations

from tests.conftest import csrf_from, login

WIKI = "en.wikipedia.org"
OTHER_WIKI = "de.wikipedia.org"

#: Who asks, and the groups the development login gives them (``group@host`` = a local group).
PEOPLE: dict[str, tuple[str, str] | None] = {
    "anonymous": None,
    "reporter": ("Alice", ""),
    "another user": ("Bob", ""),
    "functionary of another wiki": ("Dora", f"checkuser@{OTHER_WIKI}"),
    "functionary of this wiki": ("Erik", f"checkuser@{WIKI}"),
    "steward": ("Sam", "steward"),
    "trust-and-safety": ("Tess", "staff"),
}

KINDS = {"normal": "harassment", "emergency": "threat-of-violence", "child-safety": "child-safety"}


class Person:
    """A test client logged in (or not) and its CSRF token."""

    def __init__(self, app, who: str) -> None:
        self.client = app.test_client()
        identity = PEOPLE[who]
        if identity is None:
            # Anonymous, but with the session's CSRF token, so the login check is what answers.
            self.token = csrf_from(self.client.get("/login").get_data(as_text=True))
            self.name = None
        else:
            self.name, groups = identity
            self.token = login(self.client, self.name, groups)

    def report(self, category: str = "harassment", consent: bool = True, description: str = "He insults me.",
               wiki: str = WIKI, **more) -> str:
        response = self.client.post("/api/v1/reports", json={
            "wiki": wiki, "category": category, "description": description, "share_with_functionaries": consent,
            **more}, headers={"X-CSRF-Token": self.token})
        assert response.status_code == 201, response.get_json()
        return response.get_json()["ref"]

    def form(self, path: str, **fields):
        return self.client.post(path, data={"csrf_token": self.token, **fields})

    def patch(self, path: str, body: dict):
        return self.client.patch(path, json=body, headers={"X-CSRF-Token": self.token})

    def post(self, path: str, body: dict):
        return self.client.post(path, json=body, headers={"X-CSRF-Token": self.token})
