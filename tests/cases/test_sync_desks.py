"""One pass over several desks: each is asked on its own, and one desk's trouble stops no other."""
from __future__ import annotations

import json
import logging

from tests.cases.helpers import ZNUNY_PASSWORD, ZNUNY_QUEUE, ZNUNY_USER, Reporter, app_for, zendesk_settings, znuny_settings
from tests.fakes.zendesk import standard_desk
from tests.fakes.znuny import FakeZnuny


def test_a_refusing_desk_raises_an_alert_and_the_other_desk_is_still_synced(tmp_path, caplog):
    with standard_desk() as zendesk, FakeZnuny(users={ZNUNY_USER: ZNUNY_PASSWORD}, queues={ZNUNY_QUEUE}) as znuny:
        znuny_rule = znuny_settings(znuny)
        settings = {**zendesk_settings(zendesk), **{k: v for k, v in znuny_rule.items() if k != "delivery.default"},
                    "delivery.rules": json.dumps([{"wiki": "de.wikipedia.org",
                                                   "destination": znuny_rule["delivery.default"]}])}
        app = app_for(tmp_path, settings)
        alice = Reporter(app)
        at_zendesk, at_znuny = alice.report(), alice.report(wiki="de.wikipedia.org")
        [ticket] = znuny.tickets
        znuny.set_state(ticket, "closed successful")
        zendesk.api_token = "revoked"  # every request is now refused (HTTP 401)
        with caplog.at_level(logging.ERROR):
            outcome = app.extensions["reporting"].status_sync.run_once()
        assert (outcome.desks, outcome.failed_desks, outcome.changed) == (2, 1, 1)
        assert alice.case(at_znuny)["status"] == "resolved"
        assert alice.case(at_zendesk)["status"] == "forwarded"
        [alert] = [r.getMessage() for r in caplog.records if "ALERT status sync" in r.getMessage()]
        assert "HTTP 401" in alert and at_zendesk not in alert and "revoked" not in alert
