"""Worker PROCESSES (`flask --app app reporting worker`) against a throw-away MariaDB database.

What these show, each bounded in time:

* several workers killed with SIGKILL at random moments, and restarted, still
  deliver every report exactly once to Zendesk (tickets counted at the desk);
* the same against a real SMTP server, where exactly-once means one Message-ID
  per report: mail cannot be made exactly-once (RFC 1047: a server may keep a
  message whose "250" the client never heard), so a kill that lands between
  the server keeping the message and the worker recording it sends the message
  again with the SAME Message-ID, which mail desks drop. The test counts those
  duplicates and holds them to at most one per kill;
* four workers deliver 1,000 reports with no row claimed twice;
* an emergency that becomes due while workers churn through a backlog waits
  for at most the deliveries already in flight (one per worker thread);
* SIGTERM lets the delivery in flight finish and record, then exits cleanly.

Workers run with a 2-second lease so that rows held by a killed worker come
back quickly; production keeps the 5-minute default.
"""
from __future__ import annotations

import json
import random
import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from reporting.storage.crypto import Sealer, generate_key
from reporting.intake.references import new_reference
from reporting.intake.submission import Reporter
from reporting.storage import Stores
from tests.conftest import mariadb_database
from tests.fakes.smtp import FakeSmtp
from tests.fakes.zendesk import FakeZendesk

from .outbox_helpers import (ZENDESK_EMAIL, ZENDESK_TOKEN, delivered_count, fill_outbox, outbox_states, start_worker,
                             stop_all, submission, wait_until, worker_environment)

FAST = ("--poll-seconds", "0.05", "--lease-seconds", "2")
THREADS = 4  # the worker command's default: deliveries in flight per process
KILL_TEST_THREADS = 2  # fewer, so the 300 deliveries outlast several kills

# Each test runs worker processes for seconds: `PYTEST_ARGS='-m "not slow"' make test` skips them.
pytestmark = pytest.mark.slow


@pytest.fixture
def mariadb_url():
    yield from mariadb_database()


@pytest.fixture
def key():
    return generate_key()


@pytest.fixture
def store(mariadb_url, key):
    store = Stores.open(mariadb_url, Sealer(key))
    store.migrate()
    yield store
    store.engine.dispose()


@pytest.fixture
def zendesk():
    with FakeZendesk(email=ZENDESK_EMAIL, api_token=ZENDESK_TOKEN) as desk:
        yield desk


def zendesk_env(mariadb_url, key, tmp_path, desk):
    return worker_environment(mariadb_url, key, tmp_path, **{
        "delivery.default": f"zendesk+http://127.0.0.1:{desk.port}",
        "delivery.zendesk_email": ZENDESK_EMAIL, "delivery.zendesk_api_token": ZENDESK_TOKEN})


def log_tail(tmp_path: Path) -> str:
    return "\n".join((tmp_path / "worker.log").read_text(errors="replace").splitlines()[-30:])


def run_with_random_kills(store: Stores, env: dict, tmp_path: Path, total: int, workers: int = 2) -> tuple[int, int]:
    """Run ``workers`` worker processes, SIGKILL one at a random moment and
    start a replacement, until every row is delivered. Returns (kills, kills
    that landed while rows were still undelivered)."""
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    log = tmp_path / "worker.log"
    arguments = (*FAST, "--threads", str(KILL_TEST_THREADS))
    processes = [start_worker(env, log, *arguments) for _ in range(workers)]
    kills = kills_mid_work = 0
    deadline = time.monotonic() + 90
    try:
        while delivered_count(store) < total and time.monotonic() < deadline and kills < 12:
            time.sleep(rng.uniform(0.6, 1.2))  # past start-up (~0.5 s), then anywhere in the work
            victim = rng.randrange(workers)
            undelivered = delivered_count(store) < total
            processes[victim].send_signal(signal.SIGKILL)
            processes[victim].wait(timeout=10)
            kills += 1
            kills_mid_work += undelivered
            processes[victim] = start_worker(env, log, *arguments)
        assert wait_until(lambda: delivered_count(store) == total, timeout=60), \
            f"seed {seed}: {outbox_states(store)}\n{log_tail(tmp_path)}"
    finally:
        stop_all(processes)
    return kills, kills_mid_work


def test_sigkilled_zendesk_workers_still_deliver_each_report_exactly_once(store, mariadb_url, key, tmp_path, zendesk):
    zendesk.response_delay = 0.05  # widens "ticket created, worker not told yet", where kills hurt most
    refs = fill_outbox(store, 300, f"zendesk+http://127.0.0.1:{zendesk.port}")
    kills, mid_work = run_with_random_kills(store, zendesk_env(mariadb_url, key, tmp_path, zendesk), tmp_path, 300)
    assert mid_work >= 3, f"only {mid_work} of {kills} kills hit running work"
    external_ids = Counter(ticket["external_id"] for ticket in zendesk.tickets.values())
    assert zendesk.tickets_created == 300 and sorted(external_ids) == sorted(refs)
    assert max(external_ids.values()) == 1
    rows = list(store.outbox.rows())
    assert {row.state for row in rows} == {"delivered"}
    ticket_of_ref = {ticket["external_id"]: str(ticket_id) for ticket_id, ticket in zendesk.tickets.items()}
    ref_of_report = {store.reports.by_id(row.report_id).ref: row.ticket_id for row in rows}
    assert ref_of_report == ticket_of_ref
    taken_over = sum(1 for row in rows if row.attempts > 1)
    print(f"Zendesk: {kills} kills ({mid_work} during work), {taken_over} deliveries taken over after a kill")
    assert taken_over, "no delivery was interrupted and taken over"


def test_sigkilled_smtp_workers_send_one_message_id_per_report(store, mariadb_url, key, tmp_path):
    with FakeSmtp() as server:
        server.accept_delay = 0.05
        destination = f"smtp://127.0.0.1:{server.port}?to=desk@example.org"
        refs = fill_outbox(store, 300, destination)
        env = worker_environment(mariadb_url, key, tmp_path, **{"delivery.default": destination})
        kills, mid_work = run_with_random_kills(store, env, tmp_path, 300)
        received = list(server.received)
    assert mid_work >= 3, f"only {mid_work} of {kills} kills hit running work"
    message_ids = Counter(item.message["Message-ID"] for item in received)
    assert sorted(message_ids) == sorted(f"<report-{ref}@incident-reporting.toolforge.org>" for ref in refs)
    duplicates = len(received) - len(message_ids)
    print(f"SMTP: {kills} kills ({mid_work} during work), {duplicates} repeated Message-IDs")
    assert duplicates <= kills * KILL_TEST_THREADS, f"{duplicates} repeated messages from {kills} kills"
    for item in received:  # every copy is the complete report, so a desk may keep either
        ref = item.message["Message-ID"][len("<report-"):].split("@")[0]
        [json_part] = [part for part in item.message.iter_attachments() if part.get_filename() == "report.json"]
        assert json.loads(json_part.get_content())["ref"] == ref
        assert item.rcpt_tos == ["desk@example.org"]
    assert outbox_states(store) == {"delivered": 300}


def test_four_workers_deliver_1000_reports_each_exactly_once(store, mariadb_url, key, tmp_path, zendesk):
    refs = fill_outbox(store, 1000, f"zendesk+http://127.0.0.1:{zendesk.port}")
    env = zendesk_env(mariadb_url, key, tmp_path, zendesk)
    logs = [tmp_path / f"worker-{number}.log" for number in range(4)]
    processes = [start_worker(env, log, "--poll-seconds", "0.05") for log in logs]
    try:
        assert wait_until(lambda: delivered_count(store) == 1000, timeout=90), outbox_states(store)
        for process in processes:
            process.send_signal(signal.SIGTERM)
        assert [process.wait(timeout=15) for process in processes] == [0, 0, 0, 0]
    finally:
        stop_all(processes)
    per_worker = [int(log.read_text().rsplit("delivered ", 1)[1].split()[0]) for log in logs]
    assert sum(per_worker) == 1000, per_worker
    assert sum(1 for count in per_worker if count) >= 2, f"the work was not shared: {per_worker}"
    external_ids = Counter(ticket["external_id"] for ticket in zendesk.tickets.values())
    assert sorted(external_ids) == sorted(refs) and max(external_ids.values()) == 1
    rows = list(store.outbox.rows())
    assert {(row.state, row.attempts) for row in rows} == {("delivered", 1)}, "a row was claimed twice"
    assert len({row.ticket_id for row in rows}) == 1000


def test_an_emergency_overtakes_the_backlog_workers_are_churning_through(store, mariadb_url, key, tmp_path, zendesk):
    destination = f"zendesk+http://127.0.0.1:{zendesk.port}"
    fill_outbox(store, 500, destination)
    env = zendesk_env(mariadb_url, key, tmp_path, zendesk)
    processes = [start_worker(env, tmp_path / "worker.log", "--poll-seconds", "0.05") for _ in range(2)]
    try:
        assert wait_until(lambda: zendesk.tickets_created >= 100, timeout=30), log_tail(tmp_path)
        ref = new_reference()
        store.reports.create(ref, submission("threat-of-violence"), Reporter("Reporter"), "en", destination)
        delivered_before = zendesk.tickets_created
        assert wait_until(lambda: any(t["external_id"] == ref for t in zendesk.tickets.values()), timeout=10)
    finally:
        stop_all(processes)
    order = [ticket["external_id"] for _, ticket in sorted(zendesk.tickets.items())]
    position = order.index(ref)
    # Before it, at most: the deliveries each worker thread had in flight when the emergency was
    # stored, and one more each that the other threads finish while the emergency's own delivery
    # (open, render, look up, create: as long as any other) runs. Hundreds of older rows were
    # still waiting (checked below). The first bound counted only the former and failed once
    # under load: (114, 104) against 112.
    assert position <= delivered_before + 2 * 2 * THREADS, (position, delivered_before)
    assert len(order) < 501, "the backlog must still have been there"


def test_sigterm_finishes_the_delivery_in_flight_then_exits(tmp_path, key, zendesk):
    database_url = f"sqlite:///{tmp_path / 'reports.sqlite3'}"
    store = Stores.open(database_url, Sealer(key))
    store.migrate()
    zendesk.response_delay = 0.5
    fill_outbox(store, 3, f"zendesk+http://127.0.0.1:{zendesk.port}")
    worker = start_worker(zendesk_env(database_url, key, tmp_path, zendesk), tmp_path / "worker.log", *FAST,
                          "--threads", "1")
    try:
        assert wait_until(lambda: any(r.method == "POST" for r in zendesk.requests), timeout=15), log_tail(tmp_path)
        worker.send_signal(signal.SIGTERM)  # while the desk is creating the first ticket
        assert worker.wait(timeout=10) == 0
    finally:
        stop_all([worker])
    rows = list(store.outbox.rows())
    assert sorted(row.state for row in rows) == ["delivered", "pending", "pending"]
    assert all(row.claimed_until is None for row in rows), "the worker left a claim behind"
    assert zendesk.tickets_created == 1
    assert "delivered 1" in (tmp_path / "worker.log").read_text()
