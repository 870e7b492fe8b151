"""jobs.yaml (what `toolforge jobs load` reads) runs commands that exist, with options that parse."""
from __future__ import annotations

import shlex
import threading
import time
from pathlib import Path

import click
import pytest
import yaml

from reporting.worker_job import run_job, touch

from .conftest import make_app

ROOT = Path(__file__).resolve().parent.parent
JOBS = yaml.safe_load((ROOT / "jobs.yaml").read_text(encoding="utf-8"))
PROCFILE = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith("#"))


def reporting_command(app, argv: list[str]) -> click.Context:
    """Parse ``flask --app app reporting <sub> ...`` against the app's real CLI; raises if it would not run."""
    assert argv[:4] == ["flask", "--app", "app", "reporting"], argv
    group = app.cli.commands["reporting"]
    name, *arguments = argv[4:]
    command = group.commands[name]  # KeyError: no such command
    return command.make_context(name, arguments)


def test_every_job_names_a_procfile_process_whose_command_exists(tmp_path):
    app = make_app(tmp_path)
    assert [job["name"] for job in JOBS] == ["worker"]
    for job in JOBS:
        assert job["image"] == "tool-incident-reporting/tool-incident-reporting:latest"
        assert job["command"] in PROCFILE, f"{job['command']} is not a process type of the Procfile"
        reporting_command(app, shlex.split(PROCFILE[job["command"]]))


def test_the_worker_job_is_continuous_and_its_health_check_watches_the_workers_heartbeat(tmp_path):
    [worker] = [job for job in JOBS if job["name"] == "worker"]
    assert worker["continuous"] is True and worker["mount"] == "none"
    context = reporting_command(make_app(tmp_path), shlex.split(PROCFILE["worker"]))
    heartbeat = context.params["heartbeat_file"]
    assert heartbeat is not None and worker["health-check-script"] == f"rm {heartbeat}"


def test_the_worker_touches_its_heartbeat_file_on_every_turn(tmp_path):
    app = make_app(tmp_path)
    heartbeat = tmp_path / "alive"
    stop = threading.Event()
    job = threading.Thread(target=run_job, args=(app.extensions["reporting"], stop),
                           kwargs={"threads": 1, "poll_seconds": 0.05, "heartbeat": touch(heartbeat)})
    job.start()
    try:
        for _ in range(3):  # what the health check does: delete, and expect it back
            deadline = time.monotonic() + 5
            while not heartbeat.exists():
                assert time.monotonic() < deadline, "the worker stopped touching its heartbeat"
                time.sleep(0.02)
            heartbeat.unlink()
    finally:
        stop.set()
        job.join(10)
    assert not job.is_alive()


@pytest.mark.parametrize("process", sorted(PROCFILE))
def test_procfile_commands_parse(tmp_path, process):
    argv = shlex.split(PROCFILE[process])
    if argv[0] == "flask":
        reporting_command(make_app(tmp_path), argv)
    else:
        assert argv[0] == "gunicorn" and "app:app" in argv
