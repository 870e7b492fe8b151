"""``local:functionaries`` is a real destination: the case is in the workspace as soon as it is stored.

Emergencies never go to a local queue (the tool refuses to start with routing that could send one
there), and the start-up says so when a local queue's wiki can have no functionary.
"""
from __future__ import annotations

import logging
import secrets

import pytest

from reporting.components import Components
from reporting.config import ConfigError, load_config
from reporting.storage.crypto import generate_key
from tests.conftest import make_app
from tests.queue.helpers import OTHER_WIKI, Person

EMERGENCIES_TO_A_DESK = {"severity": "emergency", "destination": "maildir:emergency"}
DE_TO_LOCAL = {"wiki": OTHER_WIKI, "consented": True, "destination": "local:functionaries"}


def build(tmp_path, **settings):
    config = load_config(environ={}, config_file=None, overrides={
        "encryption_key": generate_key(), "secret_key": secrets.token_urlsafe(32), **settings})
    return Components.build(config, tmp_path / "instance")


def test_a_case_routed_to_the_local_queue_is_forwarded_at_once_and_worked_in_the_workspace(tmp_path):
    # No delivery in the request for other desks (production): the local queue needs none.
    app = make_app(tmp_path, **{"delivery.rules": [EMERGENCIES_TO_A_DESK, DE_TO_LOCAL],
                                "delivery.synchronous": False})
    reporter = Person(app, "reporter")
    dora = Person(app, "functionary of another wiki")  # checkuser on de.wikipedia.org
    local = reporter.report(wiki=OTHER_WIKI, consent=True)
    elsewhere = reporter.report(wiki=OTHER_WIKI, consent=False)
    assert reporter.client.get(f"/api/v1/reports/{local}").get_json()["status"] == "forwarded"
    assert reporter.client.get(f"/api/v1/reports/{elsewhere}").get_json()["status"] == "received"  # the worker's
    listed = dora.client.get("/api/v1/queue").get_json()["cases"]
    assert [(c["ref"], c["destination_kind"]) for c in listed] == [(local, "local")]
    case = dora.client.get(f"/api/v1/queue/{local}").get_json()
    assert case["desk_ticket"] == f"local:{local}" and case["desk_managed"] is False
    assert case["settable_statuses"] == ["in-review", "needs-info", "resolved", "declined"]
    # The workspace sets the status of a local case; the reporter sees it.
    assert dora.patch(f"/api/v1/queue/{local}", {"status": "resolved", "message_to_reporter": "Done."}).status_code \
        == 200
    mine = reporter.client.get(f"/api/v1/reports/{local}").get_json()
    assert mine["status"] == "resolved" and mine["timeline"][-1]["message"] == "Done."
    page = dora.client.get(f"/queue/{local}").get_data(as_text=True)
    assert 'id="case-destination"' in page and f"local:{local}" in page


@pytest.mark.parametrize("rules", [
    [DE_TO_LOCAL],  # threats on de.wikipedia.org from consenting reporters would match it
    [{"category": "child-safety", "destination": "maildir:legal"}, DE_TO_LOCAL],  # other emergencies still would
    # The emergency rule comes too late: the first matching rule wins.
    [{"category": ["self-harm", "harassment"], "destination": "local:functionaries"}, EMERGENCIES_TO_A_DESK],
])
def test_routing_that_could_send_an_emergency_to_a_local_queue_is_refused(tmp_path, rules):
    with pytest.raises(ConfigError, match=r"emergency reports \([a-z-]+\) would go to a local queue"):
        build(tmp_path, **{"delivery.rules": rules})


def test_routing_with_emergencies_caught_first_may_use_local_queues(tmp_path):
    # Two deployments (each build has its own encryption key, and a database remembers its keys).
    build(tmp_path / "one", **{"delivery.rules": [EMERGENCIES_TO_A_DESK, DE_TO_LOCAL]})
    build(tmp_path / "two", **{"delivery.rules": [EMERGENCIES_TO_A_DESK], "delivery.default": "local:functionaries"})


@pytest.mark.parametrize(("groups", "default", "warned"), [
    ({"*": ["checkuser", "suppress"]}, None, None),
    ({"de.wikipedia.org": [], "*": ["checkuser"]}, None, "reports of de.wikipedia.org can go to a local queue"),
    ({"dewiki": [], "*": ["checkuser"]}, None, "reports of de.wikipedia.org can go to a local queue"),
    ({"dewiki": ["checkuser"]}, "local:functionaries", "reports of wikis no rule names can go to a local queue"),
])
def test_the_start_up_says_when_a_local_queue_can_have_no_functionary(tmp_path, caplog, groups, default, warned):
    settings = {"delivery.rules": [EMERGENCIES_TO_A_DESK, DE_TO_LOCAL], "roles.functionary_groups": groups}
    if default:
        settings["delivery.default"] = default
    with caplog.at_level(logging.WARNING, logger="reporting.components"):
        build(tmp_path, **settings)
    messages = [record.getMessage() for record in caplog.records if record.name == "reporting.components"]
    if warned is None:
        assert messages == []
    else:
        assert any(warned in message and "only stewards and Trust & Safety" in message for message in messages)
