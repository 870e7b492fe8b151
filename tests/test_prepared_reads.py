"""PreparedRead answers what SQLAlchemy's own execution answers (reporting/storage/prepared.py).

The per-request reads run outside SQLAlchemy's execution path, so each is checked against it on
SQLite and MariaDB: the same rows, converted the same way (datetimes, booleans, nulls), for one and
for several keys in a list parameter, with literals written into the statement; and a database that
cannot answer raises the error every other statement raises.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import DBAPIError

from reporting.storage import misuse, schema
from reporting.storage.crypto import Sealer, generate_key
from reporting.storage.database import is_unavailable, make_engine, utcnow
from reporting.storage.login_sessions import _STATE, LoginSessions
from reporting.storage.migrations import migrate
from reporting.storage.prepared import PreparedRead

# The session check compares expiry with the database's own clock: the rows are around the real now.
NOW = utcnow().replace(microsecond=0)


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    migrate(engine)
    with engine.begin() as connection:
        connection.execute(schema.login_sessions.insert(), [
            {"id_hash": "a" * 64, "user_hash": "u1", "created_at": NOW, "expires_at": NOW + timedelta(hours=1),
             "misuse_epoch": 2, "clear_epoch": 1},
            {"id_hash": "b" * 64, "user_hash": "u2", "created_at": NOW, "expires_at": NOW - timedelta(hours=1),
             "misuse_epoch": 0, "clear_epoch": None},
        ])
        connection.execute(schema.misuse_suspensions.insert().values(
            reporter_hash="u1", report_id=None, trigger_audit_id=1, started_at=NOW - timedelta(days=1),
            ends_at=NOW + timedelta(days=29), counted_until=NOW - timedelta(days=1)))
    yield engine
    engine.dispose()


def through_sqlalchemy(engine, statement, parameters):
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(statement, parameters)]


COUNT_SINCE = (select(func.count(), func.min(schema.login_sessions.c.expires_at))
               .where(schema.login_sessions.c.created_at >= bindparam("since"),
                      schema.login_sessions.c.user_hash != "nobody"))


@pytest.mark.parametrize(("statement", "parameters"), [
    (_STATE, {"ids": ["a" * 64]}),
    (_STATE, {"ids": ["z" * 64, "a" * 64]}),
    (_STATE, {"ids": ["b" * 64]}),
    (misuse._OVERVIEW, {"hashes": ["u1"], "now": NOW, "since": NOW - timedelta(days=90)}),
    (misuse._OVERVIEW, {"hashes": ["x", "u1"], "now": NOW, "since": NOW - timedelta(days=90)}),
    (misuse._OVERVIEW, {"hashes": ["nobody"], "now": NOW, "since": NOW - timedelta(days=90)}),
    (COUNT_SINCE, {"since": NOW - timedelta(days=1)}),
], ids=["session", "session-two-keys", "session-expired", "overview", "overview-two-keys", "overview-clear", "literals"])
def test_a_prepared_read_answers_what_sqlalchemy_answers(engine, statement, parameters):
    prepared = PreparedRead(engine, statement)
    expected = through_sqlalchemy(engine, statement, parameters)
    for _ in range(2):  # compiled the first time, reused the second
        assert prepared.rows(parameters) == expected
    assert prepared.first(parameters) == (expected[0] if expected else None)
    for row in expected:
        for value in row:
            assert value is None or isinstance(value, datetime | int | bool)


def test_the_login_session_check_reads_the_record(engine):
    sessions = LoginSessions(engine, Sealer(generate_key()))
    opened = sessions.open("Alice", utcnow() + timedelta(hours=1))
    assert sessions.state(opened) is not None
    sessions.close(opened)
    assert sessions.state(opened) is None


@pytest.mark.parametrize(("expires_in", "open_"), [(-3, False), (6, True)])
def test_the_login_session_check_compares_expiry_with_the_database_clock(engine, expires_in, open_):
    """The expiry is compared in SQL with the database's UTC time (SQLite's strftime, MariaDB's
    UTC_TIMESTAMP), against the naive UTC the tool stores: seconds either side count."""
    sessions = LoginSessions(engine, Sealer(generate_key()))
    opened = sessions.open("Alice", utcnow() + timedelta(seconds=expires_in))
    assert (sessions.state(opened) is not None) is open_
    assert (through_sqlalchemy(engine, _STATE, {"ids": [sessions.sealer.index_hash(opened)]}) != []) is open_


def test_a_database_that_cannot_answer_raises_what_every_statement_raises(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'gone' / 'no.sqlite3'}")  # its folder does not exist
    with pytest.raises(DBAPIError) as raised:
        PreparedRead(engine, select(schema.login_sessions.c.expires_at)).rows({})
    assert is_unavailable(raised.value) == is_unavailable(_error_of_sqlalchemy(engine))


def test_a_missing_table_is_a_bug_not_an_outage(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    with pytest.raises(DBAPIError) as raised:
        PreparedRead(engine, select(schema.login_sessions.c.expires_at)).rows({})
    assert not is_unavailable(raised.value)
    assert "no such table" in str(raised.value.orig)


def _error_of_sqlalchemy(engine) -> BaseException:
    try:
        with engine.connect() as connection:
            connection.execute(select(schema.login_sessions.c.expires_at))
    except DBAPIError as error:
        return error
    raise AssertionError("the statement ran")


def test_each_read_sees_what_was_committed_before_it_in_any_thread(engine):
    """On SQLite each thread keeps its own connection: a read must still see every commit before it
    (a logout in another process ends the session at once), and a failed connection is replaced."""
    import threading

    read = PreparedRead(engine, _STATE)
    later = {"ids": ["c" * 64], "now": NOW}
    assert read.rows(later) == []
    with engine.begin() as connection:
        connection.execute(schema.login_sessions.insert().values(
            id_hash="c" * 64, user_hash="u3", created_at=NOW, expires_at=NOW + timedelta(hours=1)))
    assert read.rows(later) == [(0, None)]
    seen = []
    thread = threading.Thread(target=lambda: seen.append(read.rows(later)))
    thread.start()
    thread.join()
    assert seen == [[(0, None)]]
    with engine.begin() as connection:
        connection.execute(schema.login_sessions.delete().where(schema.login_sessions.c.id_hash == "c" * 64))
    assert read.rows(later) == []
    broken = PreparedRead(engine, select(func.count()).select_from(schema.login_sessions)
                          .where(schema.login_sessions.c.user_hash == bindparam("user")))
    refused = object() if engine.dialect.name == "sqlite" else float("nan")  # what each driver refuses
    with pytest.raises(DBAPIError):
        broken.rows({"user": refused})
    assert broken.rows({"user": "u1"}) == [(1,)]  # and the next read works
