"""Routing rules and desk secrets from the configuration: validated at start-up, wired into Services."""
from __future__ import annotations

import secrets

import json
import threading

import pytest

from reporting.config import ConfigError
from reporting.delivery.local import LocalQueueConnector
from reporting.delivery.maildir import MaildirConnector
from reporting.delivery.smtp import SmtpConnector
from reporting.delivery.zendesk import ZendeskConnector
from reporting.delivery.znuny import ZnunyConnector
from tests.conftest import make_app

from .outbox_helpers import submission

EMERGENCY = "smtp://mail.tools.wmcloud.org:25?to=emergency@wikimedia.org"
LEGAL = "smtp://mail.tools.wmcloud.org:25?to=legal-reports@wikimedia.org"
OVERSIGHT = "smtp://mail.tools.wmcloud.org:25?to=oversight-en-wp@wikipedia.org"
TRUST_AND_SAFETY = "zendesk+https://wikimedia.zendesk.com?group=360001&tags=incident-report"
FUNCTIONARIES = "smtp://mail.tools.wmcloud.org:25?to=checkuser-de@wikipedia.org"

# The README's example, in the order it gives.
README_RULES = [
    {"category": "child-safety", "destination": LEGAL},
    {"severity": "emergency", "destination": EMERGENCY},
    {"category": "doxing", "destination": OVERSIGHT},
    {"wiki": "de.wikipedia.org", "consented": True, "destination": FUNCTIONARIES},
]
SECRETS = {"delivery.zendesk_email": "bot@wikimedia.org", "delivery.zendesk_api_token": "t0ken"}


@pytest.fixture
def services(tmp_path):
    app = make_app(tmp_path, **{"delivery.rules": README_RULES, "delivery.default": TRUST_AND_SAFETY, **SECRETS})
    return app.extensions["reporting"]


@pytest.mark.parametrize("category, wiki, share, expected", [
    ("child-safety", "en.wikipedia.org", False, LEGAL),
    ("child-safety", "de.wikipedia.org", True, LEGAL),  # narrow rules first: consent does not divert it
    ("threat-of-violence", "en.wikipedia.org", False, EMERGENCY),
    ("self-harm", "de.wikipedia.org", True, EMERGENCY),
    ("public-harm", "fr.wikipedia.org", False, EMERGENCY),
    ("doxing", "en.wikipedia.org", False, OVERSIGHT),
    ("doxing", "de.wikipedia.org", True, OVERSIGHT),
    ("harassment", "de.wikipedia.org", True, FUNCTIONARIES),
    ("harassment", "de.wikipedia.org", False, TRUST_AND_SAFETY),
    ("hounding", "en.wikipedia.org", True, TRUST_AND_SAFETY),
    ("other", "commons.wikimedia.org", False, TRUST_AND_SAFETY),
])
def test_route_follows_the_rules_in_order(services, category, wiki, share, expected):
    assert services.delivery.router.destination_of(submission(category, wiki, share)) == expected


@pytest.mark.parametrize("destination, kind", [
    (EMERGENCY, SmtpConnector),
    (TRUST_AND_SAFETY, ZendeskConnector),
    ("local:functionaries", LocalQueueConnector),
    ("maildir:/tmp/reports-maildir", MaildirConnector),
])
def test_connector_for_builds_the_desk_of_each_destination(services, destination, kind):
    assert isinstance(services.delivery.connectors.connector_for(destination), kind)


def test_connectors_are_reused_within_a_thread_but_not_shared_between_threads(services):
    first = services.delivery.connectors.connector_for(TRUST_AND_SAFETY)
    assert services.delivery.connectors.connector_for(TRUST_AND_SAFETY) is first
    assert services.delivery.connectors.connector_for(TRUST_AND_SAFETY, timeout=2.0) is not first
    other: list = []
    thread = threading.Thread(target=lambda: other.append(services.delivery.connectors.connector_for(TRUST_AND_SAFETY)))
    thread.start()
    thread.join()
    assert other[0] is not first


def test_connectors_get_the_configured_secrets_and_timeouts(tmp_path):
    app = make_app(tmp_path, **{
        "delivery.default": "znuny+https://vrts.example.org/otrs/nph-genericinterface.pl/Webservice/Reports?queue=Reports",
        "delivery.znuny_user": "reporting-bot", "delivery.znuny_password": "pw",
        "delivery.smtp_sender": "reports@toolforge.org", "delivery.timeout_seconds": "7.5"})
    services = app.extensions["reporting"]
    znuny = services.delivery.connectors.connector_for(services.delivery.router.default)
    assert isinstance(znuny, ZnunyConnector) and (znuny.user_login, znuny.password, znuny.timeout) == ("reporting-bot", "pw", 7.5)
    smtp = services.delivery.connectors.connector_for(EMERGENCY, timeout=3.0)
    assert (smtp.sender, smtp.recipient, smtp.timeout) == ("reports@toolforge.org", "emergency@wikimedia.org", 3.0)


def test_smtp_sender_defaults_to_delivery_sender(services):
    assert services.delivery.connectors.connector_for(EMERGENCY).sender == "incident-reporting@toolforge.org"


def test_rules_can_come_from_an_envvar_as_json(tmp_path):
    from reporting import create_app
    from reporting.storage.crypto import generate_key

    environ = {
        "TOOL_CONFIG_FILE": str(tmp_path / "absent.yaml"),
        "TOOL_SECRET_KEY": secrets.token_urlsafe(32), "TOOL_ENCRYPTION_KEY": generate_key(), "TOOL_INSTANCE_PATH": str(tmp_path),
        "TOOL_DELIVERY__RULES": json.dumps([{"severity": ["emergency"], "destination": EMERGENCY}]),
    }
    services = create_app(environ=environ).extensions["reporting"]
    assert services.delivery.router.destination_of(submission("self-harm")) == EMERGENCY
    assert services.delivery.router.destination_of(submission("harassment")).startswith("maildir:")


@pytest.mark.parametrize("settings, message", [
    ({"delivery.rules": {"destination": EMERGENCY}}, r"delivery\.rules \(TOOL_DELIVERY__RULES.*list of mappings"),
    ({"delivery.rules": "not json"}, r"delivery\.rules \(TOOL_DELIVERY__RULES"),
    ({"delivery.rules": [{"categroy": "doxing", "destination": EMERGENCY}]},
     r"delivery\.rules \(TOOL_DELIVERY__RULES\).*rule 0: unknown key 'categroy'"),
    ({"delivery.rules": [{"severity": "urgent", "destination": EMERGENCY}]}, r"delivery\.rules.*unknown severity urgent"),
    ({"delivery.rules": [{"category": "doxing"}]}, r"delivery\.rules.*'destination' is missing"),
    ({"delivery.rules": [{"category": "doxing", "destination": "ftp://x"}]}, r"delivery\.rules.*unknown scheme"),
    ({"delivery.rules": [{"category": "doxing", "destination": "local:arbcom"}]}, r"delivery\.rules.*local queue 'arbcom'"),
    ({"delivery.default": "smtp://relay.example.org"}, r"delivery\.default \(TOOL_DELIVERY__DEFAULT\).*recipient"),
    ({"delivery.default": TRUST_AND_SAFETY}, r"delivery\.zendesk_email \(TOOL_DELIVERY__ZENDESK_EMAIL\) is required"),
    ({"delivery.default": TRUST_AND_SAFETY, "delivery.zendesk_email": "a@b.org"},
     r"delivery\.zendesk_api_token \(TOOL_DELIVERY__ZENDESK_API_TOKEN\) is required by the destination of delivery.default"),
    ({"delivery.rules": [{"category": "doxing",
                          "destination": "znuny+https://vrts.example.org/ws/Reports?queue=Oversight"}],
      "delivery.znuny_user": "bot"},
     r"delivery\.znuny_password \(TOOL_DELIVERY__ZNUNY_PASSWORD\) is required by the destination of delivery rule 0"),
    ({"delivery.smtp_user": "bot"}, r"delivery\.smtp_password \(TOOL_DELIVERY__SMTP_PASSWORD\) is required"),
    ({"delivery.smtp_user": "bot", "delivery.smtp_password": "pw", "delivery.default": EMERGENCY},
     r"delivery\.default.*STARTTLS"),
    ({"delivery.emergency_timeout_seconds": "0"}, r"delivery\.emergency_timeout_seconds"),
    ({"delivery.timeout_seconds": "soon"}, r"delivery\.timeout_seconds"),
])
def test_bad_delivery_configuration_stops_the_start_naming_the_key(tmp_path, settings, message):
    with pytest.raises(ConfigError, match=message):
        make_app(tmp_path, **settings)


def test_secrets_are_declared_secret_and_documented():
    from reporting.config import SETTINGS

    by_key = {setting.key: setting for setting in SETTINGS}
    for key in ("delivery.smtp_password", "delivery.zendesk_api_token", "delivery.znuny_password"):
        assert by_key[key].secret, key
    for key in ("delivery.rules", "delivery.smtp_sender", "delivery.zendesk_email", "delivery.znuny_user",
                "delivery.emergency_timeout_seconds"):
        assert by_key[key].doc, key
