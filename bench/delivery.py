"""Delivery: worker throughput against a bare smtplib loop, and emergency latency.

All against the real SMTP server the tests use (aiosmtpd on 127.0.0.1) and a
throw-away MariaDB database (ToolsDB's engine), bounded to well under two
minutes.

- ``delivery.worker_msgs_per_s`` / ``delivery.bare_smtplib_msgs_per_s`` /
  ``delivery.worker_vs_bare_ratio``: the worker command (``worker --once``,
  default 4 threads: claim, decrypt, render, build the message, send, record,
  one row at a time per thread) against a loop that only sends the same,
  pre-built messages with smtplib. Each runs as its own process and is timed
  at the server, first to last arrival, so start-up counts for neither. Both
  open one SMTP session per message, as the connector does on purpose (a relay
  may drop idle sessions, and one message per session keeps failures apart).
  Target: ratio >= 0.8.
- ``delivery.{bare_smtplib,worker}_cpu_ms_per_msg``: CPU time per message of
  each client process (the worker's start-up subtracted), which explains the
  ratio: on a small machine the worker is CPU-bound in Python (building the
  MIME message, SQLAlchemy and two transactions per delivery), while the bare
  loop only writes bytes.
- ``delivery.emergency_submit_to_ticket_ms_{p50,p99}_{idle,loaded}``: from the
  start of ``Intake.submit`` of an emergency to its message at the SMTP
  server, with no worker running (idle) and with a worker process busy on a
  backlog of ordinary reports (loaded). Emergencies are delivered inside the
  submit, so this is what a reporter waits for.
- ``delivery.reclaim_after_kill_s``: a worker process SIGKILLed while its
  delivery hangs at the desk (the message kept, "250" not sent yet); from the
  kill to the first re-delivery of its row by another worker with the default
  lease. Target: within 30 s for emergencies (it is one lease, ~20 s).
- ``delivery.emergency_worker_lane_ms_{p50,p99}_loaded``: an emergency whose
  in-request attempt failed, from becoming due to its message at the server,
  while the loaded worker churns through the backlog: the priority lane.
"""
from __future__ import annotations

import itertools
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reporting.config import load_config  # noqa: E402
from reporting.storage.crypto import Sealer, generate_key  # noqa: E402
from reporting.delivery.email_message import build_message  # noqa: E402
from reporting.delivery.render import render_ticket  # noqa: E402
from reporting.intake.references import new_reference  # noqa: E402
from reporting.intake.submission import Submission  # noqa: E402
from reporting.components import Components  # noqa: E402
from reporting.intake.submission import Reporter  # noqa: E402
from reporting.storage import Stores  # noqa: E402
from tests.conftest import mariadb_database as tests_mariadb_database
from tests.fakes.smtp import FakeSmtp  # noqa: E402

THROUGHPUT_MESSAGES = int(os.environ.get("BENCH_DELIVERY_MESSAGES", "400"))
LATENCY_SAMPLES = int(os.environ.get("BENCH_DELIVERY_SAMPLES", "60"))
BACKLOG = 4000  # more than the loaded worker can finish while we measure
SENDER, RECIPIENT = "incident-reporting@toolforge.org", "desk@example.org"


mariadb_database = contextmanager(tests_mariadb_database)


def submission(category: str) -> Submission:
    return Submission(wiki="en.wikipedia.org", category=category, reported_users=("Some Troll",),
                      evidence=("https://en.wikipedia.org/w/index.php?diff=1",),
                      description="What happened, in the reporter's words. " * 8, share_with_functionaries=False)


def fill_backlog(store: Stores, count: int, destination: str, reporter: Reporter) -> None:
    """``count`` ordinary reports with their outbox rows, inserted in bulk
    (sealed like :meth:`ReportStore.create` does, which is too slow one by one)."""
    from reporting.storage import schema
    from reporting.storage.database import utcnow

    now = utcnow()
    fields = {**submission("harassment").sealed_fields(), "reporter": reporter.as_dict()}
    refs = [new_reference() for _ in range(count)]
    rows = [dict(ref=ref, created_at=now, updated_at=now, wiki="en.wikipedia.org", category="harassment",
                 severity="normal", status="received", share_with_functionaries=False,
                 reporter_hash=store.reports.sealer.index_hash(reporter.username), reporter_lang="en",
                 sealed=store.reports.sealer.seal(fields, ref)) for ref in refs]
    with store.engine.begin() as connection:
        connection.execute(schema.reports.insert(), rows)
        ids = connection.execute(schema.reports.select().with_only_columns(schema.reports.c.id)
                                 .where(schema.reports.c.ref.in_(refs))).scalars().all()
        connection.execute(schema.outbox.insert(), [
            dict(report_id=report_id, destination=destination, priority=1, state="pending", attempts=0,
                 next_attempt_at=now, created_at=now) for report_id in ids])


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class Arrivals:
    """Watches the server's received messages; :meth:`wait_for` returns when one arrived."""

    def __init__(self, server: FakeSmtp) -> None:
        self.server = server
        self.scanned = 0
        self.seen: set[str] = set()

    def wait_for(self, ref: str, timeout: float = 30.0) -> float:
        """The monotonic time at which the message of ``ref`` was seen at the server."""
        wanted = f"<report-{ref}@incident-reporting.toolforge.org>"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            received = self.server.received
            for item in received[self.scanned:len(received)]:
                self.seen.add(item.message["Message-ID"])
            self.scanned = len(received)
            if wanted in self.seen:
                return time.monotonic()
            time.sleep(0.0005)
        raise TimeoutError(f"{ref} did not arrive")


BARE_LOOP = """
import smtplib, sys
from pathlib import Path
port, sender, recipient = int(sys.argv[1]), sys.argv[2], sys.argv[3]
for path in sorted(Path(sys.argv[4]).iterdir()):
    client = smtplib.SMTP("127.0.0.1", port, timeout=10)
    client.ehlo()
    client.sendmail(sender, [recipient], path.read_bytes())
    client.quit()
"""


def child_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def rate_at_server(server: FakeSmtp, first: int, count: int) -> float:
    """Messages per second as the server saw them: first to last arrival, so
    process start-up is not counted for either side."""
    arrived = server.received[first:first + count]
    assert len(arrived) == count, (len(arrived), count)
    return (count - 1) / (arrived[-1].at - arrived[0].at)


def worker_env(url: str, key: str, instance: str, destination: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("TOOL_")}
    env.update({"TOOL_CONFIG_FILE": os.path.join(instance, "none.yaml"), "TOOL_INSTANCE_PATH": instance,
                "TOOL_SECRET_KEY": "bench-" + generate_key(), "TOOL_ENCRYPTION_KEY": key, "TOOL_DATABASE_URL": url,
                "TOOL_DELIVERY__DEFAULT": destination, "TOOL_DELIVERY__SENDER": SENDER})
    return env


def throughput(url: str, key: str) -> Iterable[tuple[str, float | str]]:
    """The worker command and a bare smtplib loop, each its own process, sending
    the same messages to the same server (one SMTP session per message each)."""
    store = Stores.open(url, Sealer(key))
    store.migrate()
    with FakeSmtp() as server, tempfile.TemporaryDirectory() as instance:
        destination = f"smtp://127.0.0.1:{server.port}?to={RECIPIENT}"
        ids = [store.reports.create(new_reference(), submission("harassment"), Reporter("R"), "en", destination)
               for _ in range(THROUGHPUT_MESSAGES)]
        outgoing = Path(instance) / "outgoing"
        outgoing.mkdir()
        for number, report_id in enumerate(ids):
            message = build_message(render_ticket(store.reports.by_id(report_id)), SENDER, RECIPIENT)
            (outgoing / f"{number:06d}.eml").write_bytes(message.as_bytes(policy=message.policy.clone(linesep="\r\n")))

        cpu = child_cpu_seconds()
        subprocess.run([sys.executable, "-c", BARE_LOOP, str(server.port), SENDER, RECIPIENT, str(outgoing)],
                       check=True, timeout=120)
        bare_cpu = child_cpu_seconds() - cpu
        bare = rate_at_server(server, 0, THROUGHPUT_MESSAGES)

        command = [sys.executable, "-m", "flask", "--app", "app", "reporting", "worker", "--once"]
        env = worker_env(url, key, instance, destination)
        run_quietly = dict(cwd=ROOT, env=env, check=True, timeout=120, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        cpu = child_cpu_seconds()
        subprocess.run(command, **run_quietly)
        worker_cpu = child_cpu_seconds() - cpu
        rate = rate_at_server(server, THROUGHPUT_MESSAGES, THROUGHPUT_MESSAGES)
        cpu = child_cpu_seconds()
        subprocess.run(command, **run_quietly)  # nothing left: the cost of starting up
        worker_cpu -= child_cpu_seconds() - cpu
    store.engine.dispose()
    yield "delivery.bare_smtplib_msgs_per_s", round(bare, 1)
    yield "delivery.worker_msgs_per_s", round(rate, 1)
    yield "delivery.worker_vs_bare_ratio", round(rate / bare, 3)
    yield "delivery.bare_smtplib_cpu_ms_per_msg", round(bare_cpu / THROUGHPUT_MESSAGES * 1000, 2)
    yield "delivery.worker_cpu_ms_per_msg", round(worker_cpu / THROUGHPUT_MESSAGES * 1000, 2)


def emergency_latency(url: str, key: str) -> Iterable[tuple[str, float | str]]:
    with FakeSmtp() as server, tempfile.TemporaryDirectory() as instance:
        destination = f"smtp://127.0.0.1:{server.port}?to={RECIPIENT}"
        settings = {"database_url": url, "encryption_key": key, "secret_key": "bench-" + generate_key(), "instance_path": instance,
                    "delivery.default": destination, "delivery.synchronous": False}
        config = load_config(environ={}, overrides=settings)
        services = Components.build(config, Path(instance))
        reporter = Reporter("Bench Reporter")
        arrivals = Arrivals(server)
        # Each emergency from an account of its own, as emergencies come: one account past its emergency
        # ceiling (rate_limit.emergency_per_hour) is delivered by the worker on purpose, not in the request.
        senders = (Reporter(f"Bench Reporter {number}") for number in itertools.count(1))

        def submit_emergencies() -> list[float]:
            latencies = []
            for _ in range(LATENCY_SAMPLES):
                started = time.monotonic()
                ref = services.intake.submit(submission("threat-of-violence"), next(senders), "en")
                latencies.append((arrivals.wait_for(ref) - started) * 1000)
            return latencies

        idle = submit_emergencies()
        yield "delivery.emergency_submit_to_ticket_ms_p50_idle", round(statistics.median(idle), 2)
        yield "delivery.emergency_submit_to_ticket_ms_p99_idle", round(percentile(idle, 0.99), 2)

        # A backlog for the loaded worker, larger than it can finish while we measure.
        fill_backlog(services.stores, BACKLOG, destination, reporter)
        store = services.stores
        env = worker_env(url, key, instance, destination)
        worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "reporting", "worker",
                                   "--poll-seconds", "0.05"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            start = len(server.received)
            deadline = time.monotonic() + 30
            while len(server.received) < start + 50:  # the worker is up and busy
                if time.monotonic() > deadline:
                    raise TimeoutError("the loaded worker did not start delivering")
                time.sleep(0.05)
            loaded = submit_emergencies()
            yield "delivery.emergency_submit_to_ticket_ms_p50_loaded", round(statistics.median(loaded), 2)
            yield "delivery.emergency_submit_to_ticket_ms_p99_loaded", round(percentile(loaded, 0.99), 2)

            lane = []
            for _ in range(LATENCY_SAMPLES // 2):
                ref = new_reference()
                started = time.monotonic()  # due from now on, as after a failed in-request attempt
                store.reports.create(ref, submission("threat-of-violence"), reporter, "en", destination)
                lane.append((arrivals.wait_for(ref) - started) * 1000)
            yield "delivery.emergency_worker_lane_ms_p50_loaded", round(statistics.median(lane), 2)
            yield "delivery.emergency_worker_lane_ms_p99_loaded", round(percentile(lane, 0.99), 2)
            backlog_left = store.outbox.backlog()["pending"]
            if not backlog_left:
                raise RuntimeError("the backlog ran out: the worker was not loaded throughout; raise BACKLOG")
            yield "delivery.loaded_backlog_left", backlog_left
        finally:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        store.engine.dispose()


def reclaim_after_kill(url: str, key: str) -> Iterable[tuple[str, float | str]]:
    """Seconds from SIGKILL of a worker in mid-delivery to the second worker's delivery of that row."""
    store = Stores.open(url, Sealer(key))
    store.migrate()
    with FakeSmtp() as server, tempfile.TemporaryDirectory() as instance:
        server.accept_delay = 5.0
        destination = f"smtp://127.0.0.1:{server.port}?to={RECIPIENT}"
        store.reports.create(new_reference(), submission("threat-of-violence"), Reporter("R"), "en", destination)
        env = worker_env(url, key, instance, destination)
        command = [sys.executable, "-m", "flask", "--app", "app", "reporting", "worker", "--poll-seconds", "0.2"]
        first = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        second = None
        try:
            deadline = time.monotonic() + 60
            while not server.received and time.monotonic() < deadline:
                time.sleep(0.05)
            first.kill()
            first.wait()
            killed_at = time.monotonic()
            second = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            while len(server.received) < 2 and time.monotonic() < killed_at + 90:
                time.sleep(0.05)
            if len(server.received) >= 2:
                yield "delivery.reclaim_after_kill_s", round(server.received[1].at - killed_at, 2)
            else:
                yield "delivery.reclaim_after_kill_s", "not-redelivered-within-90s"
        finally:
            for process in (first, second):
                if process is not None and process.poll() is None:
                    process.kill()
                    process.wait()
            store.engine.dispose()


def run() -> Iterable[tuple[str, float | str]]:
    key = generate_key()
    with mariadb_database() as url:
        yield from throughput(url, key)
    with mariadb_database() as url:
        yield from emergency_latency(url, key)
    with mariadb_database() as url:
        yield from reclaim_after_kill(url, key)


if __name__ == "__main__":
    for name, value in run():
        print(f"BENCH {name} {value}", flush=True)
