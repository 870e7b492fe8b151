"""The status sync: how many requests a pass over 300 open cases costs one Zendesk desk.

- ``status_sync.requests_for_300_cases``: the first pass over 300 open cases
  delivered to the strict fake Zendesk (tests/fakes/zendesk.py), one of which
  an agent set to "pending" with a public reply: ``show_many`` in batches of
  100, and the comments of the one ticket that changed. Target: <= 4.
- ``status_sync.requests_for_300_cases_next_pass``: the pass after it (the
  changed ticket's comments are read once more; nothing else).
- ``status_sync.pass_ms_300_cases``: the wall time of the first pass (SQLite,
  the desk on 127.0.0.1).

Usage: ``make bench`` (all benchmarks) or ``python -m bench.status_sync``.
"""
from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reporting.cases.sync import StatusSync  # noqa: E402
from reporting.delivery.configure import ConnectorPool  # noqa: E402
from reporting.delivery.worker import Worker  # noqa: E402
from reporting.intake.references import new_reference  # noqa: E402
from reporting.intake.submission import Reporter, Submission  # noqa: E402
from reporting.storage import Stores  # noqa: E402
from reporting.storage.crypto import Sealer, generate_key  # noqa: E402
from tests.fakes.zendesk import AGENT_EMAIL, AGENT_TOKEN, standard_desk  # noqa: E402

CASES = 300


def run() -> Iterable[tuple[str, float | str]]:
    submission = Submission(wiki="en.wikipedia.org", category="harassment", reported_users=("Some Troll",),
                            evidence=(), description="What happened.", share_with_functionaries=False)
    with tempfile.TemporaryDirectory() as directory, standard_desk() as desk:
        store = Stores.open(f"sqlite:///{directory}/bench.sqlite3", Sealer(generate_key()))
        store.migrate()
        destination = f"zendesk+http://127.0.0.1:{desk.port}"
        refs = [new_reference() for _ in range(CASES)]
        for ref in refs:
            store.reports.create(ref, submission, Reporter("Reporter"), "en", destination)
        pool = ConnectorPool({"delivery.sender": "a@example.org", "delivery.recipient": "b@example.org",
                              "delivery.timeout_seconds": 10.0},
                             {"zendesk_email": AGENT_EMAIL, "zendesk_api_token": AGENT_TOKEN})
        assert Worker(store.outbox, pool.connector_for).run_once() == CASES
        [changed] = [ticket_id for ticket_id, ticket in desk.tickets.items() if ticket["external_id"] == refs[150]]
        desk.set_status(changed, "pending")
        desk.agent_comment(changed, "Can you tell us which page it was?")
        sync = StatusSync(store.desk_sync, pool.connector_for)

        before = len(desk.requests)
        started = time.perf_counter()
        outcome = sync.run_once()
        elapsed = time.perf_counter() - started
        first = len(desk.requests) - before
        assert outcome.cases == CASES and outcome.changed == 1 and outcome.messages == 1, outcome
        before = len(desk.requests)
        sync.run_once()
        second = len(desk.requests) - before
        store.engine.dispose()
    yield "status_sync.requests_for_300_cases", first
    yield "status_sync.requests_for_300_cases_next_pass", second
    yield "status_sync.pass_ms_300_cases", round(elapsed * 1000, 1)


if __name__ == "__main__":
    for name, value in run():
        print(f"BENCH {name} {value}")
