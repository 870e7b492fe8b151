"""Storage on SQLite and MariaDB: the same assertions on both engines."""
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from reporting.storage import schema
from reporting.storage.crypto import Sealer, generate_key
from reporting.intake.references import new_reference
from reporting.intake.submission import Submission
from reporting.intake.submission import Reporter
from reporting.storage import Stores
from reporting.storage.database import utcnow

SECRET_TEXT = "Mein Nachbar Ümit droht mir — секрет-42"


def submission(**changes):
    values = dict(wiki="de.wikipedia.org", category="harassment", reported_users=("Troll Account",),
                  evidence=("https://de.wikipedia.org/w/index.php?diff=4242",), description=SECRET_TEXT,
                  share_with_functionaries=True)
    values.update(changes)
    return Submission(**values)


@pytest.fixture
def store(database_url):
    store = Stores.open(database_url, Sealer(generate_key()))
    store.migrate()
    yield store
    store.engine.dispose()


def test_migrations_are_versioned_and_idempotent(store):
    from reporting.storage.migrations import MIGRATIONS

    latest = MIGRATIONS[-1][0]
    assert store.migrate() == latest
    assert store.migrate() == latest
    with store.engine.connect() as connection:
        versions = connection.execute(select(schema.schema_version.c.version)).scalars().all()
    assert sorted(versions) == [number for number, _, _ in MIGRATIONS]


def test_report_and_outbox_row_are_written_together(store):
    ref = new_reference()
    report_id = store.reports.create(ref, submission(), Reporter("Alice", central_id=7), "de", "maildir:/x")
    rows = list(store.outbox.rows())
    assert [(r.report_id, r.state, r.priority) for r in rows] == [(report_id, "pending", 1)]
    report = store.reports.of_reporter(ref, "Alice")
    assert report.description == SECRET_TEXT
    assert report.reporter == Reporter("Alice", central_id=7)
    assert report.status == "received"


def test_a_failed_outbox_insert_stores_no_report(store, monkeypatch):
    original = schema.outbox.insert

    def broken_insert():
        raise RuntimeError("disk full")
    monkeypatch.setattr(schema.outbox, "insert", broken_insert)
    with pytest.raises(RuntimeError):
        store.reports.create(new_reference(), submission(), Reporter("Alice"), "en", "maildir:/x")
    monkeypatch.setattr(schema.outbox, "insert", original)
    with store.engine.connect() as connection:
        assert connection.execute(select(schema.reports)).all() == []


def test_reports_are_visible_only_to_their_reporter(store):
    ref = new_reference()
    store.reports.create(ref, submission(), Reporter("Alice"), "en", "maildir:/x")
    assert store.reports.of_reporter(ref, "Mallory") is None
    assert store.reports.list_of("Mallory") == []
    assert [s.ref for s in store.reports.list_of("Alice")] == [ref]


def test_database_holds_none_of_the_reporters_text(store):
    store.reports.create(new_reference(), submission(), Reporter("Alice Reporter"), "de", "maildir:/x")
    with store.engine.connect() as connection:
        dump = repr([connection.execute(select(table)).all() for table in schema.metadata.sorted_tables])
    for secret in (SECRET_TEXT, "Ümit", "секрет", "Troll Account", "diff=4242", "Alice Reporter"):
        assert secret not in dump


def test_mariadb_tables_are_utf8mb4(database_url, store):
    if not database_url.startswith("mysql"):
        return  # the charset question only exists on MariaDB
    with store.engine.connect() as connection:
        charsets = connection.execute(text(
            "SELECT DISTINCT CCSA.character_set_name FROM information_schema.TABLES T "
            "JOIN information_schema.COLLATION_CHARACTER_SET_APPLICABILITY CCSA "
            "ON CCSA.collation_name = T.table_collation WHERE T.table_schema = DATABASE()")).scalars().all()
    assert charsets == ["utf8mb4"]


def test_claims_take_emergencies_first_and_are_leases(store):
    now = utcnow()
    normal = store.reports.create(new_reference(), submission(), Reporter("A"), "en", "maildir:/x", now=now)
    urgent = store.reports.create(new_reference(), submission(category="threat-of-violence"), Reporter("B"), "en",
                                 "maildir:/x", now=now + timedelta(seconds=1))
    first = store.outbox.claim_due(now=now + timedelta(seconds=2), limit=1)
    assert [item.report_id for item in first] == [urgent]
    second = store.outbox.claim_due(now=now + timedelta(seconds=2), limit=5)
    assert [item.report_id for item in second] == [normal]
    # Both are leased: nothing is due until the lease ends.
    assert store.outbox.claim_due(now=now + timedelta(seconds=3)) == []
    expired = store.outbox.claim_due(now=now + timedelta(minutes=10))
    assert sorted(item.report_id for item in expired) == sorted([normal, urgent])
    assert all(item.attempts == 2 for item in expired)


def test_claims_with_reports_lease_the_same_rows_and_open_them_on_demand(store, monkeypatch):
    now = utcnow()
    normal = store.reports.create(new_reference(), submission(), Reporter("A"), "en", "maildir:/x", now=now)
    urgent = store.reports.create(new_reference(), submission(category="threat-of-violence"), Reporter("B"), "en",
                                 "maildir:/x", now=now + timedelta(seconds=1))
    opened = []
    real_open = store.reports.sealer.open
    monkeypatch.setattr(store.reports.sealer, "open", lambda *args: opened.append(args[1]) or real_open(*args))
    claimed = store.outbox.claim_due(now=now + timedelta(seconds=2), limit=5)
    assert [item.report_id for item in claimed] == [urgent, normal]
    assert opened == []  # nothing decrypted until the delivery asks
    for item in claimed:
        report = item.open_report()
        assert report == store.reports.by_id(item.report_id)
        assert (item.ref, item.attempts) == (report.ref, 1)
    assert store.outbox.claim_due(now=now + timedelta(seconds=3)) == []
    assert store.outbox.claim_due(now=now + timedelta(seconds=3)) == []


def test_delivery_outcomes_update_report_status_and_backlog(store):
    now = utcnow()
    ref = new_reference()
    store.reports.create(ref, submission(), Reporter("A"), "en", "maildir:/x", now=now)
    [item] = store.outbox.claim_due(now=now)
    store.outbox.mark_retry(item, "desk down", now + timedelta(minutes=1))
    assert store.outbox.claim_due(now=now) == []
    assert store.outbox.backlog(now=now + timedelta(seconds=30))["pending"] == 1
    [item] = store.outbox.claim_due(now=now + timedelta(minutes=2))
    store.outbox.mark_delivered(item, "42", "2026112110000042")
    assert store.reports.of_reporter(ref, "A").status == "forwarded"
    assert store.outbox.backlog()["pending"] == 0
    actions = [action for _, _, action in store.audit.trail(item.report_id)]
    assert actions == ["submitted", "forwarded"]


def test_permanent_failure_is_counted_for_operators(store):
    store.reports.create(new_reference(), submission(), Reporter("A"), "en", "maildir:/x")
    [item] = store.outbox.claim_due()
    store.outbox.mark_failed(item, "HTTP 401 from desk")
    assert store.outbox.backlog()["failed"] == 1
