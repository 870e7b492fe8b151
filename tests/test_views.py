"""The pages and the JSON API, end to end through the Flask test client."""

import pytest

from .conftest import csrf_from, health_of, login, maildir_messages

REPORT = {"wiki": "en.wikipedia.org", "category": "harassment", "reported_users": ["Bob"],
          "evidence": ["https://en.wikipedia.org/w/index.php?diff=123&oldid=120"],
          "description": "He keeps insulting me on my talk page.", "share_with_functionaries": False}


def form_post(client, token, **fields):
    data = {"csrf_token": token, "wiki": "en.wikipedia.org", "category": "harassment",
            "reported_users": "Bob", "evidence": "https://en.wikipedia.org/w/index.php?diff=123",
            "description": "Insults"}
    data.update(fields)
    return client.post("/report", data=data)


def test_start_page_explains_and_links_to_the_form(client):
    html = client.get("/").get_data(as_text=True)
    assert "Report harassment or a safety problem privately" in html
    assert 'href="/report"' in html


def test_form_requires_login_and_keeps_the_prefill_through_it(client):
    response = client.get("/report?wiki=de.wikipedia.org&diff=55&oldid=54&user=Troll")
    assert response.status_code == 302
    returnto = response.headers["Location"].split("returnto=", 1)[1]
    token = csrf_from(client.get(response.headers["Location"]).get_data(as_text=True))
    from urllib.parse import unquote
    response = client.post("/login", data={"username": "alice", "csrf_token": token, "returnto": unquote(returnto)})
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'value="de.wikipedia.org"' in html
    assert "https://de.wikipedia.org/w/index.php?diff=55&amp;oldid=54" in html
    assert ">Troll</textarea>" in html


@pytest.mark.parametrize("query, evidence", [
    ("wiki=en.wikipedia.org&revid=77", "https://en.wikipedia.org/wiki/Special:PermanentLink/77"),
    ("wiki=en.wikipedia.org&oldid=77", "https://en.wikipedia.org/w/index.php?oldid=77"),
    ("wiki=en.wikipedia.org&diff=prev&oldid=77", "https://en.wikipedia.org/w/index.php?diff=prev&amp;oldid=77"),
    ("wiki=en.wikipedia.org&page=User talk:Alice", "https://en.wikipedia.org/wiki/User_talk:Alice"),
])
def test_prefill_builds_the_evidence_link(alice, query, evidence):
    client, _ = alice
    assert evidence in client.get(f"/report?{query}").get_data(as_text=True)


def test_prefill_is_escaped(alice):
    client, _ = alice
    html = client.get('/report?wiki="><script>alert(1)</script>&user=<b>x</b>').get_data(as_text=True)
    assert "<script>alert(1)" not in html and "<b>x</b>" not in html
    assert "&lt;script&gt;" in html


def test_emergency_and_child_safety_notices_are_on_the_form(alice):
    client, _ = alice
    html = client.get("/report").get_data(as_text=True)
    assert "emergency@wikimedia.org" in html and "local emergency services" in html
    assert "Do not upload or link images" in html


def test_submitting_the_form_stores_delivers_and_shows_the_reference(app, alice):
    client, token = alice
    response = form_post(client, token)
    assert response.status_code == 303
    ref = response.headers["Location"].split("/reports/")[1].split("?")[0]
    receipt = client.get(response.headers["Location"]).get_data(as_text=True)
    assert ref in receipt and "Your report was received." in receipt and "With the team" in receipt
    [message] = maildir_messages(app)
    assert ref in message["Message-ID"]
    assert ref in client.get("/reports").get_data(as_text=True)


def test_a_refused_form_is_reshown_with_everything_typed(alice):
    client, token = alice
    typed = "Мой текст <b>не</b> должен потеряться"
    response = form_post(client, token, wiki="evil.example", category="other", description=typed,
                         evidence="https://upload.wikimedia.org/x.jpg", reported_users="A[b]")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Мой текст &lt;b&gt;не&lt;/b&gt; должен потеряться</textarea>" in html
    assert 'value="evil.example"' in html and "https://upload.wikimedia.org/x.jpg</textarea>" in html
    assert "is not a Wikimedia wiki" in html and "Links to images or videos are not accepted" in html
    assert "cannot be a user name" in html
    assert "the 3 problems" in html


def test_another_user_gets_404_for_my_report(app, alice):
    client, token = alice
    ref = form_post(client, token).headers["Location"].split("/reports/")[1].split("?")[0]
    other = app.test_client()
    other_token = login(other, "Mallory")
    assert other.get(f"/reports/{ref}").status_code == 404
    assert other.get(f"/api/v1/reports/{ref}").status_code == 404
    assert ref not in other.get("/reports").get_data(as_text=True)
    assert other.get("/api/v1/reports").get_json() == {"reports": []}
    assert other_token


def test_unknown_reference_is_404(alice):
    client, _ = alice
    assert client.get("/reports/IR-0000-0000-0000-0000").status_code == 404
    assert client.get("/reports/../../etc/passwd").status_code == 404


def test_api_me(client):
    assert client.get("/api/v1/me").status_code == 401
    token = login(client, "Alice", "steward, staff")
    me = client.get("/api/v1/me").get_json()
    assert me.pop("csrf_token") != token  # masked afresh in every response (tests/test_breach.py)
    assert me == {"username": "Alice", "roles": ["steward", "trust-and-safety"]}


def test_api_creates_lists_and_reads_reports(app, alice):
    client, token = alice
    response = client.post("/api/v1/reports", json=REPORT, headers={"X-CSRF-Token": token})
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "forwarded" and body["ref"].startswith("IR-")
    assert response.headers["Location"] == f"/api/v1/reports/{body['ref']}"
    listed = client.get("/api/v1/reports").get_json()["reports"]
    assert [r["ref"] for r in listed] == [body["ref"]]
    one = client.get(f"/api/v1/reports/{body['ref']}").get_json()
    assert one["description"] == REPORT["description"] and one["evidence"] == REPORT["evidence"]
    [message] = maildir_messages(app)
    assert body["ref"] in message["Message-ID"]


def test_api_identity_comes_from_the_session_only(alice):
    client, token = alice
    response = client.post("/api/v1/reports", json={**REPORT, "reporter": "Somebody Else"},
                           headers={"X-CSRF-Token": token})
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["code"] == "unknown-field"


def test_api_lists_every_problem_in_the_users_language(alice):
    client, token = alice
    response = client.post("/api/v1/reports", json={"wiki": "localhost", "category": "nope",
                                                     "evidence": ["x"] * 51, "reported_users": ["U"] * 11},
                           headers={"X-CSRF-Token": token})
    assert response.status_code == 422
    errors = {(e["field"], e["code"]) for e in response.get_json()["errors"]}
    assert errors == {("wiki", "unknown-wiki"), ("category", "unknown-category"),
                      ("evidence", "too-many-links"), ("reported_users", "too-many-users")}
    assert all(e["message"] for e in response.get_json()["errors"])


@pytest.mark.parametrize("body, content_type, status, code", [
    (b"\xff\xfe{}", "application/json", 400, "invalid-utf8"),
    (b"{not json", "application/json", 400, "invalid-json"),
    (b"[1,2]", "application/json", 400, "invalid-json"),
    (b"wiki=x", "application/x-www-form-urlencoded", 415, "unsupported-media-type"),
    (b"x" * (65 * 1024), "application/json", 413, "too-large"),
])
def test_api_bad_bodies(app, alice, body, content_type, status, code):
    client, token = alice
    response = client.post("/api/v1/reports", data=body, content_type=content_type,
                           headers={"X-CSRF-Token": token})
    assert response.status_code == status
    assert response.get_json()["errors"][0]["code"] == code
    assert client.get("/api/v1/reports").get_json() == {"reports": []}


def test_form_refuses_invalid_utf8_and_uploads(alice):
    client, token = alice
    response = client.post("/report", data=f"csrf_token={token}&wiki=en.wikipedia.org&description=%FF%FE",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    response = client.post("/report", data={"csrf_token": token, "file": (__import__("io").BytesIO(b"GIF89a"), "x.gif")},
                           content_type="multipart/form-data")
    assert response.status_code in (403, 415)  # the token travels in the multipart body Flask won't be asked to trust
    assert client.get("/api/v1/reports").get_json() == {"reports": []}


def test_form_oversize_body_is_refused(alice):
    client, token = alice
    response = form_post(client, token, description="x" * (70 * 1024))
    assert response.status_code == 413


def test_openapi_document_lists_the_endpoints(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert {"/me", "/reports", "/reports/{ref}", "/evidence/parse", "/evidence/resolve"} <= set(document["paths"])
    assert set(document["components"]["schemas"]["NewReport"]["properties"]) == set(REPORT)


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}  # anonymous: the word only
    status, body = health_of(client)
    assert status == 200 and body["status"] == "ok" and body["database"] is True and body["outbox"]["pending"] == 0
