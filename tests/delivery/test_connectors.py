"""connector_for: destination URL + secrets -> a working connector."""
from __future__ import annotations

import pytest

from reporting.delivery.base import Delivered
from reporting.delivery.connectors import connector_for, required_secrets
from reporting.delivery.smtp import SmtpConnector
from reporting.delivery.zendesk import ZendeskConnector
from reporting.delivery.znuny import ZnunyConnector
from tests.fakes.smtp import FakeSmtp
from tests.fakes.zendesk import FakeZendesk
from tests.fakes.znuny import FakeZnuny

SECRETS = {
    "smtp_sender": "tools.incident-reporting@toolforge.org",
    "zendesk_email": "bot@example.org",
    "zendesk_api_token": "zd",
    "znuny_user": "reporting-bot",
    "znuny_password": "pw",
}


class MaildirStandIn:
    """Records the path it was built for; the real Maildir connector is the app's."""

    def __init__(self, path: str) -> None:
        self.path = path


def no_maildir(path: str):
    raise AssertionError("not a maildir destination")


@pytest.mark.parametrize(
    "url, required",
    [
        ("maildir:x", ()),
        ("local:functionaries", ()),
        ("smtp://relay?to=a@b.example", ("smtp_sender",)),
        ("zendesk+https://w.zendesk.com", ("zendesk_email", "zendesk_api_token")),
        ("znuny+https://vrts.example/otrs/ws?queue=Q", ("znuny_user", "znuny_password")),
    ],
)
def test_required_secrets(url, required):
    assert required_secrets(url) == required


def test_maildir_and_local_use_the_factories():
    assert connector_for("maildir:instance/maildir", {}, MaildirStandIn).path == "instance/maildir"
    assert connector_for("local:functionaries", {}, no_maildir, local_factory=MaildirStandIn).path == "functionaries"
    with pytest.raises(ValueError, match="own queue"):
        connector_for("local:functionaries", {}, no_maildir)


@pytest.mark.parametrize(
    "url, missing",
    [
        ("smtp://relay?to=a@b.example", "smtp_sender"),
        ("zendesk+https://w.zendesk.com", "zendesk_api_token"),
        ("znuny+https://vrts.example/otrs/ws?queue=Q", "znuny_password"),
    ],
)
def test_missing_secret_is_named(url, missing):
    secrets = {key: value for key, value in SECRETS.items() if key != missing}
    with pytest.raises(ValueError, match=missing):
        connector_for(url, secrets, no_maildir)


def test_smtp_credentials_need_starttls():
    secrets = {**SECRETS, "smtp_user": "tool", "smtp_password": "pw"}
    with pytest.raises(ValueError, match="STARTTLS"):
        connector_for("smtp://relay?to=a@b.example", secrets, no_maildir)
    built = connector_for("smtp+starttls://relay?to=a@b.example", secrets, no_maildir)
    assert isinstance(built, SmtpConnector) and built.username == "tool" and built.starttls


def test_built_connectors_deliver(ticket):
    with FakeSmtp() as relay, FakeZendesk("bot@example.org", "zd", groups={9}) as zendesk, \
            FakeZnuny(users={"reporting-bot": "pw"}, queues={"T&S"}) as znuny:
        urls = [
            f"smtp://127.0.0.1:{relay.port}?to=desk@example.org",
            f"zendesk+{zendesk.base_url}?group=9&tags=incident-reporting",
            f"znuny+{znuny.url}?queue=T%26S",
        ]
        built = [connector_for(url, SECRETS, no_maildir, timeout=0.5) for url in urls]
        assert [type(c) for c in built] == [SmtpConnector, ZendeskConnector, ZnunyConnector]
        for connector in built:
            assert isinstance(connector.create_ticket(ticket), Delivered)
        assert len(relay.received) == 1 and relay.received[0].rcpt_tos == ["desk@example.org"]
        assert zendesk.tickets_created == 1 and list(zendesk.tickets.values())[0]["group_id"] == 9
        assert znuny.tickets_created == 1 and list(znuny.tickets.values())[0]["Queue"] == "T&S"
