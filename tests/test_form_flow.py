"""The report form keeps every word and says what is wrong (issue 14, findings 2-4), without JavaScript.

What the server does for the form: the error summary and the ARIA ties between fields, help and
errors; the language switch that carries the fields; over-long text refused and kept; a form sent
after the session ended kept sealed for the next login; the wiki field reading names, database
names and prefixes; the wiki optional for what happened away from the wikis. The browser side
(JavaScript, focus, axe-core) is in ``test_form_browser.py``.
"""
from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select

from reporting.identity import session as auth
from reporting.storage import schema
from reporting.storage.crypto import Sealer, generate_key
from reporting.storage.database import utcnow
from reporting.storage.form_drafts import KEEP, FormDrafts

from .conftest import csrf_from, login, maildir_messages, make_app

SECRET = "Er droht mir auf meiner Diskussionsseite — تهديد-٤٢"
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}


def attrs_of(html: str, element_id: str) -> str:
    match = re.search(rf'<(?:input|textarea)[^>]*\bid="{re.escape(element_id)}"[^>]*>', html)
    assert match, element_id
    return match.group(0)


def textarea_value(html: str, element_id: str) -> str:
    match = re.search(rf'<textarea[^>]*\bid="{re.escape(element_id)}"[^>]*>(.*?)</textarea>', html, re.S)
    assert match, element_id
    return unescape(match.group(1))


def reports_of(app) -> int:
    stores = app.extensions["reporting"].stores
    with stores.engine.connect() as connection:
        return len(connection.execute(select(schema.reports.c.id)).all())


def drafts_of(app) -> list:
    stores = app.extensions["reporting"].stores
    with stores.engine.connect() as connection:
        return connection.execute(select(schema.form_drafts)).all()


# -- finding 2: the error summary, ARIA, the skip link -------------------------------------------

def test_a_failed_submit_leads_with_a_focused_summary_linking_every_field(alice):
    client, token = alice
    response = client.post("/report", data={"csrf_token": token, "wiki": "", "description": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r"<title>Error – Report an incident", html)
    summary = re.search(r'<div class="[^"]*error-summary"[^>]*>(.*?)</ul>', html, re.S)
    assert summary, "no error summary"
    opening = summary.group(0).split(">", 1)[0]
    assert 'role="alert"' in opening and 'tabindex="-1"' in opening and "autofocus" in opening
    # The summary comes before the heading, so it is what a screen reader meets first.
    assert html.index('id="form-errors"') < html.index("<h1>")
    links = re.findall(r'<li><a href="#([^"]+)">(.*?)</a></li>', summary.group(1))
    assert links == [("category-threat-of-violence", "Choose what happened."), ("wiki", "Please fill in this field.")]
    for anchor, _text in links:
        assert f'id="{anchor}"' in html


def test_fields_are_marked_invalid_and_described_by_their_help_and_errors(alice):
    client, token = alice
    html = client.post("/report", data={"csrf_token": token, "wiki": "evil.example", "category": "",
                                        "reported_users": "A[b]"}).get_data(as_text=True)
    wiki = attrs_of(html, "wiki")
    assert 'aria-invalid="true"' in wiki
    assert 'aria-describedby="wiki-help wiki-optional-help error-wiki-1"' in wiki
    users = attrs_of(html, "reported_users")
    assert 'aria-invalid="true"' in users and 'aria-describedby="reported_users-help error-reported_users-1"' in users
    # Fields without a problem are described by their help and not marked at all.
    evidence = attrs_of(html, "evidence")
    assert "aria-invalid" not in evidence and 'aria-describedby="evidence-help evidence-note"' in evidence
    assert 'aria-describedby="description-help"' in attrs_of(html, "description")
    # Each radio is described by its own description, and by the group's error.
    radio = attrs_of(html, "category-threat-of-violence")
    assert 'aria-describedby="category-threat-of-violence-description error-category-1"' in radio
    assert 'aria-invalid="true"' in radio
    assert 'id="category-threat-of-violence-description"' in html
    for element_id in ("wiki-help", "wiki-optional-help", "error-wiki-1", "error-category-1", "reported_users-help"):
        assert f'id="{element_id}"' in html


def test_a_fresh_form_describes_radios_and_marks_nothing_invalid(alice):
    client, _token = alice
    html = client.get("/report").get_data(as_text=True)
    assert 'aria-invalid' not in html
    assert 'id="form-errors"' not in html
    assert 'aria-describedby="category-self-harm-description"' in attrs_of(html, "category-self-harm")
    assert 'aria-describedby="share_with_functionaries-help"' in attrs_of(html, "share_with_functionaries")


@pytest.mark.parametrize("lang, text", [("en", "Skip to main content"), ("ar", "انتقل إلى المحتوى الرئيسي")])
def test_every_page_starts_with_a_skip_link(client, lang, text):
    html = client.get(f"/?uselang={lang}").get_data(as_text=True)
    body = html.split("<body>", 1)[1].lstrip()
    assert body.startswith(f'<a class="skip-link" href="#content">{text}</a>')
    assert '<main id="content" tabindex="-1">' in html


def test_a_missing_category_says_choose_what_happened_in_arabic(app):
    client = app.test_client()
    client.get("/?uselang=ar")
    token = login(client)
    html = client.post("/report", data={"csrf_token": token, "wiki": "ar.wikipedia.org"}).get_data(as_text=True)
    assert "اختر ما حدث." in html
    assert "يرجى ملء هذا الحقل" not in html


# -- finding 3: nothing typed is lost ------------------------------------------------------------

FIELDS = {"wiki": "de.wikipedia.org", "category": "harassment", "reported_users": "Troll",
          "evidence": "https://de.wikipedia.org/w/index.php?diff=55", "description": SECRET,
          "share_with_functionaries": "1", "submission_id": "s" * 24}


def test_the_language_switch_on_the_form_posts_the_fields_and_keeps_them(alice, app):
    client, token = alice
    html = client.get("/report").get_data(as_text=True)
    # The chooser's controls belong to the report form: switching sends every field.
    assert re.search(r'<select id="language-chooser-select" name="uselang" form="report-form">', html)
    assert re.search(r'<button type="submit" form="report-form" name="action" value="language" formnovalidate>', html)
    response = client.post("/report", data={**FIELDS, "csrf_token": token, "action": "language", "uselang": "ar"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html
    assert textarea_value(html, "description") == SECRET
    assert 'value="de.wikipedia.org"' in attrs_of(html, "wiki")
    assert textarea_value(html, "evidence") == FIELDS["evidence"]
    assert textarea_value(html, "reported_users") == "Troll"
    assert "checked" in attrs_of(html, "category-harassment")
    assert "checked" in attrs_of(html, "share_with_functionaries")
    assert 'value="' + "s" * 24 + '"' in html  # the same submission: sending it later is one report
    assert 'id="form-errors"' not in html  # switching is not sending: no errors
    assert reports_of(app) == 0
    # The choice is the session's from now on, and nothing typed went into a URL.
    assert '<html lang="ar"' in client.get("/reports").get_data(as_text=True)
    assert SECRET not in (response.headers.get("Location") or "")


def test_a_language_that_is_not_offered_changes_nothing(alice):
    client, token = alice
    html = client.post("/report", data={**FIELDS, "csrf_token": token, "action": "language",
                                        "uselang": "<script>"}).get_data(as_text=True)
    assert '<html lang="en"' in html and textarea_value(html, "description") == SECRET


def test_an_over_long_description_is_refused_whole_not_cut(alice, app):
    client, token = alice
    long_text = ("Ein langer Bericht. " * 300).strip()  # 5,999 characters
    assert len(long_text) > 5000
    html = client.get("/report").get_data(as_text=True)
    assert "maxlength" not in attrs_of(html, "description")
    assert 'data-max="5000"' in html
    response = client.post("/report", data={**FIELDS, "csrf_token": token, "description": long_text})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert textarea_value(html, "description") == long_text
    assert "The description has 5,999 characters; at most 5,000 are possible." in html
    assert 'aria-invalid="true"' in attrs_of(html, "description")
    assert reports_of(app) == 0


def _expire_login(app, monkeypatch) -> None:
    lifetime = app.permanent_session_lifetime.total_seconds()
    start = auth.clock()
    monkeypatch.setattr(auth, "clock", lambda: start + lifetime + 1)


def test_a_form_sent_after_the_login_expired_is_kept_and_comes_back_after_logging_in(app, monkeypatch):
    client = app.test_client()
    token = login(client, "Alice")
    _expire_login(app, monkeypatch)
    response = client.post("/report", data={**FIELDS, "csrf_token": token, "action": "send"}, headers=SAME_ORIGIN)
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?returnto=/report"
    assert reports_of(app) == 0
    [row] = drafts_of(app)
    assert SECRET.encode() not in row.body and b"Troll" not in row.body  # sealed
    assert row.user_hash is not None  # bound to Alice, whose session ended
    assert row.expires_at <= utcnow() + KEEP
    # The login page says the report is kept.
    assert "It is kept safe for two hours" in client.get("/login").get_data(as_text=True)
    monkeypatch.undo()
    login(client, "Alice")
    html = client.get("/report").get_data(as_text=True)
    assert 'id="form-draft-restored"' in html
    assert textarea_value(html, "description") == SECRET
    assert 'value="de.wikipedia.org"' in attrs_of(html, "wiki")
    assert "checked" in attrs_of(html, "category-harassment")
    assert 'value="' + "s" * 24 + '"' in html
    assert reports_of(app) == 0  # shown to review, never sent unseen
    assert drafts_of(app) == []  # given back once
    again = client.get("/report").get_data(as_text=True)
    assert 'id="form-draft-restored"' not in again and SECRET not in again


def test_a_kept_form_goes_to_no_one_else(app, monkeypatch):
    client = app.test_client()
    token = login(client, "Alice")
    _expire_login(app, monkeypatch)
    client.post("/report", data={**FIELDS, "csrf_token": token}, headers=SAME_ORIGIN)
    monkeypatch.undo()
    login(client, "Mallory")  # the next person at the same browser
    html = client.get("/report").get_data(as_text=True)
    assert SECRET not in html and 'id="form-draft-restored"' not in html
    assert drafts_of(app) == []  # and it is gone


def test_a_form_sent_without_any_session_cookie_is_kept_when_it_comes_from_our_page(app):
    client = app.test_client()
    # The cookie expired in the browser: no session, no CSRF token. The browser says the
    # request comes from our own page (Sec-Fetch-Site), so the form is kept, not dropped.
    response = client.post("/report", data={**FIELDS, "csrf_token": "gone"}, headers=SAME_ORIGIN)
    assert response.status_code == 303 and response.headers["Location"] == "/login?returnto=/report"
    [row] = drafts_of(app)
    assert row.user_hash is None
    login(client, "Alice")
    assert textarea_value(client.get("/report").get_data(as_text=True), "description") == SECRET


@pytest.mark.parametrize("headers", [{}, {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
                                     {"Origin": "https://evil.example"}])
def test_no_form_is_kept_for_a_request_from_elsewhere(app, headers):
    response = app.test_client().post("/report", data={**FIELDS, "csrf_token": "x"}, headers=headers)
    assert response.status_code == 403
    assert drafts_of(app) == []


def test_a_background_link_check_after_the_login_expired_is_refused_and_keeps_nothing(app, monkeypatch):
    client = app.test_client()
    token = login(client, "Alice")
    _expire_login(app, monkeypatch)
    response = client.post("/report", data={**FIELDS, "csrf_token": token, "action": "check"},
                           headers={**SAME_ORIGIN, "X-Background-Check": "1"})
    assert response.status_code == 403
    assert drafts_of(app) == []


def test_one_kept_form_per_session(app):
    client = app.test_client()
    for text in ("first", "second"):
        client.post("/report", data={**FIELDS, "description": text, "csrf_token": "gone"}, headers=SAME_ORIGIN)
    assert len(drafts_of(app)) == 1
    login(client, "Alice")
    assert textarea_value(client.get("/report").get_data(as_text=True), "description") == "second"


def test_drafts_expire_are_purged_and_cannot_be_moved(tmp_path):
    app = make_app(tmp_path)
    stores = app.extensions["reporting"].stores
    drafts: FormDrafts = stores.form_drafts
    now = utcnow()
    old = drafts.keep({"description": "old"}, "Alice", now=now - KEEP - KEEP)
    assert drafts.take(old, "Alice") is None  # expired: never given back
    kept = drafts.keep({"description": "fresh"}, "Alice", now=now)
    assert drafts.purge_expired(now=now + KEEP) == 1
    assert drafts.take(kept, "Alice") is None
    kept = drafts.keep({"description": "fresh"}, None, now=now)
    assert drafts.take(kept, "Bob", now=now) == {"description": "fresh"}
    # Another key cannot open it (and a body copied to another row fails to open).
    other = FormDrafts(stores.engine, Sealer(generate_key()))
    token = drafts.keep({"description": "x"}, None)
    assert other.take(token, "Bob") is None


# -- finding 4: the wiki field ---------------------------------------------------------------------

@pytest.mark.parametrize("typed, stored", [
    ("enwiki", "en.wikipedia.org"),
    ("commons", "commons.wikimedia.org"),
    ("meta", "meta.wikimedia.org"),
    ("English Wikipedia", "en.wikipedia.org"),
    ("ويكيبيديا العربية", "ar.wikipedia.org"),
    ("https://fr.m.wikipedia.org/wiki/Accueil", "fr.wikipedia.org"),
    ("de.wikipedia.org", "de.wikipedia.org"),
    ("中文维基百科", "zh.wikipedia.org"),
    ("Wikidata", "www.wikidata.org"),
])
def test_the_wiki_field_accepts_what_people_type(alice, app, typed, stored):
    client, token = alice
    response = client.post("/report", data={"csrf_token": token, "wiki": typed, "category": "harassment",
                                            "description": "x"})
    assert response.status_code == 303
    [summary] = client.get("/api/v1/reports").get_json()["reports"]
    assert summary["wiki"] == stored


@pytest.mark.parametrize("lang, typed, expected", [
    ("en", "Wikipedia", '"<bdi>Wikipedia</bdi>" is the name of many wikis. Which one?'),
    ("ar", "ويكيبيديا", "«<bdi>ويكيبيديا</bdi>» اسم لكثير من الويكيات. أيّها تقصد؟"),
])
def test_a_project_name_alone_is_asked_about_not_guessed(app, lang, typed, expected):
    client = app.test_client()
    client.get(f"/?uselang={lang}")
    token = login(client)
    response = client.post("/report", data={"csrf_token": token, "wiki": typed, "category": "harassment"})
    assert response.status_code == 422
    assert expected in unescape(response.get_data(as_text=True))


def test_the_wiki_field_suggests_common_wikis_without_javascript(alice):
    client, _token = alice
    html = client.get("/report").get_data(as_text=True)
    assert 'list="wiki-suggestions"' in attrs_of(html, "wiki")
    assert "placeholder" not in attrs_of(html, "wiki")  # an example in grey reads as a value
    datalist = re.search(r'<datalist id="wiki-suggestions">(.*?)</datalist>', html, re.S).group(1)
    values = re.findall(r'<option value="([^"]+)" label="([^"]+)">', datalist)
    assert ("en.wikipedia.org", "Wikipedia (English)") in values
    assert ("commons.wikimedia.org", "Wikimedia Commons") in values
    assert 20 <= len(values) <= 40
    assert len(datalist.encode()) < 4000


def test_the_suggestions_start_with_the_readers_language(app):
    client = app.test_client()
    client.get("/?uselang=ar")
    login(client)
    html = client.get("/report").get_data(as_text=True)
    first = re.search(r'<datalist id="wiki-suggestions">\s*<option value="([^"]+)" label="([^"]+)">', html)
    assert first.groups() == ("ar.wikipedia.org", "ويكيبيديا (العربية)")


def test_offline_reports_need_no_wiki_and_reach_the_desk(alice, app):
    client, token = alice
    # Any other category still needs the wiki.
    response = client.post("/report", data={"csrf_token": token, "wiki": "", "category": "harassment"})
    assert response.status_code == 422
    response = client.post("/report", data={"csrf_token": token, "wiki": " ", "category": "offline-or-event-safety",
                                            "description": "At the meetup."})
    assert response.status_code == 303
    receipt = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "None (not on a wiki)" in receipt
    [summary] = client.get("/api/v1/reports").get_json()["reports"]
    assert summary["wiki"] == ""
    assert "None (not on a wiki)" in client.get("/reports").get_data(as_text=True)
    [message] = maildir_messages(app)
    body = message.get_payload()[0].get_payload(decode=True).decode() if message.is_multipart() \
        else message.get_payload(decode=True).decode()
    assert "none given (offline or at an event)" in body


def test_an_offline_report_may_still_name_a_wiki(alice):
    client, token = alice
    response = client.post("/report", data={"csrf_token": token, "wiki": "dewiki",
                                            "category": "offline-or-event-safety", "description": "x"})
    assert response.status_code == 303
    assert client.get("/api/v1/reports").get_json()["reports"][0]["wiki"] == "de.wikipedia.org"


def test_csrf_of_the_login_page_is_still_required_for_the_form_when_logged_in(alice):
    client, _token = alice
    assert client.post("/report", data={**FIELDS, "csrf_token": "wrong"}, headers=SAME_ORIGIN).status_code == 403


def test_csrf_from_helper_reads_the_form_token(alice):
    client, token = alice
    form_token = csrf_from(client.get("/report").get_data(as_text=True))
    assert form_token != token  # masked afresh per response (BREACH), yet the same secret
    assert client.post("/report", data={"csrf_token": form_token, "category": "other", "description": "x",
                                        "wiki": "dewiki"}).status_code == 303


@pytest.mark.parametrize("with_session", [True, False])
def test_with_the_database_down_a_form_that_cannot_be_kept_is_shown_again_filled(app, monkeypatch, with_session):
    import sqlite3

    from sqlalchemy.exc import OperationalError

    def database_down(*args, **kwargs):
        raise OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked"))

    client = app.test_client()
    token = login(client, "Alice") if with_session else "gone"
    if with_session:
        _expire_login(app, monkeypatch)
    monkeypatch.setattr(app.extensions["reporting"].stores.form_drafts, "keep", database_down)
    response = client.post("/report", data={**FIELDS, "csrf_token": token}, headers=SAME_ORIGIN)
    assert response.status_code == 503
    html = response.get_data(as_text=True)
    assert 'id="form-unavailable"' in html and textarea_value(html, "description") == SECRET
    assert csrf_from(html)  # a token of the new session: sending again later works


def test_the_category_radios_rendered_once_keep_each_request_s_own_state(alice):
    """The radios are rendered once per language and checked category (views/fragments.py): a
    later request shows its own choice, its own language and, after an error, the error state."""
    client, token = alice

    def checked(html: str) -> list[str]:
        return re.findall(r'id="category-([a-z-]+)" name="category" value="[^"]+" checked', html)

    def shown_again(category: str) -> str:  # refused for its empty wiki, the category kept
        return client.post("/report", data={"csrf_token": token, "wiki": "", "category": category}).get_data(
            as_text=True)

    assert checked(shown_again("harassment")) == ["harassment"]
    assert checked(client.get("/report").get_data(as_text=True)) == []
    assert checked(shown_again("self-harm")) == ["self-harm"]
    assert checked(shown_again("harassment")) == ["harassment"]
    # The error state is never taken from what the fresh form cached, and the fresh form not from it.
    html = client.post("/report", data={"csrf_token": token, "wiki": "", "category": ""}).get_data(as_text=True)
    assert 'aria-invalid="true"' in attrs_of(html, "category-self-harm")
    assert "aria-invalid" not in client.get("/report").get_data(as_text=True)
    english = client.get("/report").get_data(as_text=True)
    arabic = client.get("/report?uselang=ar").get_data(as_text=True)
    label = re.compile(r'<label for="category-self-harm"[^>]*><span[^>]*>([^<]+)<')
    assert label.search(english).group(1) != label.search(arabic).group(1)
    # The language chooser (also rendered once per language) selects the page's own language.
    assert re.findall(r'<option value="([a-z-]+)"[^>]*selected', arabic) == ["ar"]
    assert re.findall(r'<option value="([a-z-]+)"[^>]*selected', client.get("/report?uselang=en").get_data(
        as_text=True)) == ["en"]
