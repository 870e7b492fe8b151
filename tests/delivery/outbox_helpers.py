"""Shared pieces of the outbox and worker tests: reports in bulk, worker processes, waiting."""
from __future__ import annotations

import secrets

from tests.conftest import guarded_environment
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from reporting.storage import schema
from reporting.intake.references import new_reference
from reporting.intake.submission import Submission
from reporting.intake.submission import Reporter
from reporting.storage import Stores

REPOSITORY = Path(__file__).resolve().parents[2]
ZENDESK_EMAIL = "bot@example.org"
ZENDESK_TOKEN = "zd-token-for-tests"


def submission(category: str = "harassment", wiki: str = "en.wikipedia.org", share: bool = False) -> Submission:
    return Submission(wiki=wiki, category=category, reported_users=("Some Troll",),
                      evidence=("https://en.wikipedia.org/w/index.php?diff=1",),
                      description="What happened, in the reporter's words.", share_with_functionaries=share)


def fill_outbox(store: Stores, count: int, destination: str, category: str = "harassment") -> list[str]:
    """Store ``count`` reports (with their outbox rows) for ``destination``; return their references."""
    refs = []
    for _ in range(count):
        ref = new_reference()
        store.reports.create(ref, submission(category), Reporter("Reporter"), "en", destination)
        refs.append(ref)
    return refs


def outbox_states(store: Stores) -> Counter:
    with store.engine.connect() as connection:
        rows = connection.execute(select(schema.outbox.c.state, func.count()).group_by(schema.outbox.c.state))
        return Counter(dict(rows.all()))


def delivered_count(store: Stores) -> int:
    return outbox_states(store)["delivered"]


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def worker_environment(database_url: str, encryption_key: str, instance: Path, **settings: str) -> dict[str, str]:
    """The environment of a worker process: no inherited ``TOOL_*`` and no config.yaml."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("TOOL_")}
    env.update({
        "TOOL_CONFIG_FILE": str(instance / "no-config.yaml"),
        "TOOL_INSTANCE_PATH": str(instance),
        "TOOL_SECRET_KEY": "worker-test-secret-" + secrets.token_hex(16),
        "TOOL_ENCRYPTION_KEY": encryption_key,
        "TOOL_DATABASE_URL": database_url,
        "TOOL_DELIVERY__SYNCHRONOUS": "false",
    })
    for key, value in settings.items():
        env["TOOL_" + key.upper().replace(".", "__")] = value
    return guarded_environment(env)


def start_worker(env: dict[str, str], log_path: Path, *arguments: str) -> subprocess.Popen:
    """``flask --app app reporting worker ARGUMENTS`` as its own process, logging to ``log_path``."""
    log = open(log_path, "ab")
    try:
        return subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "reporting", "worker", *arguments],
                                cwd=REPOSITORY, env=env, stdout=log, stderr=subprocess.STDOUT)
    finally:
        log.close()


def stop_all(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.kill()
    for process in processes:
        process.wait(timeout=10)
