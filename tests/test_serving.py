"""``/healthz`` is answered ahead of report work under the Procfile's own gunicorn command."""
from __future__ import annotations

import os
import re
import secrets
import shlex
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from reporting.serving import asks_for_health
from tests.conftest import HEALTH_TOKEN, guarded_environment, make_app
from tests.fakes.http_server import free_port

REPOSITORY = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(("sent", "health"), [
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", True),
    (b"GET /healthz?x=1 HTTP/1.1\r\n", True),
    (b"GET /healthzz HTTP/1.1\r\n", False),
    (b"GET /report HTTP/1.1\r\n", False),
    (b"POST /healthz HTTP/1.1\r\n", False),
    (b"POST /api/v1/reports HTTP/1.1\r\n", False),
    (b"GET /hea", None),  # the rest is on its way
    (b"", None),
])
def test_which_requests_ask_for_health(sent, health):
    ours, theirs = socket.socketpair()
    with ours, theirs:
        if sent:
            theirs.sendall(sent)
        assert asks_for_health(ours) is health
        if sent:
            assert ours.recv(1024) == sent, "peeking consumed nothing"


def test_asks_for_health_of_a_closed_connection_is_no():
    ours, theirs = socket.socketpair()
    theirs.close()
    with ours:
        assert asks_for_health(ours) is False


def procfile_web_command(port: int) -> list[str]:
    line = next(line for line in (REPOSITORY / "Procfile").read_text().splitlines() if line.startswith("web:"))
    command = shlex.split(line.removeprefix("web:"))
    command[command.index("--bind") + 1] = f"127.0.0.1:{port}"
    return [sys.executable, "-m", *command] if command[0] == "gunicorn" else command


def test_health_answers_while_every_thread_waits_on_report_work(tmp_path):
    """Every gunicorn thread (2 workers x 4) is held by a submit waiting for SQLite's write lock,
    and more submits queue behind them: /healthz still answers at once."""
    app = make_app(tmp_path)  # creates the database (and the schema) before gunicorn starts
    components = app.extensions["reporting"]
    key = components.config["encryption_key"]
    env = {name: value for name, value in os.environ.items() if not name.startswith("TOOL_")}
    env.update({"TOOL_CONFIG_FILE": str(tmp_path / "no-config.yaml"), "TOOL_INSTANCE_PATH": app.instance_path,
                "TOOL_SECRET_KEY": "serving-test-secret-" + secrets.token_hex(16), "TOOL_ENCRYPTION_KEY": key, "TOOL_DEV_LOGIN": "1",
                "TOOL_LOCAL_DEVELOPMENT": "1", "TOOL_HEALTH__TOKEN": HEALTH_TOKEN,
                "TOOL_DATABASE__TIMEOUT_SECONDS": "6", "TOOL_RATE_LIMIT__PER_DAY": "1000"})
    port = free_port()
    log = open(tmp_path / "gunicorn.log", "wb")
    server = subprocess.Popen(procfile_web_command(port), cwd=REPOSITORY, env=guarded_environment(env),
                              stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    holder = None
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(base + "/healthz", timeout=5)
                break
            except (requests.ConnectionError, requests.Timeout):
                assert time.monotonic() < deadline and server.poll() is None, (tmp_path / "gunicorn.log").read_text()
                time.sleep(0.2)
        session = requests.Session()
        token = re.search(r'name="csrf_token" value="([^"]+)"', session.get(base + "/login", timeout=10).text).group(1)
        session.post(base + "/login", data={"username": "Alice", "csrf_token": token}, allow_redirects=False, timeout=10)
        csrf = session.get(base + "/api/v1/me", timeout=10).json()["csrf_token"]
        cookies = session.cookies.get_dict()

        holder = sqlite3.connect(Path(app.instance_path) / "reports.sqlite3", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # report work now waits (up to 6 s) for the write lock
        answers: list[int] = []

        def submit() -> None:
            response = requests.post(base + "/api/v1/reports", cookies=cookies, timeout=60,
                                     headers={"X-CSRF-Token": csrf},
                                     json={"wiki": "en.wikipedia.org", "category": "harassment", "description": "x"})
            answers.append(response.status_code)

        submitters = [threading.Thread(target=submit) for _ in range(12)]  # 8 threads busy, 4 queued
        for submitter in submitters:
            submitter.start()
        time.sleep(1.0)
        started = time.monotonic()
        health = requests.get(base + "/healthz", headers={"Authorization": f"Bearer {HEALTH_TOKEN}"}, timeout=30)
        elapsed = time.monotonic() - started
        assert health.status_code == 200 and health.json()["status"] == "ok"
        assert elapsed < 1.5, f"/healthz waited {elapsed:.1f} s behind report work"
        assert not answers, "the submits must still have been waiting"
        holder.execute("ROLLBACK")
        for submitter in submitters:
            submitter.join(60)
        assert len(answers) == 12 and set(answers) <= {201, 503}
    finally:
        if holder is not None:
            holder.close()
        server.terminate()
        server.wait(timeout=30)
        log.close()
