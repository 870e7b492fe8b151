"""The embedded default desk: RFC 5322 messages in a Maildir."""
import email
import re
import json
from email import policy

from reporting.delivery.maildir import MaildirConnector
from reporting.delivery.render import render_ticket
from reporting.intake.submission import Submission
from reporting.intake.submission import Reporter
from reporting.storage import Stores
from reporting.storage.crypto import Sealer, generate_key


def stored_report(tmp_path, **changes):
    store = Stores.open(f"sqlite:///{tmp_path / 'db.sqlite3'}", Sealer(generate_key()))
    store.migrate()
    values = dict(wiki="ru.wikipedia.org", category="threat-of-violence", reported_users=("Злодей",),
                  evidence=("https://ru.wikipedia.org/w/index.php?diff=5",), description="Он написал, что найдёт меня.",
                  share_with_functionaries=False)
    values.update(changes)
    report_id = store.reports.create("IR-AAAA-BBBB-CCCC-DDDD", Submission(**values),
                                    Reporter("Жертва", central_id=9, blocked=True), "ru", "maildir:x")
    return store.reports.by_id(report_id)


def test_message_is_rfc5322_with_text_and_report_json(tmp_path):
    report = stored_report(tmp_path)
    connector = MaildirConnector(tmp_path / "maildir", "tool@toolforge.org", "ca@wikimedia.org")
    connector.create_ticket(render_ticket(report))
    [raw] = (tmp_path / "maildir" / "new").iterdir()
    message = email.message_from_bytes(raw.read_bytes(), policy=policy.default)
    assert message["Message-ID"] == "<report-IR-AAAA-BBBB-CCCC-DDDD@incident-reporting.toolforge.org>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Subject"] == "EMERGENCY incident report IR-AAAA-BBBB-CCCC-DDDD (threat-of-violence)"
    for personal in ("Жертва", "Злодей", "ru.wikipedia"):
        assert personal not in message["Subject"]
    assert not [h for h in message.keys() if h.lower().startswith(("x-otrs", "x-znuny"))]
    text_part, json_part = list(message.iter_parts())
    body = text_part.get_content()
    assert "Threat of violence" in body and "Он написал, что найдёт меня." in body
    assert re.search(r"^Reporter's language +ru$", body, re.M) and re.search(r"^Reporter blocked +yes$", body, re.M)
    document = json.loads(json_part.get_content())
    assert json_part.get_filename() == "report.json"
    assert document["schema"] == "incident-report/2"
    assert document["status"] == "received" and document["followups"] == []
    assert document["status_history"] == [{"at": document["created_at"], "status": "received", "source": "tool"}]
    assert document["reporter"] == {"username": "Жертва", "central_id": 9, "blocked": True, "editcount": None,
                                    "registered": None, "confirmed_email": None, "language": "ru"}
    assert document["description"] == "Он написал, что найдёт меня."
    assert oct(raw.stat().st_mode & 0o777) == "0o600"


def test_delivering_twice_keeps_one_message(tmp_path):
    report = stored_report(tmp_path)
    connector = MaildirConnector(tmp_path / "maildir", "a@b", "c@d")
    first = connector.create_ticket(render_ticket(report))
    second = connector.create_ticket(render_ticket(report))
    assert first == second
    assert len(connector.messages()) == 1
