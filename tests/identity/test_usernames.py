"""One spelling of a user name: MediaWiki's (reporting/identity/usernames.py explains the rule)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reporting.identity.usernames import _sanitized_ip, canonical_username
from reporting.intake.eligibility import _pre_canonical_bar_name


@pytest.mark.parametrize(("raw", "canonical"), [
    # underscores are spaces; runs collapse; both ends are trimmed
    ("foo_bar", "Foo bar"),
    ("Foo__bar", "Foo bar"),
    ("Foo _ bar", "Foo bar"),
    ("  foo   bar  ", "Foo bar"),
    ("_foo_", "Foo"),
    # MediaWiki's other title whitespace, and its bidi marks, which it drops
    ("foo\u00a0bar", "Foo bar"),
    ("foo\u2009\u3000bar", "Foo bar"),
    ("foo\u180ebar", "Foo bar"),
    ("\u200efoo\u200f", "Foo"),
    ("foo \u202a bar", "Foo bar"),
    # control whitespace MediaWiki refuses in titles counts as a space (as str.split() did)
    ("foo\tbar\n", "Foo bar"),
    # the first letter only is upper-cased
    ("alice", "Alice"),
    ("Alice", "Alice"),
    ("aLICE", "ALICE"),
    ("1st user", "1st user"),
    ("", ""),
    (" _ ", ""),
    # non-ASCII first letters: PHP 8's mb_strtoupper, the same as str.upper() (Wikimedia's
    # $wgOverrideUcfirstCharacters would keep ß, Georgian and the ligature: see the module notes)
    ("élodie", "Élodie"),
    ("ärger", "Ärger"),
    ("ωmega", "Ωmega"),
    ("жук", "Жук"),
    ("ıda", "Ida"),
    ("e\u0301lan", "E\u0301lan"),
    ("ßtest", "SStest"),
    ("ǆemal", "Ǆemal"),
    ("ავტორი", "Ავტორი"),
    ("ﬀoo", "FFoo"),
    ("例", "例"),
    # IPUtils::sanitizeIP: IPv4 without leading zeros, IPv6 in full and upper case, ranges kept
    ("192.0.2.7", "192.0.2.7"),
    ("192.000.002.007", "192.0.2.7"),
    ("192.0.2.0/24", "192.0.2.0/24"),
    ("2001:db8::1", "2001:DB8:0:0:0:0:0:1"),
    ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:DB8:0:0:0:0:0:1"),
    (" 2001:db8::1_", "2001:DB8:0:0:0:0:0:1"),
    ("2001:DB8::/32", "2001:DB8:0:0:0:0:0:0/32"),
    ("::1", "0:0:0:0:0:0:0:1"),
    # not addresses MediaWiki recognises: ordinary names
    ("256.1.1.1", "256.1.1.1"),
    ("1.2.3.4/33", "1.2.3.4/33"),
    ("fe80::1%eth0", "Fe80::1%eth0"),
    ("abc", "Abc"),
    # no namespace parsing here (the report form strips "User:" itself)
    ("user:bob", "User:bob"),
    # the old normalisers' examples: roles, the report form, evidence links
    ("jane_(WMF)", "Jane (WMF)"),
    ("  Jane   (WMF) ", "Jane (WMF)"),
    ("bob_the_builder", "Bob the builder"),
    ("Foo/Bar", "Foo/Bar"),
    ("Foo&Bar", "Foo&Bar"),
    ("Пример", "Пример"),
])
def test_canonical_username(raw: str, canonical: str) -> None:
    assert canonical_username(raw) == canonical


# Names with the characters where the rules differ turn up often in generated examples.
names = st.text(st.sampled_from(list(" _\t\u00a0\u180e\u200e\u202e\u3000aBßıǆა:.0123456789abcdef/é"))
                | st.characters(), max_size=20)
PROPERTIES = settings(max_examples=1000, deadline=None, database=None)


def _differs_for_a_reason(raw: str) -> bool:
    """Where the bar list's old rule may differ: bidi marks and U+180E (MediaWiki drops and
    collapses them, the old rule kept them), IP addresses (MediaWiki sanitises them)."""
    old = _pre_canonical_bar_name(raw)
    return any(ch in old for ch in "\u180e\u200e\u200f\u202a\u202b\u202c\u202d\u202e") \
        or _sanitized_ip(old) is not None


@PROPERTIES
@given(names)
def test_the_rule_is_idempotent(raw: str) -> None:
    once = canonical_username(raw)
    assert canonical_username(once) == once


@PROPERTIES
@given(names)
def test_the_old_bar_list_rule_agrees_except_for_names_no_account_can_have(raw: str) -> None:
    old = _pre_canonical_bar_name(raw)
    if not _differs_for_a_reason(raw):
        assert canonical_username(raw) == old
        assert canonical_username(old) == old  # what the old rule stored is still found


@PROPERTIES
@given(names)
def test_a_canonical_account_name_hashes_alike_under_both_rules(raw: str) -> None:
    # OAuth names are MediaWiki-canonical: fixed points of the rule, never IP addresses.
    name = canonical_username(raw)
    if _sanitized_ip(name) is None:
        assert _pre_canonical_bar_name(name) == name
