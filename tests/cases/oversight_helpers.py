"""What the misuse and oversight tests share: declining a case as the workspace does, audit rows, logins."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from reporting.cases.statuses import Source, Status, path
from reporting.storage import schema
from reporting.storage.case_status import change_status_in
from reporting.storage.database import utcnow
from reporting.storage.misuse import record_unfounded_in
from tests.conftest import login

#: Who logs in as what (dev login groups: global groups, or group@host for a local group).
PEOPLE = {
    "anonymous": None,
    "plain user": ("Bob", ""),
    "functionary": ("Fiona", "checkuser@en.wikipedia.org"),
    "steward": ("Stella", "steward"),
    "trust-and-safety": ("Tess", "staff"),
}


def client_as(app, who: str):
    """A test client logged in as ``who`` (a key of :data:`PEOPLE`), and its CSRF token (None if anonymous)."""
    client = app.test_client()
    person = PEOPLE[who]
    if person is None:
        return client, None
    return client, login(client, *person)


def report_row(stores, ref: str):
    with stores.engine.connect() as connection:
        return connection.execute(select(schema.reports).where(schema.reports.c.ref == ref)).one()


def decline(stores, ref: str, *, unfounded: bool = True, actor: str = "Fiona", now: datetime | None = None) -> None:
    """What the workspace does when a functionary declines a case (issue 12's contract): the status
    change, its timeline entry and, for "manifestly unfounded", the ``declined-unfounded`` audit
    entry under the functionary's name (which makes the reporter's sessions look at their standing
    again), in one transaction."""
    row = report_row(stores, ref)
    now = now or utcnow()
    steps = path(row.status, Status.DECLINED)
    assert steps is not None
    with stores.engine.begin() as connection:
        change_status_in(connection, stores.reports.sealer, ref, row.id, row.status, steps, Source.FUNCTIONARY,
                         actor, "Nothing here breaks a policy.", now=now)
        if unfounded:
            record_unfounded_in(connection, stores.reports.sealer, row.id, actor, now)


def reopen(stores, ref: str, actor: str = "Fiona") -> None:
    row = report_row(stores, ref)
    assert stores.case_status.change(row.id, ref, row.status, [Status.IN_REVIEW], Source.FUNCTIONARY, actor)


def audit_rows(stores, action: str | None = None) -> list:
    table = schema.audit_log
    query = select(table).order_by(table.c.id)
    if action is not None:
        query = query.where(table.c.action == action)
    with stores.engine.connect() as connection:
        return connection.execute(query).all()
