"""Logs hold tracebacks for operators and never report content (reporting.logs)."""
from __future__ import annotations

import logging

import pytest

from reporting.delivery import attempt
from reporting.delivery.worker import Worker
from reporting.intake.submit import Intake
from reporting.logs import PrivateFormatter, describe_exception

from .conftest import login, make_app

MARKER = "Zq7Marker9Xv"


def _crash_with_content(report, *_args, **_kwargs):
    """A realistic bug: the content is quoted in the exception's message."""
    return int(report.description)


def test_no_log_line_holds_report_content_when_the_worker_and_views_crash(tmp_path, monkeypatch, capsys):
    app = make_app(tmp_path, **{"delivery.synchronous": False})
    components = app.extensions["reporting"]
    client = app.test_client()
    token = login(client, f"Reporter {MARKER}")
    typed = {"wiki": "en.wikipedia.org", "category": "harassment", "reported_users": f"Target{MARKER}",
             "evidence": f"https://en.wikipedia.org/wiki/Page_{MARKER}", "description": f"He wrote {MARKER}"}
    response = client.post("/report", data={**typed, "csrf_token": token})
    assert response.status_code == 303  # stored; its links cannot be resolved offline (logged)

    monkeypatch.setattr(attempt, "render_ticket", _crash_with_content)
    assert Worker(components.stores.outbox, components.delivery.connectors.connector_for).run_once() == 0
    [row] = list(components.stores.outbox.rows())
    assert row.state == "pending" and "internal error (ValueError)" in row.last_error

    def crashing_submit(self, submission, reporter, lang, key=None):
        raise KeyError(submission.description)

    monkeypatch.setattr(Intake, "submit", crashing_submit)
    assert client.post("/report", data={**typed, "csrf_token": token}).status_code == 500
    api = client.post("/api/v1/reports", headers={"X-CSRF-Token": token},
                      json={**typed, "reported_users": [typed["reported_users"]], "evidence": [typed["evidence"]]})
    assert api.status_code == 500

    logged = capsys.readouterr().err
    assert logged.count("Traceback (most recent call last):") >= 3  # the worker, the form, the API
    assert "ValueError (message withheld)" in logged and "KeyError (message withheld)" in logged
    assert "in _crash_with_content" in logged and "in crashing_submit" in logged  # the stack is there
    assert MARKER not in logged


@pytest.mark.parametrize(("error", "shown"), [
    (ValueError("what the reporter typed"), "ValueError (message withheld)"),
    (KeyError("Some User"), "KeyError (message withheld)"),
    (OSError(28, "No space left on device"), "OSError: [Errno 28] No space left on device"),
])
def test_messages_are_shown_only_for_exceptions_that_carry_no_content(error, shown):
    assert describe_exception(error) == shown


def test_chained_exceptions_keep_their_stacks_and_withhold_their_messages():
    try:
        try:
            words = "secret " + "words"
            int(words)
        except ValueError as error:
            raise RuntimeError(words) from error
    except RuntimeError as error:
        record = logging.LogRecord("reporting", logging.ERROR, __file__, 1, "crash", (), (RuntimeError, error,
                                                                                         error.__traceback__))
    text = PrivateFormatter("%(message)s").format(record)
    assert "secret" not in text
    assert text.index("ValueError (message withheld)") < text.index("direct cause") < text.index(
        "RuntimeError (message withheld)")
