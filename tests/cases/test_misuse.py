"""Misuse, the DSA article 23 way: unfounded declines warn, then suspend non-emergency reporting; T&S lift it."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from reporting.cases.misuse import (
    LIFTED_ACTION,
    SUSPENDED_ACTION,
    WINDOW,
    Decline,
    MisusePolicy,
    Verdict,
    counted,
    judge,
)
from reporting.storage.database import utcnow
from tests.cases.helpers import Reporter
from tests.cases.oversight_helpers import audit_rows, client_as, decline, reopen, report_row
from tests.conftest import csrf_from, make_app

NOW = datetime(2026, 6, 1, 12, 0)
POLICY = MisusePolicy(warning_after=3, suspension_days=30)
WARNING = "Several of your recent reports were closed"
SUSPENDED_NOTICE = "this tool accepts only urgent reports from your account"
SUSPENDED_REFUSAL = "This tool cannot take this report from your account"


def declines(*days_ago: float, report_ids: list[int] | None = None) -> list[Decline]:
    ids = report_ids or list(range(1, len(days_ago) + 1))
    return [Decline(audit_id=n, report_id=ids[n - 1], at=NOW - timedelta(days=ago))
            for n, ago in enumerate(days_ago, 1)]


@pytest.mark.parametrize(("days_ago", "counted_until", "expected", "count"), [
    ((), None, Verdict.CLEAR, 0),
    ((1, 2), None, Verdict.CLEAR, 2),
    ((1, 2, 3), None, Verdict.WARNED, 3),
    ((1, 2, 3, 4), None, Verdict.WARNED, 4),
    ((1, 2, 3, 4, 5), None, Verdict.SUSPENDED, 5),
    ((1, 2, 3, 4, 91), None, Verdict.WARNED, 4),  # older than 90 days: no longer counted
    ((1, 2, 3, 4, 5), NOW - timedelta(days=2.5), Verdict.CLEAR, 2),  # a lift (or a suspension) before
])
def test_the_rule(days_ago, counted_until, expected, count):
    judgement = judge(counted(declines(*days_ago), counted_until, NOW), POLICY, NOW)
    assert (judgement.standing.verdict, judgement.standing.declines) == (expected, count)
    if expected == Verdict.SUSPENDED:
        assert judgement.standing.suspended_until == NOW + timedelta(days=30)
        assert judgement.trigger is not None and judgement.trigger.audit_id == 1  # the fifth, counted oldest first
        assert judgement.standing.days_left(NOW) == 30


def test_a_case_declined_twice_counts_once():
    twice = declines(1, 2, 3, 4, 5, report_ids=[1, 1, 2, 3, 4])
    assert [d.report_id for d in counted(twice, None, NOW)] == [4, 3, 2, 1]
    assert judge(counted(twice, None, NOW), POLICY, NOW).standing.verdict == Verdict.WARNED


def test_the_window_is_ninety_days_and_the_thresholds_follow_the_setting():
    assert WINDOW.days == 90
    policy = MisusePolicy(warning_after=1, suspension_days=7)
    assert policy.suspend_after == 3
    assert judge(counted(declines(1), None, NOW), policy, NOW).standing.verdict == Verdict.WARNED
    assert judge(counted(declines(1, 2, 3), None, NOW), policy, NOW).standing.suspended_until == NOW + timedelta(days=7)


# -- end to end, through the app -------------------------------------------------------------------------------


@pytest.fixture
def app(tmp_path, database_url):
    return make_app(tmp_path, database_url, **{"rate_limit.per_day": 100})


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def form_post(client, category: str):
    token = csrf_from(page(client, "/report"))
    return client.post("/report", data={"csrf_token": token, "wiki": "en.wikipedia.org", "category": category,
                                        "description": "Please look at this."})


def api_post(alice: Reporter, category: str):
    return alice.post("/api/v1/reports", {"wiki": "en.wikipedia.org", "category": category,
                                          "description": "Please look at this."})


def test_three_unfounded_warn_five_suspend_emergencies_stay_open_and_trust_and_safety_lift_it(app):
    stores = app.extensions["reporting"].stores
    alice = Reporter(app, "Alice")
    refs = [alice.report() for _ in range(5)]
    assert {report_row(stores, ref).status for ref in refs} == {"forwarded"}

    for ref in refs[:2]:
        decline(stores, ref)
    decline(stores, alice.report(), unfounded=False)  # declined, but not as unfounded: never counted
    for path in ("/report", "/reports"):
        assert WARNING not in page(alice.client, path)

    decline(stores, refs[2])
    for path in ("/report", "/reports"):
        html = page(alice.client, path)
        assert 'id="misuse-warning"' in html and WARNING in html
        assert "Fiona" not in html  # never who declined
    assert api_post(alice, "harassment").status_code == 201  # a warning refuses nothing

    decline(stores, refs[3])
    assert WARNING in page(alice.client, "/reports")
    assert not audit_rows(stores, SUSPENDED_ACTION)

    decline(stores, refs[4])
    html = page(alice.client, "/reports")
    assert 'id="misuse-suspended"' in html and SUSPENDED_NOTICE in html and "Fiona" not in html
    page(alice.client, "/report")  # every visit looks again; the suspension is recorded once
    [suspended] = audit_rows(stores, SUSPENDED_ACTION)
    assert (suspended.report_id, suspended.actor) == (report_row(stores, refs[4]).id, "system")
    assert "Alice" not in repr(audit_rows(stores))  # no reporter name anywhere in the log

    # Non-emergency: refused on the form (with everything typed) and in the API (403 suspended).
    refused = form_post(alice.client, "harassment")
    assert refused.status_code == 403
    text = refused.get_data(as_text=True)
    assert SUSPENDED_REFUSAL in text and "30 more days" in text and "Please look at this." in text
    response = api_post(alice, "doxing")
    assert response.status_code == 403
    [error] = response.get_json()["errors"]
    assert error["code"] == "suspended" and "30 more days" in error["message"]
    assert "threats of violence" in error["message"]
    # Emergencies stay open, on the form and in the API.
    assert form_post(alice.client, "self-harm").status_code == 303
    assert api_post(alice, "threat-of-violence").status_code == 201
    # Others are not affected.
    bob = Reporter(app, "Bob")
    assert api_post(bob, "harassment").status_code == 201

    # Trust & Safety see the suspension by the case that started it, never by name, and lift it.
    tess, _ = client_as(app, "trust-and-safety")
    listing = page(tess, "/queue/suspensions")
    assert refs[4] in listing and "Alice" not in listing
    lift_path = re.search(r'action="(/queue/suspensions/\d+/lift)"', listing).group(1)
    lifted = tess.post(lift_path, data={"csrf_token": csrf_from(listing)})
    assert lifted.status_code == 303
    assert "The suspension was lifted" in page(tess, lifted.headers["Location"])
    assert refs[4] not in page(tess, "/queue/suspensions")
    [lift] = audit_rows(stores, LIFTED_ACTION)
    assert (lift.actor, lift.report_id) == ("Tess", report_row(stores, refs[4]).id)
    again = tess.post(lift_path, data={"csrf_token": csrf_from(listing)})
    assert "already ended or been lifted" in page(tess, again.headers["Location"])
    assert len(audit_rows(stores, LIFTED_ACTION)) == 1

    # Accepted again, and the declines before the lift neither warn nor suspend again.
    assert form_post(alice.client, "harassment").status_code == 303
    assert api_post(alice, "harassment").status_code == 201
    html = page(alice.client, "/reports")
    assert WARNING not in html and SUSPENDED_NOTICE not in html


def test_the_command_line_lifts_a_suspension_by_user_name(app):
    stores = app.extensions["reporting"].stores
    alice = Reporter(app, "Alice example")
    for _ in range(5):
        decline(stores, alice.report())
    cli = app.test_cli_runner()
    # Not yet noticed by a visit: lifting records it first, so the next visit does not start it.
    result = cli.invoke(args=["reporting", "lift-suspension", "alice_example"])
    assert result.exit_code == 0 and result.output == "suspension lifted\n"
    assert len(audit_rows(stores, SUSPENDED_ACTION)) == 1
    [lift] = audit_rows(stores, LIFTED_ACTION)
    assert lift.actor == "cli"
    assert api_post(alice, "harassment").status_code == 201
    result = cli.invoke(args=["reporting", "lift-suspension", "Alice example"])
    assert result.exit_code != 0 and "not suspended" in result.output
    assert "Alice" not in repr(audit_rows(stores))


def test_a_reopened_case_no_longer_counts(app):
    stores = app.extensions["reporting"].stores
    alice = Reporter(app, "Alice")
    refs = [alice.report() for _ in range(3)]
    for ref in refs:
        decline(stores, ref)
    assert WARNING in page(alice.client, "/reports")
    reopen(stores, refs[0])
    assert WARNING not in page(alice.client, "/reports")
    # Declined again, but not as unfounded: the earlier mark stays taken back.
    decline(stores, refs[0], unfounded=False)
    assert WARNING not in page(alice.client, "/reports")
    decline(stores, alice.report())
    assert WARNING in page(alice.client, "/reports")


def test_old_declines_and_an_expired_suspension_do_not_suspend_again(app):
    stores = app.extensions["reporting"].stores
    alice = Reporter(app, "Alice")
    long_ago = utcnow() - timedelta(days=120)
    refs = [alice.report() for _ in range(5)]
    for ref in refs:
        decline(stores, ref, now=long_ago)
    assert not stores.misuse.standing("Alice").warned  # outside the 90 days
    refs = [alice.report() for _ in range(5)]
    for number, ref in enumerate(refs):
        decline(stores, ref, now=utcnow() - timedelta(days=40 - number))
    # Noticed 35 days ago (say the reporter came back then): 30 days later it has ended by itself.
    noticed = utcnow() - timedelta(days=35)
    assert stores.misuse.standing("Alice", now=noticed).suspended
    assert stores.misuse.standing("Alice").verdict == Verdict.CLEAR
    assert api_post(alice, "harassment").status_code == 201
    assert len(audit_rows(stores, SUSPENDED_ACTION)) == 1


def test_two_requests_that_notice_the_threshold_record_one_suspension(app):
    stores = app.extensions["reporting"].stores
    alice = Reporter(app, "Alice")
    for _ in range(5):
        decline(stores, alice.report())
    misuse = stores.misuse
    hashes = misuse.sealer.index_hashes("Alice")
    # Both read the same declines before either wrote (what two racing web threads do).
    from reporting.cases.misuse import counted as count_them
    with stores.engine.connect() as connection:
        found = misuse._declines_in(connection, hashes, utcnow() - WINDOW)
    judgement = judge(count_them(found, None, utcnow()), misuse.policy, utcnow())
    assert judgement.trigger is not None
    first = misuse._suspend(hashes, judgement.trigger, judgement.standing, utcnow())
    second = misuse._suspend(hashes, judgement.trigger, judgement.standing, utcnow())
    assert first.suspended and second.suspended
    assert len(audit_rows(stores, SUSPENDED_ACTION)) == 1
    assert len(misuse.running()) == 1


def test_pages_ask_for_the_standing_until_it_is_found_clear_and_again_after_each_decline(app, monkeypatch):
    """Once a session found its user's standing clear, pages show no notice without asking, until a
    decline of one of the user's reports (in any session: they all look again); sending always asks."""
    stores = app.extensions["reporting"].stores
    asked = []
    standing = type(stores.misuse).standing
    monkeypatch.setattr(type(stores.misuse), "standing",
                        lambda self, username, now=None: asked.append(username) or standing(self, username, now))
    alice, other_tab = Reporter(app, "Alice"), Reporter(app, "Alice")
    refs = [alice.report() for _ in range(3)]
    asked.clear()
    for path in ("/report", "/reports", "/report"):
        page(alice.client, path)
    assert asked == ["Alice"]  # the first page asked, and found it clear
    page(other_tab.client, "/report")
    assert asked == ["Alice"] * 2  # another session asks for itself once

    decline(stores, refs[0])
    decline(stores, refs[1])
    asked.clear()
    page(alice.client, "/report")
    page(other_tab.client, "/reports")
    assert asked == ["Alice"] * 2  # each session looks again after a decline (still clear: two)
    page(alice.client, "/reports")
    assert asked == ["Alice"] * 2

    decline(stores, refs[2])
    assert WARNING in page(alice.client, "/report") and WARNING in page(other_tab.client, "/report")
    asked.clear()
    assert WARNING in page(alice.client, "/reports")
    assert asked == ["Alice"]  # while warned, every page asks (a warning also ends with time)
    api_post(alice, "harassment")
    assert len(asked) == 2  # sending asks, whatever the pages found


def test_a_clear_standing_noted_after_a_decline_raced_it_is_not_taken(app):
    """A page that found the standing clear just before a decline landed must not mark the session clear."""
    stores = app.extensions["reporting"].stores
    alice = Reporter(app, "Alice")
    ref = alice.report()
    with alice.client.session_transaction() as cookie:
        session_id = cookie["sid"]
    before = stores.login_sessions.state(session_id)
    assert before is not None and not before.standing_known_clear
    decline(stores, ref)  # lands between the page's standing query and its note
    stores.login_sessions.note_clear(session_id, before.misuse_epoch)
    after = stores.login_sessions.state(session_id)
    assert after.misuse_epoch == before.misuse_epoch + 1 and not after.standing_known_clear
    stores.login_sessions.note_clear(session_id, after.misuse_epoch)
    assert stores.login_sessions.state(session_id).standing_known_clear
