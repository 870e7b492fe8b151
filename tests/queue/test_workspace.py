"""The workspace at work: what the reporter sees of it, what stays internal, and what the audit log keeps.

On SQLite and MariaDB (``database_url``), like the store tests.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from reporting.storage import schema
from tests.cases.helpers import sync, zendesk_settings
from tests.conftest import make_app
from tests.fakes.zendesk import standard_desk
from tests.queue.helpers import Person

MARKER = "MARKER-7f3a9c-unique-words"
REPLY = "We have looked at the page and warned the user."
NOTE = "Internal: the reported user has two older cases."
REASON = "Same dispute as the last three reports; no harassment."


def audit_rows(app, ref):
    stores = app.extensions["reporting"].stores
    with stores.engine.connect() as connection:
        report_id = connection.execute(select(schema.reports.c.id).where(schema.reports.c.ref == ref)).scalar_one()
        return [(row.actor, row.action, row.detail) for row in connection.execute(
            select(schema.audit_log).where(schema.audit_log.c.report_id == report_id).order_by(schema.audit_log.c.id))]


def test_a_status_with_a_message_reaches_the_reporter_and_a_note_never_does(tmp_path, database_url):
    app = make_app(tmp_path, database_url)
    reporter, erik = Person(app, "reporter"), Person(app, "functionary of this wiki")
    ref = reporter.report(description=f"He insults me. {MARKER}", reported_users=["Troll"])

    page = erik.client.get(f"/queue/{ref}").get_data(as_text=True)
    assert MARKER in page and "Troll" in page
    assert erik.form(f"/queue/{ref}/notes", text=NOTE).status_code == 303
    response = erik.form(f"/queue/{ref}/status", status="needs-info", message_to_reporter=REPLY)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/queue/{ref}?done=status")

    # The reporter's page and API show the new status and the team's message, never the note nor a name.
    own_page = reporter.client.get(f"/reports/{ref}").get_data(as_text=True)
    assert REPLY in own_page and NOTE not in own_page and "Erik" not in own_page
    assert re.search(r'status--needs-info', own_page)
    case = reporter.client.get(f"/api/v1/reports/{ref}").get_json()
    assert case["status"] == "needs-info"
    assert case["timeline"][-1] == {"at": case["timeline"][-1]["at"], "status": "needs-info",
                                    "source": "functionary", "message": REPLY}
    assert NOTE not in str(case) and "Erik" not in str(case)

    # The workspace shows both, with their author; the note is marked internal.
    api_case = erik.client.get(f"/api/v1/queue/{ref}").get_json()
    note = next(entry for entry in api_case["timeline"] if entry["kind"] == "note")
    assert note == {**note, "internal": True, "author": "Erik", "message": NOTE}
    assert any(entry["message"] == REPLY and not entry["internal"] for entry in api_case["timeline"])

    # Each read of the case is one audit entry; every action has its own; none quotes the report.
    actions = [(actor, action) for actor, action, _ in audit_rows(app, ref)]
    assert actions.count(("Erik", "case-viewed")) == 2
    assert ("Erik", "note-added") in actions and ("Erik", "status-changed") in actions
    assert ("Erik", "message-sent") in actions
    erik.client.get(f"/queue/{ref}")
    assert len([a for a in audit_rows(app, ref) if a[:2] == ("Erik", "case-viewed")]) == 3
    stored = str(audit_rows(app, ref))
    for secret in (MARKER, "insults", "Troll", REPLY, NOTE):
        assert secret not in stored


def test_declined_as_manifestly_unfounded_is_audited_with_the_functionary(tmp_path, database_url):
    """The misuse rule counts ``declined-unfounded`` rows of the reporter's cases: one per decline."""
    app = make_app(tmp_path, database_url)
    reporter, tess = Person(app, "reporter"), Person(app, "trust-and-safety")
    ref = reporter.report(description=MARKER)
    response = tess.patch(f"/api/v1/queue/{ref}", {"status": "declined"})
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "reason"
    response = tess.patch(f"/api/v1/queue/{ref}", {"unfounded": True})
    assert response.status_code == 422
    response = tess.patch(f"/api/v1/queue/{ref}", {"status": "declined", "reason": REASON, "unfounded": True})
    assert response.status_code == 200 and response.get_json()["status"] == "declined"
    rows = audit_rows(app, ref)
    assert ("Tess", "declined-unfounded", None) in rows
    assert ("Tess", "status-changed", "forwarded>declined") in rows
    assert REASON not in str(rows) and MARKER not in str(rows)
    # The reason is internal: the workspace shows it, the reporter never sees it (nor who declined).
    workspace = tess.client.get(f"/api/v1/queue/{ref}").get_json()
    assert any(e["kind"] == "decline-reason" and e["message"] == REASON and e["internal"]
               for e in workspace["timeline"])
    mine = reporter.client.get(f"/api/v1/reports/{ref}").get_json()
    assert mine["status"] == "declined" and REASON not in str(mine) and "Tess" not in str(mine)
    # The same row and the reporter's hash join, as the misuse count reads them.
    stores = app.extensions["reporting"].stores
    with stores.engine.connect() as connection:
        joined = connection.execute(
            select(schema.reports.c.reporter_hash).select_from(schema.audit_log.join(
                schema.reports, schema.reports.c.id == schema.audit_log.c.report_id))
            .where(schema.audit_log.c.action == "declined-unfounded")).scalars().all()
    assert joined == [stores.reports.sealer.index_hash("Alice")]
    # A finished case can only be reopened; a withdrawn one not at all.
    # declined > in-review > resolved
    assert tess.patch(f"/api/v1/queue/{ref}", {"status": "resolved"}).status_code == 200
    other = reporter.report()
    reporter.post(f"/api/v1/reports/{other}/withdraw", {"reason": ""})
    refused = tess.patch(f"/api/v1/queue/{other}", {"status": "in-review"})
    assert refused.status_code == 409 and refused.get_json()["errors"][0]["code"] == "status-not-allowed"
    assert ("reporter", "withdrawal", None) in audit_rows(app, other)  # withdrawals are audited too


def test_assignment_and_the_assignee_filter(tmp_path, database_url):
    app = make_app(tmp_path, database_url)
    reporter, erik, sam = Person(app, "reporter"), Person(app, "functionary of this wiki"), Person(app, "steward")
    first, second = reporter.report(), reporter.report()
    assert erik.form(f"/queue/{first}/assign", assignee="me").status_code == 303
    assert erik.client.get(f"/api/v1/queue/{first}").get_json()["assignee"] == "Erik"
    mine = erik.client.get("/api/v1/queue?assignee=mine").get_json()["cases"]
    nobody = erik.client.get("/api/v1/queue?assignee=nobody").get_json()["cases"]
    assert [c["ref"] for c in mine] == [first] and [c["ref"] for c in nobody] == [second]
    assert sam.client.get("/api/v1/queue?assignee=mine").get_json()["cases"] == []
    response = erik.patch(f"/api/v1/queue/{first}", {"assignee": None})
    assert response.status_code == 200 and response.get_json()["assignee"] is None
    assert erik.patch(f"/api/v1/queue/{first}", {"assignee": "Sam"}).status_code == 422
    actions = [action for actor, action, _ in audit_rows(app, first) if actor == "Erik"]
    assert "assigned" in actions and "unassigned" in actions


def test_the_queue_orders_filters_counts_and_pages(tmp_path, database_url):
    # 49 emergencies from one reporter: above the emergency ceiling (10 an hour) they would be
    # delivered by the worker and wait as "received"; this test is about paging, not the ceiling.
    app = make_app(tmp_path, database_url, **{"rate_limit.emergency_per_hour": 100})
    reporter, tess = Person(app, "reporter"), Person(app, "trust-and-safety")
    stores = app.extensions["reporting"].stores
    refs = [reporter.report(category=c) for c in ("harassment", "threat-of-violence", "doxing", "self-harm")]
    # Spread them over time: harassment 40 days old, threat 3 days, doxing 2 days, self-harm 1 hour.
    ages = [timedelta(days=40), timedelta(days=3), timedelta(days=2), timedelta(hours=1)]
    with stores.engine.begin() as connection:
        for ref, age in zip(refs, ages, strict=True):
            row = schema.reports.c.ref == ref
            created = connection.execute(select(schema.reports.c.created_at).where(row)).scalar()
            connection.execute(update(schema.reports).where(row).values(created_at=created - age))
    listed = tess.client.get("/api/v1/queue").get_json()
    # The newest emergency first, then the other emergency, then the oldest other case first.
    assert [c["ref"] for c in listed["cases"]] == [refs[3], refs[1], refs[0], refs[2]]
    assert listed["counts"] == {"forwarded": 4} and listed["next_page"] is None
    assert set(listed["cases"][0]) == {"ref", "wiki", "category", "severity", "status", "created_at", "assignee",
                                       "destination_kind"}
    assert listed["cases"][0]["destination_kind"] == "maildir"
    def refs_of(query):
        return [c["ref"] for c in tess.client.get(f"/api/v1/queue?{query}").get_json()["cases"]]
    assert refs_of("severity=emergency") == [refs[3], refs[1]]
    assert refs_of("category=doxing") == [refs[2]]
    assert refs_of("age=older") == [refs[0]]
    assert refs_of("age=day") == [refs[3]]
    assert refs_of("wiki=de.wikipedia.org") == []
    tess.patch(f"/api/v1/queue/{refs[2]}", {"status": "in-review"})
    assert refs_of("status=in-review") == [refs[2]]
    counts = tess.client.get("/api/v1/queue?status=in-review").get_json()["counts"]
    assert counts == {"forwarded": 3, "in-review": 1}  # counts per status ignore the status filter
    bad = tess.client.get("/api/v1/queue?status=bogus&age=ancient")
    assert bad.status_code == 422 and {e["field"] for e in bad.get_json()["errors"]} == {"status", "age"}
    # Pages of 50: the 51st case is on page 2.
    for _ in range(47):
        reporter.report(category="self-harm")
    first_page = tess.client.get("/api/v1/queue").get_json()
    assert len(first_page["cases"]) == 50 and first_page["next_page"] == 2
    second_page = tess.client.get("/api/v1/queue?page=2").get_json()
    assert len(second_page["cases"]) == 1 and second_page["next_page"] is None
    html = tess.client.get("/queue").get_data(as_text=True)
    assert 'id="queue-next"' in html and 'id="count-forwarded">50<' in html


def test_listing_decrypts_nothing(tmp_path):
    """The queue reads clear-text columns only: a report whose sealed content is garbage still lists."""
    app = make_app(tmp_path)
    reporter, tess = Person(app, "reporter"), Person(app, "trust-and-safety")
    ref = reporter.report()
    with app.extensions["reporting"].stores.engine.begin() as connection:
        connection.execute(update(schema.reports).where(schema.reports.c.ref == ref).values(sealed=b"not a seal"))
    assert [c["ref"] for c in tess.client.get("/api/v1/queue").get_json()["cases"]] == [ref]
    assert ref in tess.client.get("/queue").get_data(as_text=True)


def test_a_case_at_an_api_desk_keeps_its_status_but_takes_notes_and_assignment(tmp_path):
    with standard_desk() as desk:
        app = make_app(tmp_path, **zendesk_settings(desk))
        reporter, tess = Person(app, "reporter"), Person(app, "trust-and-safety")
        ref = reporter.report()
        case = tess.client.get(f"/api/v1/queue/{ref}").get_json()
        [ticket] = [str(t) for t, data in desk.tickets.items() if data["external_id"] == ref]
        assert case["destination_kind"] == "zendesk" and case["desk_managed"] is True
        assert case["desk_ticket"] == ticket and case["settable_statuses"] == []
        for change in ({"status": "resolved"}, {"message_to_reporter": "Hello"}):
            refused = tess.patch(f"/api/v1/queue/{ref}", change)
            assert refused.status_code == 409 and refused.get_json()["errors"][0]["code"] == "desk-managed"
        assert tess.patch(f"/api/v1/queue/{ref}", {"assignee": "me"}).status_code == 200
        assert tess.post(f"/api/v1/queue/{ref}/notes", {"text": NOTE}).status_code == 201
        page = tess.client.get(f"/queue/{ref}").get_data(as_text=True)
        assert 'id="status-desk-managed"' in page and 'id="status-new"' not in page
        assert tess.form(f"/queue/{ref}/status", status="resolved").status_code == 409
        # The desk is the source of truth: its status arrives through the sync.
        desk.set_status(int(ticket), "solved")
        sync(app)
        assert tess.client.get(f"/api/v1/queue/{ref}").get_json()["status"] == "resolved"


@pytest.mark.parametrize(("body", "field", "code"), [
    ({"status": "withdrawn"}, "status", "status-unknown"),
    ({"status": "in-review", "reason": "x"}, "reason", "decline-only"),
    ({"unfounded": "yes"}, "unfounded", "not-a-boolean"),
    ({"message_to_reporter": "x" * 5001}, "message_to_reporter", "followup-too-long"),
    ({"colour": "red"}, "colour", "unknown-field"),
])
def test_changes_are_checked_before_anything_is_written(tmp_path, body, field, code):
    app = make_app(tmp_path)
    reporter, tess = Person(app, "reporter"), Person(app, "trust-and-safety")
    ref = reporter.report()
    response = tess.patch(f"/api/v1/queue/{ref}", body)
    assert response.status_code == 422
    assert {"field": field, "code": code} == {k: response.get_json()["errors"][0][k] for k in ("field", "code")}
    assert reporter.client.get(f"/api/v1/reports/{ref}").get_json()["status"] == "forwarded"
    assert tess.post(f"/api/v1/queue/{ref}/notes", {"text": "  "}).status_code == 422
    assert tess.client.patch(f"/api/v1/queue/{ref}", json={"assignee": "me"}).status_code == 403  # no CSRF token


def test_the_form_shows_problems_next_to_their_fields_without_javascript(tmp_path):
    app = make_app(tmp_path)
    reporter, tess = Person(app, "reporter"), Person(app, "trust-and-safety")
    ref = reporter.report()
    response = tess.form(f"/queue/{ref}/status", status="declined", message_to_reporter="Kept as typed")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="error-reason-1"' in html and "Kept as typed" in html
    assert tess.form(f"/queue/{ref}/notes", text="").status_code == 422


def test_workspace_pages_are_never_cached(tmp_path):
    app = make_app(tmp_path)
    reporter, tess = Person(app, "reporter"), Person(app, "trust-and-safety")
    ref = reporter.report()
    for path in ("/queue", f"/queue/{ref}"):
        assert tess.client.get(path).headers["Cache-Control"] == "no-store"


def test_a_case_no_desk_has_yet_waits_for_its_delivery(tmp_path):
    app = make_app(tmp_path, **{"delivery.synchronous": False})  # the worker delivers, later
    reporter, tess = Person(app, "reporter"), Person(app, "trust-and-safety")
    ref = reporter.report()
    page = tess.client.get(f"/queue/{ref}").get_data(as_text=True)
    assert 'id="status-not-yet"' in page and 'id="status-new"' not in page
    refused = tess.patch(f"/api/v1/queue/{ref}", {"status": "in-review"})
    assert refused.status_code == 409 and refused.get_json()["errors"][0]["code"] == "status-not-allowed"
    assert tess.post(f"/api/v1/queue/{ref}/notes", {"text": NOTE}).status_code == 201
