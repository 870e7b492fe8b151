"""A follow-up whose worker is SIGKILLed after the desk accepted it still reaches the desk exactly once.

The worker PROCESS (`flask --app app reporting worker`) adds the note, the desk
stores it and then holds its answer back; the test kills the worker in that
window (the worst moment: the desk has the note, the outbox does not know).
The next worker takes the row over when its lease ends, finds the note's
marker on the ticket and records the delivery without adding it again.
"""
from __future__ import annotations

import signal

import pytest

from reporting.delivery.configure import ConnectorPool
from reporting.delivery.worker import Worker
from reporting.intake.references import new_reference
from reporting.intake.submission import Reporter
from reporting.storage import Stores
from reporting.storage.crypto import Sealer, generate_key
from tests.cases.helpers import ZNUNY_PASSWORD, ZNUNY_QUEUE, ZNUNY_USER
from tests.conftest import mariadb_database
from tests.delivery.outbox_helpers import (
    ZENDESK_EMAIL,
    ZENDESK_TOKEN,
    start_worker,
    stop_all,
    submission,
    wait_until,
    worker_environment,
)
from tests.fakes.zendesk import FakeZendesk
from tests.fakes.znuny import FakeZnuny

pytestmark = pytest.mark.slow

DESK_DELAY = 3.0  # seconds the desk holds its answer after doing the work


@pytest.fixture
def mariadb_url():
    yield from mariadb_database()


def zendesk_desk():
    desk = FakeZendesk(email=ZENDESK_EMAIL, api_token=ZENDESK_TOKEN)
    return desk, lambda: f"zendesk+http://127.0.0.1:{desk.port}", {
        "delivery.zendesk_email": ZENDESK_EMAIL, "delivery.zendesk_api_token": ZENDESK_TOKEN}


def znuny_desk():
    desk = FakeZnuny(users={ZNUNY_USER: ZNUNY_PASSWORD}, queues={ZNUNY_QUEUE})
    return desk, lambda: (f"znuny+http://127.0.0.1:{desk.port}{desk.webservice_path}"
                          f"?queue={ZNUNY_QUEUE.replace(' ', '+')}"), {
        "delivery.znuny_user": ZNUNY_USER, "delivery.znuny_password": ZNUNY_PASSWORD}


def notes_on_desk(desk, marker: str) -> int:
    if isinstance(desk, FakeZendesk):
        return sum(marker in comment["body"] for comments in desk.comments.values() for comment in comments)
    return sum(marker in article["Body"] for ticket in desk.tickets.values() for article in ticket["Articles"])


@pytest.mark.parametrize("make_desk", [zendesk_desk, znuny_desk], ids=["zendesk", "znuny"])
def test_a_followup_sigkilled_after_the_desk_accepted_it_is_one_note(tmp_path, mariadb_url, make_desk):
    key = generate_key()
    store = Stores.open(mariadb_url, Sealer(key))
    store.migrate()
    desk, destination_of, secrets = make_desk()
    with desk:
        destination = destination_of()
        env = worker_environment(mariadb_url, key, tmp_path, **{"delivery.default": destination, **secrets})
        ref = new_reference()
        report_id = store.reports.create(ref, submission(), Reporter("Alice"), "en", destination)
        pool = ConnectorPool({"delivery.sender": "a@b.example", "delivery.recipient": "c@d.example",
                              "delivery.timeout_seconds": 5.0},
                             {name.split(".")[1]: value for name, value in secrets.items()})
        assert Worker(store.outbox, pool.connector_for).run_once() == 1  # the ticket exists
        followup = store.followups.add(report_id, ref, "followup", "He wrote to me again, by e-mail this time.")

        desk.response_delay = DESK_DELAY
        log = tmp_path / "worker.log"
        worker = start_worker(env, log, "--poll-seconds", "0.05", "--lease-seconds", "2", "--threads", "1")
        try:
            assert wait_until(lambda: notes_on_desk(desk, followup.marker) == 1, timeout=30), log.read_text()
            worker.send_signal(signal.SIGKILL)  # the desk has the note; its answer is still on the way
            worker.wait(timeout=10)
            assert [row.state for row in store.outbox.rows() if row.kind == "followup"] == ["pending"]
            desk.response_delay = 0.0
            worker = start_worker(env, log, "--poll-seconds", "0.05", "--lease-seconds", "2", "--threads", "1")
            assert wait_until(lambda: [row.state for row in store.outbox.rows() if row.kind == "followup"]
                              == ["delivered"], timeout=30), log.read_text()
        finally:
            stop_all([worker])
        assert notes_on_desk(desk, followup.marker) == 1
        [row] = [row for row in store.outbox.rows() if row.kind == "followup"]
        assert row.attempts == 2  # the killed attempt and the one that found the note
    store.engine.dispose()
