"""Destination URLs, routing rules and their config validation (pure, no network)."""
from __future__ import annotations

import pytest

from reporting.delivery.destinations import (
    ZNUNY_DEFAULT_ROUTES,
    LocalDestination,
    MaildirDestination,
    Rule,
    SmtpDestination,
    ZendeskDestination,
    ZnunyDestination,
    parse_destination,
    route,
    rules_from_config,
)

VRTS = "https://ticket.wikimedia.org/otrs/nph-genericinterface.pl/Webservice/IncidentReporting"


@pytest.mark.parametrize(
    "url, expected",
    [
        ("maildir:instance/maildir", MaildirDestination("instance/maildir")),
        ("maildir:/srv/mail/reports", MaildirDestination("/srv/mail/reports")),
        ("maildir:///srv/mail/reports", MaildirDestination("/srv/mail/reports")),
        ("smtp://mail.tools.wmcloud.org:25?to=emergency@wikimedia.org",
         SmtpDestination("mail.tools.wmcloud.org", 25, "emergency@wikimedia.org")),
        ("smtp://relay.example?to=legal-reports@wikimedia.org", SmtpDestination("relay.example", 25, "legal-reports@wikimedia.org")),
        ("smtp+starttls://relay.example?to=ca@wikimedia.org", SmtpDestination("relay.example", 587, "ca@wikimedia.org", starttls=True)),
        ("SMTP+STARTTLS://relay.example:2525?to=ca@wikimedia.org", SmtpDestination("relay.example", 2525, "ca@wikimedia.org", starttls=True)),
        ("zendesk+https://wikimedia.zendesk.com", ZendeskDestination("https://wikimedia.zendesk.com")),
        ("zendesk+https://wikimedia.zendesk.com/?group=360001&tags=incident-reporting,emergency&ref_field=77",
         ZendeskDestination("https://wikimedia.zendesk.com", 360001, ("incident-reporting", "emergency"), 77)),
        ("zendesk+http://127.0.0.1:8123?group=5", ZendeskDestination("http://127.0.0.1:8123", 5)),
        ("zendesk+http://localhost:8123", ZendeskDestination("http://localhost:8123")),
        (f"znuny+{VRTS}?queue=Trust+and+Safety", ZnunyDestination(VRTS, "Trust and Safety")),
        (f"znuny+{VRTS}/?queue=T%26S&reference_field=ReportRef&customer=tool@toolforge.org",
         ZnunyDestination(VRTS, "T&S", reference_field="ReportRef", customer_user="tool@toolforge.org")),
        ("znuny+http://127.0.0.1:9000/otrs/nph-genericinterface.pl/Webservice/X?queue=Q",
         ZnunyDestination("http://127.0.0.1:9000/otrs/nph-genericinterface.pl/Webservice/X", "Q")),
        ("local:functionaries", LocalDestination("functionaries")),
    ],
)
def test_parse_destination(url, expected):
    assert parse_destination(url) == expected


def test_znuny_route_overrides():
    parsed = parse_destination(f"znuny+{VRTS}?queue=Q&route.TicketSearch=POST+/TicketSearch&route.TicketUpdate=post%20/T/:TicketID")
    assert dict(parsed.routes) == {**ZNUNY_DEFAULT_ROUTES, "TicketSearch": "POST /TicketSearch", "TicketUpdate": "POST /T/:TicketID"}


@pytest.mark.parametrize("url", [
    "maildir:x", "smtp://h?to=a@b.example", "zendesk+https://x.zendesk.com", f"znuny+{VRTS}?queue=Q", "local:functionaries",
])
def test_kind(url):
    assert parse_destination(url).kind == url.split(":")[0].split("+")[0]


@pytest.mark.parametrize(
    "url, complaint",
    [
        ("", "empty"),
        ("instance/maildir", "no scheme"),
        ("ftp://example.org", "unknown scheme"),
        ("maildir:", "path is missing"),
        ("maildir://host/path", "local path"),
        ("smtp://relay.example", "recipient"),
        ("smtp://relay.example?to=not-an-address", "not a plain e-mail address"),
        ("smtp://relay.example?to=a@b.example&to=c@d.example", "more than once"),
        ("smtp://relay.example?to=a@b.example&cc=c@d.example", "unknown parameter 'cc'"),
        ("smtp://relay.example:99999?to=a@b.example", "port"),
        ("smtp://user:pw@relay.example?to=a@b.example", "credentials"),
        ("smtp://relay.example/path?to=a@b.example", "no path"),
        ("smtp://?to=a@b.example", "host is missing"),
        ("zendesk+https://example.org", "zendesk.com"),
        ("zendesk+http://wikimedia.zendesk.com", "loopback"),
        ("zendesk+https://wikimedia.zendesk.com/api/v2", "no path"),
        ("zendesk+https://wikimedia.zendesk.com?group=abc", "group must be a positive number"),
        ("zendesk+https://wikimedia.zendesk.com?tags=two+words", "tag"),
        ("zendesk+https://wikimedia.zendesk.com#frag", "fragments"),
        (f"znuny+{VRTS}", "queue"),
        ("znuny+https://ticket.wikimedia.org?queue=Q", "web service path"),
        ("znuny+http://ticket.wikimedia.org/otrs/x?queue=Q", "loopback"),
        (f"znuny+{VRTS}?queue=Q&route.TicketDelete=DELETE+/Ticket", "unknown operation"),
        (f"znuny+{VRTS}?queue=Q&route.TicketSearch=/TicketSearch", "METHOD /route"),
        (f"znuny+{VRTS}?queue=Q&reference_field=Bad-Name", "dynamic field name"),
        ("local:", "local queue name"),
        ("local:Functionaries", "local queue name"),
    ],
)
def test_parse_destination_rejects(url, complaint):
    with pytest.raises(ValueError, match=complaint):
        parse_destination(url)


RULES = [
    Rule(categories=None, severities={"emergency"}, wikis=None, consented=None, destination="smtp://relay?to=emergency@wikimedia.org"),
    Rule(categories={"child-safety"}, severities=None, wikis=None, consented=None, destination="smtp://relay?to=legal-reports@wikimedia.org"),
    Rule(categories={"doxing"}, severities=None, wikis=None, consented=None, destination="smtp://relay?to=oversight@wikimedia.org"),
    Rule(categories=None, severities=None, wikis={"dewiki"}, consented=True, destination="local:functionaries"),
    Rule(categories=None, severities=None, wikis=None, consented=None, destination="zendesk+https://wikimedia.zendesk.com"),
]


@pytest.mark.parametrize(
    "category, severity, wiki, consented, expected",
    [
        ("threat-of-violence", "emergency", "enwiki", False, "smtp://relay?to=emergency@wikimedia.org"),
        ("threat-of-violence", "emergency", "dewiki", True, "smtp://relay?to=emergency@wikimedia.org"),
        ("child-safety", "emergency", "enwiki", False, "smtp://relay?to=emergency@wikimedia.org"),
        ("child-safety", "normal", "enwiki", False, "smtp://relay?to=legal-reports@wikimedia.org"),
        ("doxing", "high", "dewiki", True, "smtp://relay?to=oversight@wikimedia.org"),
        ("harassment", "normal", "dewiki", True, "local:functionaries"),
        ("harassment", "normal", "dewiki", False, "zendesk+https://wikimedia.zendesk.com"),
        ("harassment", "normal", "enwiki", True, "zendesk+https://wikimedia.zendesk.com"),
    ],
)
def test_route_first_match_wins(category, severity, wiki, consented, expected):
    assert route(RULES, "maildir:instance/maildir", category, severity, wiki, consented) == expected


def test_route_falls_back_to_default():
    assert route(RULES[:3], "maildir:instance/maildir", "spam", "normal", "enwiki", False) == "maildir:instance/maildir"
    assert route([], "maildir:instance/maildir", "doxing", "high", "enwiki", False) == "maildir:instance/maildir"


@pytest.mark.parametrize("consented, share, matches", [(None, True, True), (None, False, True), (True, True, True),
                                                      (True, False, False), (False, False, True), (False, True, False)])
def test_rule_consent(consented, share, matches):
    rule = Rule(None, None, None, consented, "local:functionaries")
    assert rule.matches("harassment", "normal", "enwiki", share) is matches


def test_rules_from_config():
    raw = [
        {"severity": "emergency", "destination": "smtp://relay?to=emergency@wikimedia.org"},
        {"categories": ["child-safety"], "destination": "smtp://relay?to=legal-reports@wikimedia.org"},
        {"wiki": "dewiki", "consented": True, "destination": "local:functionaries"},
        {"severities": ["high", "normal"], "wikis": ["enwiki", "frwiki"], "category": "doxing", "destination": "maildir:x"},
        {"destination": "zendesk+https://wikimedia.zendesk.com"},
    ]
    assert rules_from_config(raw) == [
        Rule(None, {"emergency"}, None, None, "smtp://relay?to=emergency@wikimedia.org"),
        Rule({"child-safety"}, None, None, None, "smtp://relay?to=legal-reports@wikimedia.org"),
        Rule(None, None, {"dewiki"}, True, "local:functionaries"),
        Rule({"doxing"}, {"high", "normal"}, {"enwiki", "frwiki"}, None, "maildir:x"),
        Rule(None, None, None, None, "zendesk+https://wikimedia.zendesk.com"),
    ]
    assert rules_from_config(None) == []


@pytest.mark.parametrize(
    "raw, complaint",
    [
        ({"destination": "maildir:x"}, "must be a list"),
        (["maildir:x"], "delivery rule 0 must be a mapping"),
        ([{"destination": "maildir:x"}, {"category": "doxing"}], "delivery rule 1: key 'destination' is missing"),
        ([{"destinaton": "maildir:x"}], "delivery rule 0: unknown key 'destinaton'"),
        ([{"severity": "urgent", "destination": "maildir:x"}], "delivery rule 0: key 'severity': unknown severity urgent"),
        ([{"category": [], "destination": "maildir:x"}], "delivery rule 0: key 'category' must be a string or a non-empty list"),
        ([{"wikis": ["enwiki", 3], "destination": "maildir:x"}], "delivery rule 0: key 'wikis' must contain only non-empty strings"),
        ([{"consented": "yes", "destination": "maildir:x"}], "delivery rule 0: key 'consented' must be true or false"),
        ([{"category": "a", "categories": ["b"], "destination": "maildir:x"}], "delivery rule 0: key 'categories' repeats"),
        ([{"destination": 5}], "delivery rule 0: key 'destination' must be a string"),
        ([{"destination": "smtp://relay"}], "delivery rule 0: key 'destination': .*recipient"),
    ],
)
def test_rules_from_config_rejects(raw, complaint):
    with pytest.raises(ValueError, match=complaint):
        rules_from_config(raw)
