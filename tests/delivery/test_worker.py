"""The worker and the submit path in one process, on SQLite and MariaDB, against a strict local Zendesk.

Time is moved forward through the worker's clock instead of sleeping through
backoffs, so every test is bounded by the work it does.
"""
from __future__ import annotations

import secrets

import logging
import time
from datetime import timedelta

import pytest

from reporting.storage import schema
from reporting.delivery.attempt import EMERGENCY_BASE_BACKOFF_SECONDS
from reporting.delivery.worker import Worker
from reporting.components import Components
from reporting.config import ConfigError, load_config
from reporting.storage.crypto import generate_key
from reporting.storage.database import utcnow
from tests.conftest import health_of, login, make_app
from tests.fakes.http_server import free_port
from tests.fakes.zendesk import FakeZendesk

from .outbox_helpers import ZENDESK_EMAIL, ZENDESK_TOKEN, fill_outbox, outbox_states

ORDINARY = {"wiki": "en.wikipedia.org", "category": "harassment", "reported_users": ["Troll"],
            "evidence": ["https://en.wikipedia.org/w/index.php?diff=7"], "description": "They keep insulting me."}
EMERGENCY = {**ORDINARY, "category": "threat-of-violence", "description": "He wrote he will come to my house."}


class Clock:
    """The worker's "now": real time plus an offset the test moves forward."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self):
        return utcnow() + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


# These tests file hundreds of reports from one account: lift the daily limit.
NO_RATE_LIMIT = {"rate_limit.per_day": 100_000, "rate_limit.new_account_per_day": 100_000}


def zendesk_app(tmp_path, database_url, port: int, **settings):
    return make_app(tmp_path, database_url, **{
        **NO_RATE_LIMIT,
        "delivery.default": f"zendesk+http://127.0.0.1:{port}",
        "delivery.zendesk_email": ZENDESK_EMAIL, "delivery.zendesk_api_token": ZENDESK_TOKEN, **settings})


def desk_on(port: int) -> FakeZendesk:
    desk = FakeZendesk(email=ZENDESK_EMAIL, api_token=ZENDESK_TOKEN)
    desk.bind_port = port
    desk.start()
    return desk


@pytest.fixture
def desk():
    with FakeZendesk(email=ZENDESK_EMAIL, api_token=ZENDESK_TOKEN) as fake:
        yield fake


def submit(client, token, body):
    response = client.post("/api/v1/reports", json=body, headers={"X-CSRF-Token": token})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def tickets_by_ref(desk: FakeZendesk) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for ticket_id, ticket in sorted(desk.tickets.items()):
        found.setdefault(ticket["external_id"], []).append(ticket_id)
    return found


@pytest.mark.slow  # hundreds of reports through the app and the worker
def test_desk_down_while_200_reports_are_submitted_then_every_one_arrives_once(tmp_path, database_url):
    port = free_port()  # nothing listens: the desk is down
    app = zendesk_app(tmp_path, database_url, port, **{"delivery.synchronous": True})
    services = app.extensions["reporting"]
    client = app.test_client()
    token = login(client, "Alice")
    refs = [submit(client, token, ORDINARY)["ref"] for _ in range(200)]
    assert len(set(refs)) == 200
    assert outbox_states(services.stores) == {"pending": 200}
    _, health = health_of(client)
    assert health["outbox"]["pending"] == 200 and health["outbox"]["oldest_pending_seconds"] >= 0
    assert {r["status"] for r in client.get("/api/v1/reports").get_json()["reports"]} == {"received"}

    desk = desk_on(port)  # the desk comes back, and loses some answers after creating the ticket
    try:
        desk.lose_response(times=15, method="POST")
        clock = Clock()
        worker = Worker(services.stores.outbox, services.delivery.connectors.connector_for, clock=clock)
        rounds = 0
        while outbox_states(services.stores)["pending"] and rounds < 5:
            clock.advance(hours=1)  # past every backoff
            worker.run_once()
            rounds += 1
        assert outbox_states(services.stores) == {"delivered": 200}
        by_ref = tickets_by_ref(desk)
        assert sorted(by_ref) == sorted(refs)
        assert all(len(ids) == 1 for ids in by_ref.values()), "a report became two tickets"
        assert rounds >= 2, "the lost answers must have made some deliveries retry"
        recorded = {row.ticket_id for row in services.stores.outbox.rows()}
        assert recorded == {str(ids[0]) for ids in by_ref.values()}
        assert {r["status"] for r in client.get("/api/v1/reports").get_json()["reports"]} == {"forwarded"}
    finally:
        desk.stop()


@pytest.mark.slow  # hundreds of reports through the app and the worker
def test_emergency_behind_a_backlog_of_500_is_delivered_first(tmp_path, database_url):
    port = free_port()
    app = zendesk_app(tmp_path, database_url, port, **{"delivery.synchronous": False})
    services = app.extensions["reporting"]
    backlog = fill_outbox(services.stores, 500, services.delivery.router.default)
    client = app.test_client()
    token = login(client, "Alice")
    queued = submit(client, token, EMERGENCY)  # the desk is down: the attempt in the request fails
    assert queued["emergency"]["queued"] is True and queued["status"] == "received"

    desk = desk_on(port)
    try:
        clock = Clock()
        clock.advance(seconds=2 * EMERGENCY_BASE_BACKOFF_SECONDS)
        worker = Worker(services.stores.outbox, services.delivery.connectors.connector_for, clock=clock)
        assert worker.deliver_next() is True
        assert desk.tickets[min(desk.tickets)]["external_id"] == queued["ref"], "the backlog went first"
        assert desk.tickets[min(desk.tickets)]["priority"] == "urgent"

        # With the desk up, an emergency reaches it inside the request, ahead of all 500.
        immediate = submit(client, token, EMERGENCY)
        assert immediate["emergency"] == {**immediate["emergency"], "delivered": True, "queued": False}
        assert [t["external_id"] for _, t in sorted(desk.tickets.items())] == [queued["ref"], immediate["ref"]]
        assert outbox_states(services.stores) == {"pending": 500, "delivered": 2}

        worker.run_once()
        by_ref = tickets_by_ref(desk)
        assert sorted(by_ref) == sorted(backlog + [queued["ref"], immediate["ref"]])
        assert all(len(ids) == 1 for ids in by_ref.values())
    finally:
        desk.stop()


def test_retries_back_off_exponentially_then_deliver(tmp_path, desk):
    app = zendesk_app(tmp_path, None, desk.port)
    services = app.extensions["reporting"]
    [ref] = fill_outbox(services.stores, 1, services.delivery.router.default)
    desk.fail_with(503, {"error": "ServiceUnavailable"}, times=2)
    clock = Clock()
    worker = Worker(services.stores.outbox, services.delivery.connectors.connector_for, clock=clock)
    delays = []
    for _ in range(2):
        start = clock()
        assert worker.deliver_next() is False
        [row] = list(services.stores.outbox.rows())
        assert row.state == "pending" and row.claimed_until is None and "HTTP 503" in row.last_error
        delays.append((row.next_attempt_at - start).total_seconds())
        assert worker.deliver_next() is None, "not due before its backoff"
        clock.advance(seconds=delays[-1] + 1)
    assert 15 <= delays[0] <= 30.5 and 30 <= delays[1] <= 60.5
    assert worker.deliver_next() is True
    [row] = list(services.stores.outbox.rows())
    assert (row.state, row.attempts, row.ticket_id) == ("delivered", 3, str(min(desk.tickets)))
    assert desk.tickets[int(row.ticket_id)]["external_id"] == ref


def test_permanent_refusal_stops_retrying_and_raises_an_alert(tmp_path, desk, caplog):
    app = make_app(tmp_path, **{"delivery.default": f"zendesk+http://127.0.0.1:{desk.port}",
                                "delivery.zendesk_email": ZENDESK_EMAIL, "delivery.zendesk_api_token": "wrong"})
    services = app.extensions["reporting"]
    [ref] = fill_outbox(services.stores, 1, services.delivery.router.default)
    clock = Clock()
    worker = Worker(services.stores.outbox, services.delivery.connectors.connector_for, clock=clock)
    with caplog.at_level(logging.ERROR):
        assert worker.deliver_next() is False
    [alert] = [r for r in caplog.records if r.getMessage().startswith("ALERT")]
    assert ref in alert.getMessage() and "HTTP 401" in alert.getMessage()
    assert "insulting" not in caplog.text and "Troll" not in caplog.text
    clock.advance(days=30)
    assert worker.deliver_next() is None
    assert outbox_states(services.stores) == {"failed": 1}
    _, health = health_of(app.test_client())
    assert health["status"] == "degraded" and health["outbox"]["failed"] == 1


def test_submit_delivers_only_the_report_it_stored(tmp_path):
    app = make_app(tmp_path)  # embedded default: Maildir, synchronous delivery
    services = app.extensions["reporting"]
    [older] = fill_outbox(services.stores, 1, services.delivery.router.default)
    client = app.test_client()
    token = login(client, "Alice")
    body = submit(client, token, ORDINARY)
    assert body["status"] == "forwarded" and "emergency" not in body
    rows = {row.report_id: row.state for row in services.stores.outbox.rows()}
    assert sorted(rows.values()) == ["delivered", "pending"], "the request delivered someone else's report"
    [message] = services.delivery.connectors.connector_for(services.delivery.router.default).messages()
    assert body["ref"] in message["Message-ID"] and older not in message["Message-ID"]


def test_without_synchronous_delivery_ordinary_reports_wait_for_the_worker(tmp_path, desk):
    app = zendesk_app(tmp_path, None, desk.port, **{"delivery.synchronous": False})
    services = app.extensions["reporting"]
    client = app.test_client()
    token = login(client, "Alice")
    body = submit(client, token, ORDINARY)
    assert body["status"] == "received" and desk.tickets_created == 0
    assert Worker(services.stores.outbox, services.delivery.connectors.connector_for).run_once() == 1
    assert [t["external_id"] for t in desk.tickets.values()] == [body["ref"]]


def test_emergency_is_delivered_in_the_request_and_the_receipt_says_so(tmp_path, desk):
    app = zendesk_app(tmp_path, None, desk.port, **{"delivery.synchronous": False})
    client = app.test_client()
    token = login(client, "Alice")
    body = submit(client, token, EMERGENCY)
    assert body["status"] == "forwarded" and body["emergency"]["delivered"] is True
    assert "emergency@wikimedia.org" in body["emergency"]["contacts"]
    [ticket] = desk.tickets.values()
    assert ticket["external_id"] == body["ref"] and ticket["priority"] == "urgent"
    html = client.get(f"/reports/{body['ref']}?submitted=1").get_data(as_text=True)
    assert "passed to the people who handle emergencies" in html and 'id="emergency-queued"' not in html
    # Good news in a notice, not a red error box; the address is a mailto: link.
    assert 'class="cdx-message cdx-message--notice emergency-notice" role="status" id="emergency-delivered"' in html
    assert "cdx-message--error" not in html
    assert '<a href="mailto:emergency@wikimedia.org">emergency@wikimedia.org</a>' in html


def test_emergency_with_the_desk_down_is_saved_queued_and_the_reporter_told_at_once(tmp_path):
    port = free_port()
    app = zendesk_app(tmp_path, None, port, **{"delivery.synchronous": False})
    services = app.extensions["reporting"]
    client = app.test_client()
    login(client, "Alice")
    form = client.get("/report").get_data(as_text=True)
    from tests.conftest import csrf_from

    response = client.post("/report", data={**EMERGENCY, "reported_users": "Troll", "evidence": EMERGENCY["evidence"][0],
                                            "csrf_token": csrf_from(form)})
    assert response.status_code == 303
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="emergency-queued"' in html
    # "Not delivered yet" comes before the green "saved" box, as a warning.
    assert html.index('id="emergency-queued"') < html.index("cdx-message--success receipt")
    assert 'class="cdx-message cdx-message--warning emergency-notice emergency-queued"' in html
    assert "saved" in html and "queued" in html and "emergency@wikimedia.org" in html and "local emergency services" in html
    [row] = list(services.stores.outbox.rows())
    assert row.state == "pending" and row.priority == 0 and row.claimed_until is None
    wait = (row.next_attempt_at - utcnow()).total_seconds()
    assert wait <= EMERGENCY_BASE_BACKOFF_SECONDS, "an emergency must be retried soon"

    desk = desk_on(port)
    try:
        clock = Clock()
        clock.advance(seconds=EMERGENCY_BASE_BACKOFF_SECONDS)
        assert Worker(services.stores.outbox, services.delivery.connectors.connector_for, clock=clock).deliver_next() is True
        html = client.get(response.headers["Location"].replace("?submitted=1", "")).get_data(as_text=True)
        assert 'id="emergency-queued"' not in html
    finally:
        desk.stop()


def test_a_slow_desk_cannot_hold_the_emergency_request_longer_than_the_timeout(tmp_path, desk):
    # The emergency budget is also the connector's per-wait timeout, so each answer must come in
    # under it for the late attempt to succeed; a delivery waits for two (lookup, create), so the
    # desk needs half as long again as the budget. The bound sits halfway between the budget and
    # the desk's time: a request that waited for the desk cannot pass it, and a request that
    # answered on time has half a second to spare for a loaded machine (its own work takes ~0.1 s).
    timeout = 2.0
    desk.response_delay = 0.75 * timeout  # 0.5 s under the per-wait timeout
    desk_time = 2 * desk.response_delay
    app = zendesk_app(tmp_path, None, desk.port, **{"delivery.synchronous": False,
                                                    "delivery.emergency_timeout_seconds": str(timeout)})
    services = app.extensions["reporting"]
    client = app.test_client()
    token = login(client, "Alice")
    started = time.monotonic()
    body = submit(client, token, EMERGENCY)
    assert time.monotonic() - started < (timeout + desk_time) / 2
    assert body["emergency"]["queued"] is True and "emergency@wikimedia.org" in body["emergency"]["message"]
    # The late attempt is not abandoned: it finishes and records the ticket.
    deadline = time.monotonic() + desk_time + 5
    while services.stores.outbox.row_of(services.stores.reports.of_reporter(body["ref"], "Alice").id).state != "delivered":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert desk.tickets_created == 1


@pytest.mark.parametrize(("settings", "toolforge", "named"), [
    ({"delivery.rules": [{"severity": "emergency", "destination": "local:functionaries"}]},
     False, r"delivery\.rules.*emergency reports \(threat-of-violence\) would go to a local queue"),
    ({"delivery.default": "local:functionaries"}, False, r"delivery\.default.*emergency reports .* local queue"),
    ({}, True, r"delivery\.default.*Maildir on Toolforge .* lost on restart"),
    ({"delivery.default": "maildir:/data/project/x/maildir"}, True, r"delivery\.default.*Maildir on Toolforge"),
])
def test_destinations_that_reach_nobody_are_refused_at_start(tmp_path, settings, toolforge, named):
    """Emergencies in a local queue (whose functionaries may not see them), or a Maildir that a
    Toolforge container loses on restart, would file reports where no human reads them in time: the
    tool refuses to start with them."""
    config = load_config(environ={}, config_file=None, overrides={
        "encryption_key": generate_key(), "secret_key": secrets.token_urlsafe(32), **settings})
    with pytest.raises(ConfigError, match=named):
        Components.build(config, tmp_path / "instance", toolforge=toolforge)


def test_a_row_whose_desk_was_removed_from_the_config_waits_and_alerts(tmp_path, caplog):
    app = make_app(tmp_path)
    services = app.extensions["reporting"]
    fill_outbox(services.stores, 1, "zendesk+https://gone.zendesk.com")  # no Zendesk secrets configured now
    worker = Worker(services.stores.outbox, services.delivery.connectors.connector_for)
    with caplog.at_level(logging.ERROR):
        assert worker.deliver_next() is False
    assert "ALERT" in caplog.text and "zendesk_email" in caplog.text
    [row] = list(services.stores.outbox.rows())
    assert row.state == "pending" and row.claimed_until is None and row.next_attempt_at > utcnow()


def test_a_report_that_cannot_be_opened_fails_its_delivery_not_the_claim(tmp_path, desk, caplog):
    """The claim reads the report but only the delivery decrypts it, so a
    broken row is retried like any failed delivery and the worker goes on."""
    app = zendesk_app(tmp_path, None, desk.port)
    store = app.extensions["reporting"].stores
    fill_outbox(store, 2, f"zendesk+http://127.0.0.1:{desk.port}")
    [first, second] = [row.report_id for row in store.outbox.rows()]
    with store.engine.begin() as connection:
        connection.execute(schema.reports.update().where(schema.reports.c.id == first).values(sealed=b"garbage"))
    worker = Worker(store.outbox, app.extensions["reporting"].delivery.connectors.connector_for)
    with caplog.at_level(logging.ERROR):
        assert worker.run_once() == 1
    assert "crashed" in caplog.text
    rows = {row.report_id: row for row in store.outbox.rows()}
    assert rows[first].state == "pending" and rows[first].claimed_until is None
    assert rows[first].next_attempt_at > utcnow() and "internal error" in rows[first].last_error
    assert rows[second].state == "delivered"


def test_healthz_shows_the_backlog_and_the_oldest_undelivered_age(tmp_path):
    app = make_app(tmp_path, **{"delivery.synchronous": False})
    services = app.extensions["reporting"]
    store = services.stores
    from reporting.intake.references import new_reference
    from reporting.intake.submission import Reporter

    from .outbox_helpers import submission

    an_hour_ago = utcnow() - timedelta(hours=1)
    store.reports.create(new_reference(), submission("self-harm"), Reporter("R"), "en", "maildir:x", now=an_hour_ago)
    fill_outbox(store, 2, "maildir:x")
    outbox = health_of(app.test_client())[1]["outbox"]
    assert outbox["pending"] == 3 and outbox["pending_emergencies"] == 1
    assert 3590 <= outbox["oldest_pending_seconds"] <= 3700
    assert 3590 <= outbox["oldest_pending_emergency_seconds"] <= 3700


def test_worker_once_command_delivers_what_is_due(tmp_path):
    app = make_app(tmp_path, **{"delivery.synchronous": False})
    services = app.extensions["reporting"]
    fill_outbox(services.stores, 3, services.delivery.router.default)
    with app.app_context():  # `flask` pushes it for every command; the test runner does not
        result = app.test_cli_runner().invoke(args=["reporting", "worker", "--once"])
        assert result.exit_code == 0 and "delivered 3" in result.output
        result = app.test_cli_runner().invoke(args=["reporting", "deliver"])
        assert result.exit_code == 0 and "delivered 0" in result.output
    assert outbox_states(services.stores) == {"delivered": 3}
