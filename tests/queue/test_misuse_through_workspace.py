"""Issue 12's misuse flow end to end through the real workspace, not a helper that writes its rows.

Trust & Safety decline a reporter's cases as manifestly unfounded with the
workspace itself (four times through ``PATCH /api/v1/queue/<ref>``, once with
the case page's form): after three the reporter's form and "My reports" warn,
after five non-emergency reports are refused (form and API, 403
``suspended``) while an emergency is still accepted, and lifting on
``/queue/suspensions`` opens reporting again. The audit log holds each step
and no reporter's name. On SQLite and MariaDB (``database_url``).
"""
from __future__ import annotations

import re

from sqlalchemy import select

from reporting.storage import schema
from tests.conftest import csrf_from, make_app
from tests.queue.helpers import WIKI, Person

WARNING = "Several of your recent reports were closed"
SUSPENDED_NOTICE = "this tool accepts only urgent reports from your account"
SUSPENDED_REFUSAL = "This tool cannot take this report from your account"
REASON = "Same content dispute as before; nothing here breaks a policy."


def page(person: Person, path: str) -> str:
    response = person.client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def audit(app, action: str) -> list:
    stores = app.extensions["reporting"].stores
    table, reports = schema.audit_log, schema.reports
    query = (select(table.c.actor, table.c.action, reports.c.ref)
             .select_from(table.outerjoin(reports, reports.c.id == table.c.report_id))
             .where(table.c.action == action).order_by(table.c.id))
    with stores.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(query)]


def all_audit(app) -> str:
    stores = app.extensions["reporting"].stores
    with stores.engine.connect() as connection:
        return repr(connection.execute(select(schema.audit_log)).all())


def form_report(person: Person, category: str):
    token = csrf_from(page(person, "/report"))
    return person.client.post("/report", data={"csrf_token": token, "wiki": WIKI, "category": category,
                                               "description": "Please look at this."})


def api_report(person: Person, category: str):
    return person.post("/api/v1/reports", {"wiki": WIKI, "category": category, "description": "Please look."})


def decline_by_api(tess: Person, ref: str) -> None:
    response = tess.patch(f"/api/v1/queue/{ref}", {"status": "declined", "reason": REASON, "unfounded": True})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "declined"


def decline_by_form(tess: Person, ref: str) -> None:
    case_page = page(tess, f"/queue/{ref}")
    assert 'name="unfounded"' in case_page
    response = tess.client.post(f"/queue/{ref}/status", data={
        "csrf_token": csrf_from(case_page), "status": "declined", "reason": REASON, "unfounded": "1",
        "message_to_reporter": ""})
    assert response.status_code == 303, response.get_data(as_text=True)
    assert page(tess, response.headers["Location"])


def test_declines_in_the_workspace_warn_then_suspend_and_trust_and_safety_lift_it(tmp_path, database_url):
    app = make_app(tmp_path, database_url, **{"rate_limit.per_day": 100})
    alice, tess, bob = Person(app, "reporter"), Person(app, "trust-and-safety"), Person(app, "another user")
    refs = [alice.report() for _ in range(5)]

    # A decline without the mark never counts; neither do two marked ones.
    plain = alice.report()
    assert tess.patch(f"/api/v1/queue/{plain}", {"status": "declined", "reason": REASON}).status_code == 200
    decline_by_api(tess, refs[0])
    decline_by_form(tess, refs[1])
    for path in ("/report", "/reports"):
        assert WARNING not in page(alice, path)

    # Three: a calm warning on the form and on "My reports", which says nothing about who declined.
    decline_by_api(tess, refs[2])
    for path in ("/report", "/reports"):
        html = page(alice, path)
        assert 'id="misuse-warning"' in html and WARNING in html and "Tess" not in html
    assert api_report(alice, "harassment").status_code == 201  # a warning refuses nothing
    assert [ref for _, _, ref in audit(app, "declined-unfounded")] == refs[:3]
    assert {actor for actor, _, _ in audit(app, "declined-unfounded")} == {"Tess"}

    # Five: suspended from non-emergency reporting.
    decline_by_api(tess, refs[3])
    assert WARNING in page(alice, "/reports") and not audit(app, "reporter-suspended")
    decline_by_api(tess, refs[4])
    html = page(alice, "/reports")
    assert 'id="misuse-suspended"' in html and SUSPENDED_NOTICE in html and "Tess" not in html
    assert SUSPENDED_NOTICE in page(alice, "/report")
    assert audit(app, "reporter-suspended") == [("system", "reporter-suspended", refs[4])]

    refused = form_report(alice, "harassment")
    assert refused.status_code == 403
    assert SUSPENDED_REFUSAL in refused.get_data(as_text=True)
    response = api_report(alice, "doxing")
    assert response.status_code == 403 and response.get_json()["errors"][0]["code"] == "suspended"
    assert form_report(alice, "threat-of-violence").status_code == 303  # an emergency is still accepted
    assert api_report(alice, "self-harm").status_code == 201
    assert api_report(bob, "harassment").status_code == 201  # nobody else is affected

    # Trust & Safety lift it on /queue/suspensions (by case, never by name).
    listing = page(tess, "/queue/suspensions")
    assert refs[4] in listing and "Alice" not in listing
    lift_path = re.search(r'action="(/queue/suspensions/\d+/lift)"', listing).group(1)
    lifted = tess.client.post(lift_path, data={"csrf_token": csrf_from(listing)})
    assert lifted.status_code == 303
    assert audit(app, "suspension-lifted") == [("Tess", "suspension-lifted", refs[4])]

    assert form_report(alice, "harassment").status_code == 303
    assert api_report(alice, "harassment").status_code == 201
    html = page(alice, "/reports")
    assert WARNING not in html and SUSPENDED_NOTICE not in html
    assert "Alice" not in all_audit(app)  # the log never names the reporter
