"""The whole reporting flow in Arabic (right-to-left), Russian and qqx, through the real app and i18n/.

Start page, form, a refused form, receipt, "My reports" and one report: every page carries the language
and direction on <html>, shows the translated messages (not the English ones), and plurals come out
right for 0, 1, 2, 5 and 21 items (Arabic has six plural forms, Russian four).
"""

from __future__ import annotations

import json
import re
from markupsafe import escape
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.conftest import login, make_app

MESSAGES = Path(__file__).resolve().parents[2] / "i18n"
EVIDENCE = "https://{lang}.wikipedia.org/w/index.php?diff={n}"
HTML_TAG = {"ar": '<html lang="ar" dir="rtl">', "ru": '<html lang="ru" dir="ltr">', "qqx": '<html lang="qqx" dir="ltr">'}

# Messages without parameters that each page must show, translated.
PAGE_KEYS = {
    "start": ["reporting-index-heading", "reporting-index-point-anyone", "reporting-index-start", "reporting-nav-my-reports"],
    "form": ["reporting-form-title", "reporting-form-evidence-label", "reporting-category-self-harm",
             "reporting-form-submit", "reporting-child-safety-notice"],
    "refused": ["reporting-form-title", "reporting-error-media-link", "reporting-error-unknown-category"],
    "receipt": ["reporting-receipt-heading", "reporting-receipt-reference", "reporting-status-forwarded",
                "reporting-category-harassment"],
    "my-reports": ["reporting-my-reports-title", "reporting-report-reference", "reporting-status-forwarded"],
    "report": ["reporting-report-heading", "reporting-report-shared-no", "reporting-status-forwarded-help"],
}


def messages(lang: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((MESSAGES / f"{lang}.json").read_text(encoding="utf-8"))
    return data


def client_in(tmp_path: Path, lang: str) -> tuple[FlaskClient, str]:
    """A client that chose ``lang`` before logging in as Alice (the choice survives the login)."""
    client = make_app(tmp_path).test_client()
    assert client.get(f"/?uselang={lang}").status_code == 200
    return client, login(client, "Alice")


def submit(client: FlaskClient, token: str, links: int, **fields: str) -> str:
    """Send the form with ``links`` evidence links; returns the report page's address (the receipt)."""
    data = {"csrf_token": token, "wiki": "ar.wikipedia.org", "category": "harassment", "reported_users": "Bob",
            "evidence": "\n".join(EVIDENCE.format(lang="ar", n=n) for n in range(1, links + 1)),
            "description": "وصف ما حدث"}
    data.update(fields)
    response = client.post("/report", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)
    location: str = response.headers["Location"]
    return location


def pages(client: FlaskClient, token: str) -> dict[str, tuple[int, str]]:
    """(status, HTML) of every page of the flow, after one refused and one accepted submission."""
    refused = client.post("/report", data={"csrf_token": token, "wiki": "evil.example", "category": "nope",
                                           "evidence": "https://upload.wikimedia.org/x.jpg"})
    receipt_url = submit(client, token, links=2)
    report_url = receipt_url.split("?")[0]
    found = {}
    for name, response in [
        ("start", client.get("/")),
        ("form", client.get("/report")),
        ("refused", refused),
        ("receipt", client.get(receipt_url)),
        ("my-reports", client.get("/reports")),
        ("report", client.get(report_url)),
    ]:
        found[name] = (response.status_code, response.get_data(as_text=True))
    return found


@pytest.mark.parametrize("lang", ["ar", "ru"])
def test_every_page_of_the_flow_is_in_the_chosen_language(tmp_path: Path, lang: str) -> None:
    client, token = client_in(tmp_path, lang)
    translated, english = messages(lang), messages("en")
    for page, (status, html) in pages(client, token).items():
        assert status == (422 if page == "refused" else 200), page
        assert HTML_TAG[lang] in html, page
        for key in PAGE_KEYS[page]:
            assert str(escape(translated[key])) in html, (page, key)
            assert str(escape(english[key])) not in html, (page, key)
        # The header names the user isolated, inside the translated sentence.
        assert str(escape(translated["reporting-nav-logged-in-as"])).replace("$1", "<bdi>Alice</bdi>") in html


# Hand-written expectations: the evidence count on the report page, for 0, 1, 2, 5 and 21 links.
EVIDENCE_COUNTS = [
    ("ru", 0, "0 ссылок на доказательства"),
    ("ru", 1, "1 ссылка на доказательства"),
    ("ru", 2, "2 ссылки на доказательства"),
    ("ru", 5, "5 ссылок на доказательства"),
    ("ru", 21, "21 ссылка на доказательства"),
    ("ar", 0, "لا توجد روابط للأدلة"),
    ("ar", 1, "رابط واحد للأدلة"),
    ("ar", 2, "رابطان للأدلة"),
    ("ar", 5, "5 روابط للأدلة"),
    ("ar", 21, "21 رابطًا للأدلة"),
    ("en", 1, "1 evidence link"),
    ("en", 21, "21 evidence links"),
]
EVIDENCE_COUNT = re.compile(r'<span class="evidence-count" id="evidence-count">([^<]*)</span>')
ROW_COUNT = re.compile(r'<td class="evidence-count">([^<]*)</td>')


@pytest.mark.parametrize("lang", ["ru", "ar", "en"])
def test_evidence_counts_use_the_plural_forms_of_the_language(tmp_path: Path, lang: str) -> None:
    client, token = client_in(tmp_path, lang)
    expected = {links: text for code, links, text in EVIDENCE_COUNTS if code == lang}
    for links, text in expected.items():
        html = client.get(submit(client, token, links=links)).get_data(as_text=True)
        assert EVIDENCE_COUNT.findall(html) == [text]
        assert len(re.findall(r'<li[^>]*>\s*<bdi[^>]*dir="ltr"[^>]*>https://', html)) == links
    # "My reports" shows each report's count (newest first) and, above, how many reports there are.
    my_reports = client.get("/reports").get_data(as_text=True)
    assert ROW_COUNT.findall(my_reports) == [expected[links] for links in reversed(expected)]
    assert {
        "ru": "Вы отправили 5 сообщений.",
        "ar": "أرسلت $1 بلاغات.".replace("$1", "5"),
        "en": "You have sent 2 reports.",
    }[lang] in my_reports


# A refused form: the count of problems and the too-many-links error, in each language's plural forms.
REFUSED = [
    ("ru", 1, "Пожалуйста, посмотрите на 1 проблему, отмеченную ниже"),
    ("ru", 2, "Пожалуйста, посмотрите на 2 проблемы, отмеченные ниже"),
    ("ar", 1, "يرجى النظر في المشكلة المحددة أدناه"),
    ("ar", 2, "يرجى النظر في المشكلتين المحددتين أدناه"),
    ("ar", 3, "يرجى النظر في المشكلات المحددة (3) أدناه"),
]
PROBLEM_FIELDS = [{"category": "nope"}, {"wiki": "evil.example"}, {"evidence": "https://upload.wikimedia.org/x.jpg"}]


@pytest.mark.parametrize(("lang", "problems", "expected"), REFUSED)
def test_refused_form_counts_its_problems(tmp_path: Path, lang: str, problems: int, expected: str) -> None:
    client, token = client_in(tmp_path, lang)
    data = {"csrf_token": token, "wiki": "ru.wikipedia.org", "category": "harassment"}
    for fields in PROBLEM_FIELDS[:problems]:
        data.update(fields)
    response = client.post("/report", data=data)
    assert response.status_code == 422
    assert expected in response.get_data(as_text=True)


@pytest.mark.parametrize(("lang", "links", "expected"), [
    ("ru", 51, "Вы указали 51 ссылку, а в одном сообщении помещается не больше 50."),
    ("ar", 51, "أدخلت 51 رابطًا، ولا يتسع البلاغ الواحد لأكثر من 50."),
])
def test_too_many_links(tmp_path: Path, lang: str, links: int, expected: str) -> None:
    client, token = client_in(tmp_path, lang)
    evidence = "\n".join(EVIDENCE.format(lang=lang, n=n) for n in range(links))
    response = client.post("/report", data={"csrf_token": token, "wiki": "ru.wikipedia.org",
                                            "category": "harassment", "evidence": evidence})
    assert expected in response.get_data(as_text=True)


def test_typed_values_in_errors_are_isolated(tmp_path: Path) -> None:
    client, token = client_in(tmp_path, "ar")
    html = client.post("/report", data={"csrf_token": token, "wiki": "evil.example", "category": "harassment",
                                        "reported_users": "A[b]"}).get_data(as_text=True)
    assert "«<bdi>evil.example</bdi>» ليس ويكي نعرفه من ويكيات ويكيميديا" in html
    assert "«<bdi>A[b]</bdi>» لا يمكن أن يكون اسم مستخدم." in html


QQX_EXPECTED = {
    "start": ["(reporting-index-heading)", "(reporting-nav-logged-in-as: <bdi>Alice</bdi>)"],
    "form": ["(reporting-form-title)", "(reporting-form-evidence-help: 50)", "(reporting-form-wiki-help)",
             'list="wiki-suggestions"'],
    "refused": ["(reporting-form-has-errors: 3)", "(reporting-error-unknown-wiki: <bdi>evil.example</bdi>)",
                "(reporting-error-media-link)"],
    "receipt": ["(reporting-receipt-heading)", "(reporting-receipt-reference)", "(reporting-report-evidence-count: 2)"],
    "my-reports": ["(reporting-my-reports-count: 1)", '<td class="evidence-count">(reporting-report-evidence-count: 2)</td>'],
    "report": ["(reporting-report-heading)", "(reporting-status-forwarded-help)"],
}


def test_qqx_shows_keys_on_every_page_of_the_flow(tmp_path: Path) -> None:
    client, token = client_in(tmp_path, "qqx")
    english = messages("en")
    for page, (_status, html) in pages(client, token).items():
        assert HTML_TAG["qqx"] in html, page
        for expected in QQX_EXPECTED[page]:
            assert expected in html, (page, expected)
        for key in PAGE_KEYS[page]:
            assert str(escape(english[key])) not in html, (page, key)
