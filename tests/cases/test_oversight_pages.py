"""Trust & Safety's cross-case pages: who may open them, the numbers, the audit log and its retention."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from reporting.cases.stats import Cell, Shown, median_seconds, suppress
from reporting.storage import schema
from reporting.storage.audit import record_in
from reporting.storage.database import utcnow
from tests.cases.helpers import Reporter
from tests.cases.oversight_helpers import PEOPLE, audit_rows, client_as, decline, report_row
from tests.conftest import csrf_from, make_app, tokens_blanked

PAGES = ("/queue/stats", "/queue/audit", "/queue/suspensions")


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path, **{"rate_limit.per_day": 100})


def suspend_someone(app) -> str:
    """Mallory suspended (five unfounded declines); returns the lift path of the suspension."""
    stores = app.extensions["reporting"].stores
    mallory = Reporter(app, "Mallory")
    for _ in range(5):
        decline(stores, mallory.report())
    assert stores.misuse.standing("Mallory").suspended
    [suspension] = stores.misuse.running()
    return f"/queue/suspensions/{suspension.id}/lift"


def test_no_page_is_kept_by_any_cache(app):
    """Who did what to which case: no shared cache or browser history keeps it."""
    client, _ = client_as(app, "trust-and-safety")
    for path in PAGES:
        assert client.get(path).headers.getlist("Cache-Control") == ["no-store"], path


# -- who may open them ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", list(PEOPLE))
def test_every_page_and_action_is_trust_and_safety_only_and_404_for_everyone_else(app, who):
    lift_path = suspend_someone(app)
    client, token = client_as(app, who)
    allowed = who == "trust-and-safety"
    for path in PAGES:
        response = client.get(path)
        # Anonymous: the login, as for every /queue/ path; logged in without the role: 404.
        assert response.status_code == (200 if allowed else 302 if token is None else 404), (who, path)
        if not allowed:  # the same answer as for a path that does not exist (the login link names the path)
            missing = "/queue/no-such-page"
            unknown = client.get(missing)
            assert response.status_code == unknown.status_code
            assert response.headers.get("Location", "").replace(path, "PATH") == \
                unknown.headers.get("Location", "").replace(missing, "PATH")
            assert tokens_blanked(response.get_data(as_text=True)).replace(path, "PATH") == \
                tokens_blanked(unknown.get_data(as_text=True)).replace(missing, "PATH")
    response = client.post(lift_path, data={"csrf_token": token or ""})
    if allowed:
        assert response.status_code == 303
        assert app.extensions["reporting"].stores.misuse.running() == []
    else:
        assert response.status_code in (403, 404)  # anonymous: no CSRF token of a session to send
        assert response.status_code == 404 or token is None
        assert len(app.extensions["reporting"].stores.misuse.running()) == 1


def test_a_lift_without_the_csrf_token_is_refused(app):
    lift_path = suspend_someone(app)
    tess, _ = client_as(app, "trust-and-safety")
    assert tess.post(lift_path, data={}).status_code == 403
    assert tess.post(lift_path, data={"csrf_token": "forged"}).status_code == 403
    assert len(app.extensions["reporting"].stores.misuse.running()) == 1


def test_losing_the_role_closes_the_pages_at_the_next_refresh(app):
    """Roles are re-read from meta when due (dev login: the same rule); the pages ask on every request."""
    tess, _ = client_as(app, "trust-and-safety")
    assert tess.get("/queue/stats").status_code == 200
    with tess.session_transaction() as session:  # set whole: the cookie is written only when the session changed
        session["user"] = {**session["user"], "roles": []}
    assert tess.get("/queue/stats").status_code == 404


# -- numbers ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("counts", "expected"), [
    ({}, []),
    ({"a": 7, "b": 9}, [Cell("b", Shown.EXACT, 9), Cell("a", Shown.EXACT, 7)]),
    # One small cell: the next smallest is hidden too, or the total from another table would give it away.
    ({"a": 7, "b": 9, "c": 2}, [Cell("b", Shown.EXACT, 9), Cell("a", Shown.AT_LEAST, None),
                                Cell("c", Shown.BELOW, None)]),
    ({"a": 7, "b": 1, "c": 4}, [Cell("a", Shown.EXACT, 7), Cell("c", Shown.BELOW, None),
                                Cell("b", Shown.BELOW, None)]),
    ({"a": 3}, [Cell("a", Shown.BELOW, None)]),
    ({"a": 5, "b": 0}, [Cell("a", Shown.EXACT, 5)]),
])
def test_small_counts_are_never_shown_exactly(counts, expected):
    assert suppress(counts) == expected


def test_the_median_needs_five_cases():
    assert median_seconds([1.0, 2.0, 3.0, 4.0]) is None
    assert median_seconds([5.0, 1.0, 3.0, 2.0, 4.0]) == 3.0


def test_the_numbers_page_shows_counts_by_category_wiki_status_and_week_without_small_counts_or_names(
        tmp_path, database_url):
    app = make_app(tmp_path, database_url, **{"rate_limit.per_day": 100})
    stores = app.extensions["reporting"].stores
    secret = "Zebra-secret-content-4711"
    refs = []
    for name, category, wiki, count in (("Alice", "harassment", "en.wikipedia.org", 7),
                                        ("Bob", "doxing", "de.wikipedia.org", 6),
                                        ("Carol", "hounding", "fr.wikipedia.org", 2)):
        reporter = Reporter(app, name)
        refs += [reporter.report(category=category, wiki=wiki, description=secret) for _ in range(count)]
    # Five cases get a first status change by a functionary 1..5 hours after they reached the desk.
    for hours, ref in enumerate(refs[:5], 1):
        with stores.engine.connect() as connection:
            delivered = connection.execute(select(schema.outbox.c.delivered_at).where(
                schema.outbox.c.report_id == report_row(stores, ref).id)).scalar()
        decline(stores, ref, unfounded=False, now=delivered + timedelta(hours=hours))

    tess, _ = client_as(app, "trust-and-safety")
    html = tess.get("/queue/stats").get_data(as_text=True)
    for leaked in (secret, "Alice", "Bob", "Carol", "Fiona", *refs):
        assert leaked not in html

    def rows(section: str) -> dict[str, str]:
        table = re.search(rf'id="stats-{section}".*?</section>', html, re.S).group(0)
        found = re.findall(r'<th scope="row">(.*?)</th>\s*<td class="stats-count" data-shown="[a-z-]+">'
                           r'<bdi dir="ltr">(.*?)</bdi></td>', table, re.S)
        return {re.sub(r"<[^>]+>", "", label).strip(): value.strip() for label, value in found}

    assert rows("category") == {"Harassment": "7", "Personal information exposed": "≥ 5",
                                "Being followed around": "&lt; 5"}
    assert rows("wiki") == {"en.wikipedia.org": "7", "de.wikipedia.org": "≥ 5", "fr.wikipedia.org": "&lt; 5"}
    assert rows("status") == {"With the team": "10", "Closed without action": "5"}
    assert list(rows("week").values()) == ["15"]
    assert "Median time to the first status change: 3 hours." in html


def test_the_numbers_page_in_arabic_is_right_to_left(app):
    tess, _ = client_as(app, "trust-and-safety")
    html = tess.get("/queue/stats?uselang=ar&weeks=52").get_data(as_text=True)
    assert 'dir="rtl"' in html and 'lang="ar"' in html
    assert "أرقام لفريق الثقة والأمان" in html
    assert '<option value="52" selected>' in html


# -- the audit log ------------------------------------------------------------------------------------------------


def test_the_audit_page_filters_by_user_and_dates_and_pages_through(app):
    stores = app.extensions["reporting"].stores
    ref = Reporter(app, "Alice").report()
    report_id = report_row(stores, ref).id
    now = utcnow()
    with stores.engine.begin() as connection:
        for number in range(60):
            record_in(connection, report_id, "Fiona", "case-viewed", now=now - timedelta(minutes=number))
        record_in(connection, report_id, "Tess", "note-added", now=now - timedelta(days=10))
    tess, _ = client_as(app, "trust-and-safety")

    def entries(html: str) -> list[tuple[str, str]]:
        return re.findall(r'<bdi class="audit-actor">(.*?)</bdi></td>\s*<td><code dir="ltr" class="audit-action">'
                          r'(.*?)</code>', html)

    first = tess.get("/queue/audit?actor=fiona").get_data(as_text=True)  # typed as MediaWiki would accept it
    assert entries(first) == [("Fiona", "case-viewed")] * 50
    assert ref in first and 'rel="next"' in first and 'rel="prev"' not in first
    next_path = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = tess.get(next_path).get_data(as_text=True)
    assert entries(second) == [("Fiona", "case-viewed")] * 10 and 'rel="next"' not in second
    assert 'value="fiona"' in second  # the filter stays

    day = (now - timedelta(days=10)).date().isoformat()
    dated = tess.get(f"/queue/audit?from={day}&to={day}").get_data(as_text=True)
    assert entries(dated) == [("Tess", "note-added")]
    everyone = tess.get("/queue/audit").get_data(as_text=True)
    assert ("reporter", "submitted") in entries(tess.get("/queue/audit?actor=reporter").get_data(as_text=True))
    assert "Alice" not in everyone
    bad = tess.get("/queue/audit?from=31.01.2026")
    assert bad.status_code == 422 and "year-month-day" in bad.get_data(as_text=True)


def test_audit_entries_past_retention_become_monthly_counts_in_housekeeping(tmp_path, database_url):
    app = make_app(tmp_path, database_url, retention_days=30)
    components = app.extensions["reporting"]
    stores = components.stores
    ref = Reporter(app, "Alice").report()
    report_id = report_row(stores, ref).id
    old = utcnow() - timedelta(days=45)
    with stores.engine.begin() as connection:
        connection.execute(update(schema.audit_log).values(at=old))  # the report's own entries are old now
        record_in(connection, report_id, "Fiona", "case-viewed", now=old)
        record_in(connection, report_id, "Fiona", "case-viewed", now=old)
        record_in(connection, report_id, "Tess", "note-added", now=utcnow() - timedelta(days=5))
    before = {(row.action, row.actor) for row in audit_rows(stores)}
    assert ("case-viewed", "Fiona") in before

    components.maintain()  # the worker's housekeeping turn

    assert [(row.actor, row.action) for row in audit_rows(stores)] == [("Tess", "note-added")]
    month = old.strftime("%Y-%m")
    summary = {(row.month, row.action): row.entries for row in stores.audit_review.summary()}
    assert summary[(month, "case-viewed")] == 2 and summary[(month, "submitted")] == 1
    with stores.engine.connect() as connection:
        assert "Fiona" not in repr(connection.execute(select(schema.audit_summary)).all())
    tess, _ = client_as(app, "trust-and-safety")
    html = tess.get("/queue/audit").get_data(as_text=True)
    assert 'id="audit-summary"' in html and month in html
    # Once a day across workers: a second turn the same day changes nothing.
    with stores.engine.begin() as connection:
        record_in(connection, report_id, "Fiona", "case-viewed", now=old)
    components.maintain()
    assert len(audit_rows(stores, "case-viewed")) == 1 and len(audit_rows(stores)) > 1


def test_long_ended_suspensions_are_forgotten_with_the_audit_entries(tmp_path):
    app = make_app(tmp_path, retention_days=30, **{"rate_limit.per_day": 100})
    stores = app.extensions["reporting"].stores
    suspend_someone(app)
    with stores.engine.begin() as connection:
        connection.execute(update(schema.misuse_suspensions).values(
            started_at=utcnow() - timedelta(days=80), ends_at=utcnow() - timedelta(days=50)))
    app.extensions["reporting"].forget_old_oversight_records()
    with stores.engine.connect() as connection:
        assert connection.execute(select(schema.misuse_suspensions)).all() == []


def test_the_suspensions_page_explains_the_numbers(app):
    tess, _ = client_as(app, "trust-and-safety")
    html = tess.get("/queue/suspensions").get_data(as_text=True)
    assert "5 times within 90 days" in html and "for 30 days" in html and "after 3" in html
    assert "Nobody is suspended." in html
    assert csrf_from(html)
