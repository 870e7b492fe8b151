"""The report form from its skeleton is the page its template renders (reporting/views/skeletons.py).

Each row opens the form as someone does (unfilled, from the gadget with awkward values, with a
radio or the checkbox preset, in Arabic, as Trust & Safety) twice: once rendered from the template
with the cache bypassed, once filled from the skeleton, and the two must be the same page, but for
the values that are new on every showing (the CSRF token and the one-time submission id).
"""
from __future__ import annotations

import re

import pytest

from reporting.views.skeletons import PageSkeletons, Skeleton
from tests.conftest import login, make_app

AWKWARD = "<script>alert(1)</script> & \"quoted\" 'single' \u202eأحمد"
ONE_TIME = re.compile(r'(name="(?:csrf_token|submission_id)" value=")[^"]*(")')


def rendered_afresh(monkeypatch, client, url: str) -> str:
    with monkeypatch.context() as patch:
        patch.setattr(PageSkeletons, "page", lambda self, key, version, render, values: render(values))
        return client.get(url).get_data(as_text=True)


def same_page(page: str) -> str:
    return ONE_TIME.sub(r"\1…\2", page)


@pytest.mark.parametrize(("who", "groups", "url"), [
    ("Alice", "", "/report"),
    ("Alice", "", "/report?uselang=ar"),
    ("Alice", "", "/report?wiki=en.wikipedia.org&page=Talk:Foo&diff=55&oldid=54"),
    ("Alice", "", "/report?wiki=en.wikipedia.org&user=" + AWKWARD),
    ("Alice", "", "/report?wiki=" + AWKWARD + "&page=" + AWKWARD),
    ("Alice", "", "/report?wiki=ar.wikipedia.org&user=%D8%A3%D8%AD%D9%85%D8%AF&uselang=ar"),
    ("Alice", "", "/report?category=doxing&share_with_functionaries=1"),
    ("Alice", "", "/report?category=no-such-category"),
    ("<b>Mallory & \"Co\"</b>", "", "/report"),
    ("Tess", "staff", "/report"),
    ("Erik", "checkuser@en.wikipedia.org", "/report?uselang=fa"),
])
def test_the_page_from_the_skeleton_is_the_page_the_template_renders(tmp_path, monkeypatch, caplog, who, groups,
                                                                    url):
    app = make_app(tmp_path)
    client = app.test_client()
    login(client, who, groups)
    warm = client.get("/report?wiki=de.wikipedia.org&uselang=" + ("ar" if "uselang=ar" in url else "en"))
    assert warm.status_code == 200
    expected = rendered_afresh(monkeypatch, client, url)
    for _ in range(2):  # the first may make the skeleton; the second is filled from it
        response = client.get(url)
        assert response.status_code == 200
        assert same_page(response.get_data(as_text=True)) == same_page(expected)
    assert "<script>alert(1)" not in expected
    assert "cannot be filled from a skeleton" not in caplog.text  # the skeleton passed its proof


def test_each_showing_has_its_own_submission_id_and_a_working_token(tmp_path):
    app = make_app(tmp_path)
    client = app.test_client()
    login(client, "Alice")
    pages = [client.get("/report").get_data(as_text=True) for _ in range(3)]
    ids = {re.search(r'name="submission_id" value="([^"]+)"', page).group(1) for page in pages}
    assert len(ids) == 3
    token = re.search(r'name="csrf_token" value="([^"]+)"', pages[-1]).group(1)
    sent = client.post("/report", data={"csrf_token": token, "submission_id": ids.pop(), "action": "send",
                                        "category": "harassment", "wiki": "en.wikipedia.org",
                                        "description": "They insult me."})
    assert sent.status_code == 303


def test_a_page_that_uses_a_value_beyond_printing_it_is_always_rendered(caplog):
    """A template that decides on a value fails the proof: rendered every time, never filled wrongly."""
    skeletons = PageSkeletons()
    calls = []

    def render(values):
        calls.append(dict(values))
        shout = values["name"].upper()  # no marker can stand for this
        return f"<p>{shout}</p><p>{values['name']}</p>" if values["name"] else "<p>nobody</p>"

    assert skeletons.page(("greeting",), None, render, {"name": "ada"}) == b"<p>ADA</p><p>ada</p>"
    assert "cannot be filled from a skeleton" in caplog.text
    assert skeletons.page(("greeting",), None, render, {"name": "bo"}) == b"<p>BO</p><p>bo</p>"
    assert skeletons.page(("greeting",), None, render, {"name": ""}) == b"<p>nobody</p>"


def test_a_skeleton_escapes_each_value_and_is_made_again_for_another_version():
    skeletons = PageSkeletons()
    renders = []

    def render(values, suffix="1"):
        renders.append(values["name"])
        from markupsafe import escape
        return f'<input value="{escape(values["name"])}"><b>{escape(values["name"])}</b>{suffix}'

    first = object()
    assert skeletons.page(("k",), first, render, {"name": "a"}) == b'<input value="a"><b>a</b>1'
    count = len(renders)
    assert skeletons.page(("k",), first, render, {"name": '"><x>&'}) == (
        b'<input value="&#34;&gt;&lt;x&gt;&amp;"><b>&#34;&gt;&lt;x&gt;&amp;</b>1')
    assert len(renders) == count  # filled, not rendered
    second = object()
    assert skeletons.page(("k",), second, lambda values: render(values, "2"), {"name": "b"}).endswith(b"2")
    assert skeletons.page(("k",), second, render, {"name": "c"}).endswith(b"2")  # the new version's skeleton


def test_a_cut_page_gives_back_its_pieces():
    skeleton = Skeleton.cut("a[X]b[Y]c[X]", {"x": "[X]", "y": "[Y]"})
    assert skeleton.pieces == (b"a", b"b", b"c", b"") and skeleton.slots == ("x", "y", "x")
    assert skeleton.fill({"x": "<", "y": "&"}) == b"a&lt;b&amp;c&lt;"
