"""The case lifecycle's storage on SQLite and MariaDB: the same assertions on both engines."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import inspect, select, text

from reporting.cases.statuses import Status
from reporting.intake.references import new_reference
from reporting.intake.submission import Reporter, Submission
from reporting.storage import Stores, schema
from reporting.storage.crypto import Sealer, generate_key
from reporting.storage.database import utcnow
from reporting.storage.desk_sync import DeskMessageEntry, DeskUpdate, SeenTicket
from reporting.storage.followups import CaseClosed
from reporting.storage.migrations import MIGRATIONS, migrate

SECRET = "Seine Drohung — секрет-77"


@pytest.fixture
def store(database_url):
    store = Stores.open(database_url, Sealer(generate_key()))
    store.migrate()
    yield store
    store.engine.dispose()


def report(store, destination="zendesk+http://127.0.0.1:9", delivered_as="1001", now=None):
    ref = new_reference()
    submission = Submission(wiki="de.wikipedia.org", category="harassment", reported_users=("Troll",), evidence=(),
                            description="x", share_with_functionaries=False)
    report_id = store.reports.create(ref, submission, Reporter("Alice"), "de", destination, now=now)
    if delivered_as:
        item = store.outbox.claim_report(report_id, now=now)
        store.outbox.mark_delivered(item, delivered_as, None, now=now)
    return report_id, ref


def status_of(store, report_id):
    with store.engine.connect() as connection:
        return connection.execute(select(schema.reports.c.status).where(schema.reports.c.id == report_id)).scalar()


def test_a_followup_is_stored_with_its_outbox_row_timeline_entry_and_status(store):
    report_id, ref = report(store)
    assert store.case_status.change(report_id, ref, "forwarded", [Status.NEEDS_INFO], "desk", "desk", "Which page?")
    followup = store.followups.add(report_id, ref, "followup", SECRET, ["https://de.wikipedia.org/?diff=1"])
    assert status_of(store, report_id) == "in-review"  # the answer resumes the review
    rows = [row for row in store.outbox.rows() if row.kind != "report"]
    assert [(row.kind, row.followup_id, row.state, row.destination) for row in rows] == [
        ("followup", followup.id, "pending", "zendesk+http://127.0.0.1:9")]
    with store.engine.connect() as connection:
        created_at = connection.execute(select(schema.reports.c.created_at)).scalar()
    timeline = store.timeline.of(report_id, ref, created_at)
    assert [(e.status, e.source, e.kind, e.message) for e in timeline] == [
        ("received", "tool", "status", None), ("forwarded", "tool", "status", None),
        ("needs-info", "desk", "status", "Which page?"), ("in-review", "reporter", "followup", SECRET)]
    assert store.followups.of(report_id, ref)[0].text == SECRET
    assert [action for _, _, action in store.audit.trail(report_id)][-3:] == [
        "status:needs-info", "status:in-review", "followup"]


def test_withdrawal_ends_the_case_and_refuses_more(store):
    report_id, ref = report(store)
    store.followups.add(report_id, ref, "withdrawal", "")
    assert status_of(store, report_id) == "withdrawn"
    with pytest.raises(CaseClosed):
        store.followups.add(report_id, ref, "followup", "more")
    with pytest.raises(CaseClosed):
        store.followups.add(report_id, ref, "withdrawal", "again")
    assert [row.kind for row in store.outbox.rows()] == ["report", "withdrawal"]


def test_a_case_withdrawn_before_delivery_stays_withdrawn_when_the_desk_gets_it(store):
    report_id, ref = report(store, delivered_as=None)
    store.followups.add(report_id, ref, "withdrawal", "changed my mind")
    [item] = [i for i in store.outbox.claim_due(limit=5, now=utcnow() + timedelta(seconds=5)) if i.kind == "report"]
    store.outbox.mark_delivered(item, "1001", None)
    assert status_of(store, report_id) == "withdrawn"
    with store.engine.connect() as connection:
        created_at = connection.execute(select(schema.reports.c.created_at)).scalar()
    assert [e.status for e in store.timeline.of(report_id, ref, created_at)] == ["received", "withdrawn"]


def test_messages_are_sealed_and_internal_entries_stay_internal(store):
    report_id, ref = report(store)
    store.timeline.add(report_id, ref, "forwarded", "functionary", "note", "internal: " + SECRET, internal=True)
    store.case_status.change(report_id, ref, "forwarded", [], "desk", "desk", "Reply " + SECRET)
    with store.engine.connect() as connection:
        dump = repr([connection.execute(select(table)).all() for table in schema.metadata.sorted_tables])
        created_at = connection.execute(select(schema.reports.c.created_at)).scalar()
    assert "секрет" not in dump and "Reply" not in dump
    shown = store.timeline.of(report_id, ref, created_at)
    assert [e.message for e in shown if e.message] == ["Reply " + SECRET]
    everything = store.timeline.of(report_id, ref, created_at, include_internal=True)
    assert [e.message for e in everything if e.internal] == ["internal: " + SECRET]


def test_status_changes_are_conditional_on_what_the_writer_saw(store):
    report_id, ref = report(store)
    assert store.case_status.change(report_id, ref, "forwarded", [Status.IN_REVIEW], "desk", "desk")
    assert not store.case_status.change(report_id, ref, "forwarded", [Status.RESOLVED], "desk", "desk")
    assert status_of(store, report_id) == "in-review"


def test_sync_outcomes_are_written_once_and_conflicts_write_nothing(store):
    report_id, ref = report(store)
    [case] = store.desk_sync.open_cases(utcnow())
    assert (case.ref, case.status, case.ticket_id, case.seen) == (ref, "forwarded", "1001", None)
    change = DeskUpdate(seen=SeenTicket("pending", "2026-01-01T10:00:00Z", utcnow()), steps=[Status.NEEDS_INFO],
                        messages=[DeskMessageEntry("zendesk:1001:5", "Which page?"),
                                  DeskMessageEntry("zendesk:1001:6", "And when?")])
    assert store.desk_sync.apply(case, change, utcnow()) == 2
    assert store.desk_sync.apply(case, change, utcnow()) is None  # the same old view again: a conflict
    [case] = store.desk_sync.open_cases(utcnow())
    again = DeskUpdate(seen=SeenTicket("pending", "2026-01-01T10:00:05Z", utcnow()),
                       messages=[DeskMessageEntry("zendesk:1001:5", "Which page?")])
    assert store.desk_sync.apply(case, again, utcnow()) == 0  # a message is stored once
    with store.engine.connect() as connection:
        events = connection.execute(select(schema.case_events.c.status, schema.case_events.c.desk_ref)
                                    .order_by(schema.case_events.c.id)).all()
    assert [tuple(e) for e in events] == [("forwarded", "zendesk:1001:5"), ("needs-info", "zendesk:1001:6")]


def test_only_open_or_recently_finished_cases_at_api_desks_are_synced(store):
    now = utcnow()
    open_id, _ = report(store)
    report(store, destination="smtp://relay.example.org?to=desk@example.org", delivered_as="<m@x>")
    report(store, delivered_as=None)  # no ticket yet
    old_id, old_ref = report(store, now=now - timedelta(days=90))
    store.case_status.change(old_id, old_ref, "forwarded", [Status.RESOLVED], "desk", "desk",
                             now=now - timedelta(days=60))
    recent_id, recent_ref = report(store)
    store.case_status.change(recent_id, recent_ref, "forwarded", [Status.DECLINED], "desk", "desk")
    withdrawn_id, withdrawn_ref = report(store)
    store.followups.add(withdrawn_id, withdrawn_ref, "withdrawal", "")
    assert [case.report_id for case in store.desk_sync.open_cases(now)] == [open_id, recent_id]


def test_periodic_runs_are_claimed_once_per_interval(store):
    now = utcnow()
    assert store.periodic.claim("status-sync", timedelta(minutes=10), now)
    assert not store.periodic.claim("status-sync", timedelta(minutes=10), now + timedelta(minutes=5))
    assert store.periodic.claim("status-sync", timedelta(minutes=10), now + timedelta(minutes=11))
    assert not store.periodic.claim("status-sync", timedelta(minutes=10), now + timedelta(minutes=12))


def test_retention_wipes_messages_and_followups_from_the_withdrawal_date(store):
    now = utcnow()
    report_id, ref = report(store, now=now - timedelta(days=400))
    store.case_status.change(report_id, ref, "forwarded", [], "desk", "desk", "Reply", now=now - timedelta(days=399))
    store.followups.add(report_id, ref, "withdrawal", SECRET, now=now - timedelta(days=10))
    for item in store.outbox.claim_due(limit=5, now=now):
        store.outbox.mark_followup_delivered(item, "1001")
    assert store.reports.purge_expired(now - timedelta(days=365)) == 0  # withdrawn 10 days ago
    assert store.reports.purge_expired(now + timedelta(days=356)) == 1
    with store.engine.connect() as connection:
        created_at = connection.execute(select(schema.reports.c.created_at)).scalar()
    assert [e.message for e in store.timeline.of(report_id, ref, created_at)] == [None] * 4
    assert store.followups.of(report_id, ref)[0].text == ""


def test_migrations_bring_a_version_5_database_to_the_case_schema(database_url):
    """A database made by the tool before this change gets the new tables and columns, once."""
    store = Stores.open(database_url, Sealer(generate_key()))
    store.migrate()
    with store.engine.begin() as connection:
        for table in (schema.followups, schema.case_events, schema.desk_tickets, schema.periodic_runs):
            table.drop(connection, checkfirst=True)
        connection.execute(text("ALTER TABLE outbox DROP COLUMN kind"))
        connection.execute(text("ALTER TABLE outbox DROP COLUMN followup_id"))
        connection.execute(schema.schema_version.delete().where(schema.schema_version.c.version > 5))
    assert migrate(store.engine) == MIGRATIONS[-1][0]
    with store.engine.connect() as connection:
        columns = {column["name"] for column in inspect(connection).get_columns("outbox")}
        tables = set(inspect(connection).get_table_names())
    assert {"kind", "followup_id"} <= columns
    assert {"followups", "case_events", "desk_tickets", "periodic_runs"} <= tables
    report(store)  # old rows and new ones work together
    assert [row.kind for row in store.outbox.rows()] == ["report"]
    store.engine.dispose()
