"""Who sees which case, asked of every queue page and API route: the whole matrix, every cell asserted.

Routes × (anonymous, the reporter, another user, a functionary of another wiki, a functionary of
the case's wiki, a steward, Trust & Safety) × (consent on, off) × (a normal case, an emergency, a
child-safety case). The expectation is written out here by hand from the issue's rule, not computed
by the code under test. A case someone may not see answers exactly like a reference that does not
exist (same status, same body). Anonymous visitors get the login redirect on pages and 401 in the
API, whatever the reference. On SQLite and MariaDB (the listing filters in SQL).
"""
from __future__ import annotations

from tests.conftest import make_app, tokens_blanked
from tests.queue.helpers import KINDS, PEOPLE, Person

UNKNOWN = "IR-0000-0000-0000-0000"

#: Which (consent, kind) cases each person may see — the issue's rule, by hand.
VISIBLE: dict[str, set[tuple[bool, str]]] = {
    "anonymous": set(),
    "reporter": set(),  # a reporter follows their own case at /reports/<ref>, not in the workspace
    "another user": set(),
    "functionary of another wiki": set(),
    "functionary of this wiki": {(True, "normal")},
    "steward": {(True, "normal"), (True, "emergency")},
    "trust-and-safety": {(consent, kind) for consent in (True, False) for kind in KINDS},
}
HAS_ROLE = {"functionary of another wiki", "functionary of this wiki", "steward", "trust-and-safety"}

# Each route: (name, page or api, call(person, ref) -> response, status when allowed).
ROUTES = [
    ("GET /queue/<ref>", "page", lambda p, ref: p.client.get(f"/queue/{ref}"), 200),
    ("POST /queue/<ref>/assign", "page", lambda p, ref: p.form(f"/queue/{ref}/assign", assignee="me"), 303),
    ("POST /queue/<ref>/status", "page",
     lambda p, ref: p.form(f"/queue/{ref}/status", message_to_reporter="We are looking at it."), 303),
    ("POST /queue/<ref>/notes", "page", lambda p, ref: p.form(f"/queue/{ref}/notes", text="A note."), 303),
    ("GET /api/v1/queue/<ref>", "api", lambda p, ref: p.client.get(f"/api/v1/queue/{ref}"), 200),
    ("PATCH /api/v1/queue/<ref>", "api", lambda p, ref: p.patch(f"/api/v1/queue/{ref}", {"assignee": "me"}), 200),
    ("POST /api/v1/queue/<ref>/notes", "api", lambda p, ref: p.post(f"/api/v1/queue/{ref}/notes", {"text": "A note."}),
     201),
    ("GET /api/v1/queue/<ref>/audit", "api", lambda p, ref: p.client.get(f"/api/v1/queue/{ref}/audit"), 200),
]
LISTS = [("GET /queue", "page", "/queue"), ("GET /api/v1/queue", "api", "/api/v1/queue")]


def test_who_sees_which_case_on_every_route(tmp_path, database_url):
    app = make_app(tmp_path, database_url)
    people = {who: Person(app, who) for who in PEOPLE}
    cases = {(consent, kind): people["reporter"].report(category, consent=consent)
             for consent in (True, False) for kind, category in KINDS.items()}
    cells = 0
    for who, person in people.items():
        for name, surface, path in LISTS:
            response = person.client.get(path)
            listed = response.get_data(as_text=True)
            if who == "anonymous":
                expected = 302 if surface == "page" else 401
                assert response.status_code == expected, (who, name)
            elif who not in HAS_ROLE:
                assert response.status_code == 404, (who, name)
            else:
                assert response.status_code == 200, (who, name)
            for case, ref in cases.items():
                assert (ref in listed) == (case in VISIBLE[who]), (who, name, case)
                cells += 1
        for name, surface, call, allowed_status in ROUTES:
            unknown = call(person, UNKNOWN)
            for case, ref in cases.items():
                response = call(person, ref)
                if who == "anonymous":
                    if surface == "page":
                        assert response.status_code == 302, (who, name, case)
                        assert "/login?returnto=" in response.headers["Location"], (who, name, case)
                    else:
                        assert response.status_code == 401, (who, name, case)
                    assert response.status_code == unknown.status_code
                elif case in VISIBLE[who] and (name.endswith("/audit") is False or who == "trust-and-safety"):
                    assert response.status_code == allowed_status, (who, name, case, response.status_code)
                else:
                    assert response.status_code == 404, (who, name, case, response.status_code)
                    # Exactly what a reference that does not exist gets: nothing tells them apart.
                    assert unknown.status_code == 404
                    assert tokens_blanked(response.get_data()) == tokens_blanked(unknown.get_data()), \
                        (who, name, case)
                cells += 1
    assert cells == len(PEOPLE) * (len(LISTS) + len(ROUTES)) * len(cases) == 420
