import re

import pytest

from reporting.intake.references import looks_like_reference, new_reference
from reporting.intake.submission import CATEGORIES, EMERGENCY_CATEGORIES, severity_of, validate_submission
from reporting.evidence.service import Evidence
from reporting.wiki.client import WikiClient

normalize_wiki_builtin = Evidence(WikiClient("test/1 (https://example.org; test@example.org)"), {}).normalize_wiki


def valid(**changes):
    data = {"wiki": "en.wikipedia.org", "category": "harassment", "reported_users": ["Bob"],
            "evidence": ["https://en.wikipedia.org/w/index.php?diff=12"], "description": "He insulted me.",
            "share_with_functionaries": False}
    data.update(changes)
    return data


def codes(data, strict=False):
    submission, errors = validate_submission(data, normalize_wiki_builtin, strict_fields=strict)
    return sorted((e.field, e.code) for e in errors)


def test_a_valid_report_passes_and_is_normalized():
    submission, errors = validate_submission(valid(reported_users=["bob_the_builder", "Bob the builder"]),
                                             normalize_wiki_builtin)
    assert errors == []
    assert submission.reported_users == ("Bob the builder",)
    assert submission.severity == "normal"


@pytest.mark.parametrize("changes, expected", [
    ({"wiki": ""}, [("wiki", "required")]),
    ({"wiki": "evil.example"}, [("wiki", "unknown-wiki")]),
    ({"wiki": "en.wikipedia.org.evil.example"}, [("wiki", "unknown-wiki")]),
    ({"category": "spam"}, [("category", "unknown-category")]),
    ({"category": None}, [("category", "required")]),
    ({"category": "other", "description": "  "}, [("description", "description-required")]),
    ({"reported_users": [f"U{i}" for i in range(11)]}, [("reported_users", "too-many-users")]),
    ({"reported_users": ["Bad[name]"]}, [("reported_users", "invalid-username")]),
    ({"reported_users": "not\x00ok"}, [("reported_users", "control-characters")]),
    ({"evidence": [f"https://en.wikipedia.org/?diff={i}" for i in range(51)]}, [("evidence", "too-many-links")]),
    ({"evidence": ["https://upload.wikimedia.org/wikipedia/commons/a/ab/X.jpg"]}, [("evidence", "media-link")]),
    ({"evidence": ["https://example.org/photo.PNG"]}, [("evidence", "media-link")]),
    ({"evidence": "x" * 2001}, [("evidence", "link-too-long")]),
    ({"evidence": 5}, [("evidence", "not-a-list")]),
    ({"description": "x" * 5001}, [("description", "description-too-long")]),
    ({"description": "bell\x07"}, [("description", "control-characters")]),
    ({"description": 7}, [("description", "not-text")]),
    ({"share_with_functionaries": "yes"}, [("share_with_functionaries", "not-a-boolean")]),
])
def test_each_problem_is_named(changes, expected):
    assert codes(valid(**changes)) == expected


def test_every_problem_is_listed_at_once():
    assert codes({"wiki": "nowhere", "category": "x", "description": 1}, strict=False) == [
        ("category", "unknown-category"), ("description", "not-text"), ("wiki", "unknown-wiki")]


def test_api_refuses_unknown_fields_such_as_a_reporter():
    assert codes(valid(reporter="Mallory"), strict=True) == [("reporter", "unknown-field")]


def test_limits_are_inclusive():
    assert codes(valid(reported_users=[f"U{i}" for i in range(10)],
                       evidence=[f"https://en.wikipedia.org/?diff={i}" for i in range(50)],
                       description="x" * 5000)) == []


@pytest.mark.parametrize("category, severity", [
    *[(c, "emergency") for c in EMERGENCY_CATEGORIES], ("doxing", "high"), ("sexual-harassment", "high"),
    ("harassment", "normal"), ("other", "normal")])
def test_severity(category, severity):
    assert severity_of(category) == severity


def test_categories_are_the_designed_ones():
    assert len(CATEGORIES) == 13


def test_references_are_random_and_well_formed():
    refs = {new_reference() for _ in range(2000)}
    assert len(refs) == 2000
    assert all(looks_like_reference(ref) for ref in refs)
    # 16 base32 characters = 80 random bits
    assert all(len(re.sub("[^0-9A-Z]", "", ref[3:])) == 16 for ref in refs)


@pytest.mark.parametrize("raw, host", [
    ("en.wikipedia.org", "en.wikipedia.org"), ("EN.Wikipedia.org.", "en.wikipedia.org"),
    ("https://de.m.wikipedia.org/wiki/X", "de.wikipedia.org"), ("commons.wikimedia.org", "commons.wikimedia.org"),
    ("www.wikidata.org", "www.wikidata.org"), ("evil.example", None), ("wikipedia.org", None),
    ("en.wikipedia.org.evil.example", None), ("127.0.0.1", None)])
def test_builtin_wiki_rule(raw, host):
    assert normalize_wiki_builtin(raw) == host


@pytest.mark.parametrize("raw, stored", [
    ("User:bob_smith", "Bob smith"), ("user: bob", "Bob"), ("USER : Bob", "Bob"), ("_User:_bob", "Bob"),
    ("User:2001:db8::1", "2001:DB8:0:0:0:0:0:1"), ("2001:db8::1", "2001:DB8:0:0:0:0:0:1"),
    ("bob\u00a0smith\u200e", "Bob smith"), ("User talk:Bob", "User talk:Bob"), ("Username", "Username"),
])
def test_reported_users_are_stored_as_mediawiki_spells_them(raw, stored):
    submission, errors = validate_submission(valid(reported_users=[raw]), normalize_wiki_builtin)
    assert errors == [] and submission.reported_users == (stored,)
