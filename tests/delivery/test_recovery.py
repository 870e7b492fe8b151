"""Every report provably reaches a human: recovery after refusals, dead workers and database blips.

Real parts: the strict local Zendesk, a real SMTP server (aiosmtpd), worker
processes killed with SIGKILL, the local MariaDB. Every wait is bounded.
"""
from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError

from reporting.delivery.attempt import deliver_item
from reporting.delivery.leases import LeaseKeeper
from reporting.delivery.worker import Worker
from reporting.storage import Stores
from reporting.storage.crypto import Sealer, generate_key
from reporting.storage.migrations import MIGRATIONS
from reporting.worker_job import JOB_KEY
from tests.conftest import guarded_environment, login, make_app, mariadb_database
from tests.fakes.http_server import free_port
from tests.fakes.smtp import FakeSmtp
from tests.fakes.zendesk import FakeZendesk

from .outbox_helpers import (REPOSITORY, ZENDESK_EMAIL, ZENDESK_TOKEN, fill_outbox, outbox_states, start_worker,
                             stop_all, wait_until, worker_environment)

REPORT = {"wiki": "en.wikipedia.org", "category": "harassment", "reported_users": ["Troll"],
          "evidence": [], "description": "They keep insulting me."}
EMERGENCY = {**REPORT, "category": "threat-of-violence", "description": "He wrote he will come to my house."}
RIGHT = "trust-and-safety@wikimedia.org"


def submit(client, token, body) -> dict:
    response = client.post("/api/v1/reports", json=body, headers={"X-CSRF-Token": token})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def cli(app, *arguments: str) -> str:
    result = app.test_cli_runner().invoke(args=["reporting", *arguments])
    assert result.exit_code == 0, result.output
    return result.stdout  # the logs go to stderr


def test_a_refusal_fixed_in_the_config_is_delivered_once_after_requeue_reroute(tmp_path):
    with FakeSmtp(known_recipients={RIGHT}) as desk:
        database, key = f"sqlite:///{tmp_path / 'reports.sqlite3'}", generate_key()
        typo = f"smtp://127.0.0.1:{desk.port}?to=trust-and-saftey@wikimedia.org"
        app = make_app(tmp_path, database, encryption_key=key, **{"delivery.default": typo})
        client = app.test_client()
        token = login(client, "Alice")
        ref = submit(client, token, REPORT)["ref"]
        assert client.get(f"/api/v1/reports/{ref}").get_json()["status"] == "received"
        assert outbox_states(app.extensions["reporting"].stores) == {"failed": 1}
        assert client.get("/healthz").get_json()["status"] == "degraded"
        listing = cli(app, "outbox")
        assert ref in listing and "failed" in listing and "550" in listing and "?to=" not in listing

        # The operator fixes the address and restarts; the refused report is routed again.
        fixed = make_app(tmp_path, database, encryption_key=key,
                         **{"delivery.default": f"smtp://127.0.0.1:{desk.port}?to={RIGHT}"})
        assert cli(fixed, "requeue", "--failed", "--reroute").endswith("1 requeued\n")
        assert cli(fixed, "worker", "--once").strip() == "delivered 1"
        assert [message.rcpt_tos for message in desk.received] == [[RIGHT]]
        # Nothing is left to requeue, and running again sends nothing twice.
        assert cli(fixed, "requeue", "--failed").endswith("0 requeued\n")
        assert cli(fixed, "worker", "--once").strip() == "delivered 0"
        assert len(desk.received) == 1
        assert fixed.test_client().get("/healthz").get_json()["status"] == "ok"
        assert "nothing waiting" in cli(fixed, "outbox")
        trail = [action for _, _, action in fixed.extensions["reporting"].stores.audit.trail(1)]
        assert trail[-3:] == ["delivery-failed", "requeued", "forwarded"]


def test_requeue_names_rows_it_leaves_alone_and_needs_to_be_told_which(tmp_path):
    app = make_app(tmp_path)
    result = app.test_cli_runner().invoke(args=["reporting", "requeue"])
    assert result.exit_code != 0 and "--failed" in result.output
    assert "not requeued IR-0000-0000-0000-0000" in cli(app, "requeue", "--ref", "IR-0000-0000-0000-0000")


def test_a_delivery_slower_than_its_lease_keeps_its_row(tmp_path):
    """The lease keeper renews the lease while the desk takes its time, so no
    other worker takes the row meanwhile; the desk gets one ticket."""
    with FakeZendesk(email=ZENDESK_EMAIL, api_token=ZENDESK_TOKEN) as desk:
        desk.response_delay = 2.5
        stores = Stores.open(f"sqlite:///{tmp_path / 'r.sqlite3'}", Sealer(generate_key()))
        stores.migrate()
        app = make_app(tmp_path, **{"delivery.zendesk_email": ZENDESK_EMAIL,
                                    "delivery.zendesk_api_token": ZENDESK_TOKEN})
        connectors = app.extensions["reporting"].delivery.connectors
        fill_outbox(stores, 1, f"zendesk+http://127.0.0.1:{desk.port}")
        lease = timedelta(seconds=1)
        worker = Worker(stores.outbox, lambda destination: connectors.connector_for(destination, 5.0), lease=lease,
                        keeper=LeaseKeeper(stores.outbox, lease, interval=0.2))
        delivering = threading.Thread(target=worker.deliver_next)
        delivering.start()
        assert wait_until(lambda: desk.tickets_created == 1, timeout=10)  # claimed, and at the desk
        stolen = []
        while delivering.is_alive():
            stolen += stores.outbox.claim_due(lease=lease)
            time.sleep(0.05)
        assert stolen == [] and worker.delivered == 1
        [row] = list(stores.outbox.rows())
        assert (row.state, row.attempts) == ("delivered", 1) and desk.tickets_created == 1


def test_the_desks_answer_is_recorded_through_a_database_blip(tmp_path, monkeypatch):
    with FakeSmtp() as desk:
        app = make_app(tmp_path, **{"delivery.default": f"smtp://127.0.0.1:{desk.port}?to={RIGHT}",
                                    "delivery.synchronous": False})
        components = app.extensions["reporting"]
        outbox = components.stores.outbox
        fill_outbox(components.stores, 1, components.delivery.router.default)
        [item] = outbox.claim_due()
        real, failures = outbox.mark_delivered, []

        def blip(*args, **kwargs):
            if len(failures) < 3:
                failures.append(1)
                raise OperationalError("UPDATE outbox", {}, Exception("server has gone away"))
            return real(*args, **kwargs)

        monkeypatch.setattr(outbox, "mark_delivered", blip)
        waits: list[float] = []
        connector = components.delivery.connectors.connector_for(item.destination)
        assert deliver_item(outbox, item, connector, sleep=waits.append) is True
        assert len(failures) == 3 and waits == [0.25, 0.5, 1.0]
        [row] = list(outbox.rows())
        assert row.state == "delivered" and len(desk.received) == 1


@pytest.mark.slow
def test_without_a_worker_the_web_process_delivers_once_the_desk_is_back(tmp_path):
    """The embedded default (`make run`): no worker process, the desk down for 20 s."""
    port = free_port()
    app = make_app(tmp_path, **{"delivery.default": f"smtp://127.0.0.1:{port}?to={RIGHT}",
                                "delivery.worker_in_web": True, "delivery.timeout_seconds": 2})
    desk = FakeSmtp()
    desk.bind_port = port
    try:
        client = app.test_client()
        token = login(client, "Alice")
        down_since = time.monotonic()
        refs = [submit(client, token, body)["ref"] for body in (REPORT, EMERGENCY, REPORT)]
        assert all(client.get(f"/api/v1/reports/{ref}").get_json()["status"] == "received" for ref in refs)
        time.sleep(max(0.0, 20 - (time.monotonic() - down_since)))
        desk.start()
        assert wait_until(lambda: len(desk.received) >= 3, timeout=100, interval=0.2), \
            f"{len(desk.received)} of 3 delivered; outbox {outbox_states(app.extensions['reporting'].stores)}"
        time.sleep(1)  # nothing more arrives
        message_ids = Counter(message.message["Message-ID"] for message in desk.received)
        assert len(message_ids) == 3 and set(message_ids.values()) == {1}
        assert all(client.get(f"/api/v1/reports/{ref}").get_json()["status"] == "forwarded" for ref in refs)
    finally:
        app.extensions[JOB_KEY].set()
        desk.stop()


@pytest.fixture
def mariadb_url():
    yield from mariadb_database()


def _reclaim_after_kill(tmp_path, mariadb_url, desk_env: dict, destination: str, in_flight) -> dict[str, float]:
    """Fill one emergency and one other report, start a worker with the default lease, SIGKILL it
    while both deliveries are in flight, start another: seconds from the kill to each delivery."""
    key = generate_key()
    stores = Stores.open(mariadb_url, Sealer(key))
    stores.migrate()
    [emergency] = fill_outbox(stores, 1, destination, category="threat-of-violence")
    [ordinary] = fill_outbox(stores, 1, destination)
    env = worker_environment(mariadb_url, key, tmp_path, **desk_env)
    first = start_worker(env, tmp_path / "worker.log", "--poll-seconds", "0.2", "--threads", "2")
    processes = [first]
    try:
        assert wait_until(in_flight, timeout=30), "the deliveries never reached the desk"
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        killed_at = time.monotonic()
        processes.append(start_worker(env, tmp_path / "worker.log", "--poll-seconds", "0.2"))
        delivered_after: dict[str, float] = {}

        def both_delivered() -> bool:
            for row in stores.outbox.rows():
                ref = stores.reports.by_id(row.report_id).ref
                if row.state == "delivered" and ref not in delivered_after:
                    delivered_after[ref] = time.monotonic() - killed_at
            return len(delivered_after) == 2

        assert wait_until(both_delivered, timeout=90, interval=0.2), (tmp_path / "worker.log").read_text()[-3000:]
        return {"emergency": delivered_after[emergency], "other": delivered_after[ordinary]}
    finally:
        stop_all(processes)


@pytest.mark.slow
def test_a_killed_workers_deliveries_are_taken_over_within_a_lease_and_zendesk_keeps_one_ticket(
        tmp_path, mariadb_url):
    with FakeZendesk(email=ZENDESK_EMAIL, api_token=ZENDESK_TOKEN) as desk:
        desk.response_delay = 4.0  # the ticket exists; the worker has not heard so yet
        seconds = _reclaim_after_kill(tmp_path, mariadb_url, {
            "delivery.default": f"zendesk+http://127.0.0.1:{desk.port}", "delivery.zendesk_email": ZENDESK_EMAIL,
            "delivery.zendesk_api_token": ZENDESK_TOKEN, "delivery.timeout_seconds": "10"},
            f"zendesk+http://127.0.0.1:{desk.port}", lambda: desk.tickets_created == 2)
        assert seconds["emergency"] <= 30 and seconds["other"] <= 60, seconds
        assert desk.tickets_created == 2  # taken over, not duplicated


@pytest.mark.slow
def test_a_killed_workers_mail_is_sent_again_at_most_once(tmp_path, mariadb_url):
    with FakeSmtp() as desk:
        desk.accept_delay = 4.0  # kept by the server, "250" not heard yet
        destination = f"smtp://127.0.0.1:{desk.port}?to={RIGHT}"
        seconds = _reclaim_after_kill(tmp_path, mariadb_url, {"delivery.default": destination},
                                      destination, lambda: len(desk.received) == 2)
        assert seconds["emergency"] <= 30 and seconds["other"] <= 60, seconds
        copies = Counter(message.message["Message-ID"] for message in desk.received)
        assert len(copies) == 2 and max(copies.values()) <= 2  # at most one duplicate per delivery in flight


def test_six_processes_starting_at_once_on_an_empty_mariadb_all_start(tmp_path, mariadb_url):
    env = guarded_environment({**worker_environment(mariadb_url, generate_key(), tmp_path),
                               "TOOL_DELIVERY__WORKER_IN_WEB": "false"})
    program = "import app; print('started')"
    processes = [subprocess.Popen([sys.executable, "-c", program], cwd=REPOSITORY, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(6)]
    outputs = [process.communicate(timeout=120)[0].decode(errors="replace") for process in processes]
    assert [process.returncode for process in processes] == [0] * 6, "\n".join(outputs)[-4000:]
    stores = Stores.open(mariadb_url, Sealer(generate_key()))
    assert stores.migrate() == MIGRATIONS[-1][0]
    with stores.engine.connect() as connection:
        versions = [row[0] for row in connection.exec_driver_sql("SELECT version FROM schema_version ORDER BY 1")]
    assert versions == [number for number, _, _ in MIGRATIONS]
