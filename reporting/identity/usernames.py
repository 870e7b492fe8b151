"""The one rule for spelling a user name, so that names compare and hash alike everywhere.

Every place that compares or hashes a user name (reported users, the Trust & Safety role list,
the bar list, the development login, user names read from evidence links and wikitext) calls
:func:`canonical_username`. Checked against MediaWiki 1.39's source:

- ``MediaWikiTitleCodec::splitTitleString`` drops the bidi marks U+200E, U+200F and
  U+202A..U+202E, turns every run of ``[ _ U+00A0 U+1680 U+180E U+2000-U+200A U+2028 U+2029
  U+202F U+205F U+3000]`` into one ``_`` (a space in the text form) and trims it at both ends.
- The first letter is upper-cased whatever the wiki's ``$wgCapitalLinks``:
  ``NamespaceInfo::$alwaysCapitalizedNamespaces`` is ``[NS_SPECIAL, NS_USER, NS_MEDIAWIKI]``,
  and ``UserNameUtils::getCanonical`` calls ``ucfirst`` itself too.
- In the User and User talk namespaces the title is passed through ``IPUtils::sanitizeIP``:
  IPv4 octets lose leading zeros (``192.0.02.7`` -> ``192.0.2.7``); IPv6 addresses are written
  out in full, upper-case, without leading zeros (``2001:db8::1`` -> ``2001:DB8:0:0:0:0:0:1``);
  a ``/prefix`` (a range) is kept. These are the names of logged-out editors as MediaWiki stores
  them; no account (hence no OAuth login) has such a name.

Deliberate differences:

- Upper case: ``Language::ucfirst`` upper-cases a non-ASCII first letter with PHP's
  ``mb_strtoupper``, a full case mapping, unless ``$wgOverrideUcfirstCharacters`` names the
  letter. With PHP 8.2 it gives exactly Python's ``str.upper()`` for every code point (compared
  one by one), e.g. ``é`` -> ``É``, ``ß`` -> ``SS``, Georgian ``ა`` -> ``Ა`` (Mtavruli), ``ǆ`` -> ``Ǆ``.
  Wikimedia's wikis, however, keep several hundred letters as they are through that override
  table (``ß``, Georgian Mkhedruli, ligatures such as ``ﬀ``: pywikibot carries the measured list
  as ``_first_upper_exception_dict``). This module does not copy that table: the tool only needs
  two spellings of one name to agree, and the same ``str.upper()`` on both sides does that; a
  user really named ``ßx`` on Wikimedia is spelt ``SSx`` here (only a name such as ``SSx``
  would be confused with it).
- Whitespace MediaWiki refuses in titles altogether (tab, newline and the other control
  characters Python calls whitespace) also counts as a space. MediaWiki would reject such a name;
  the tool's callers either refuse it elsewhere or, for names typed by staff, treat it as the
  space that was meant, as the old ``" ".join(name.split())`` rules did.
- No namespace prefix is parsed: a caller that accepts ``User:X`` strips the prefix itself
  (see ``reporting.intake.submission``), and no validity check (length, ``#<>[]|{}``) is made.
"""
from __future__ import annotations

import ipaddress
import re

_BIDI_MARKS = re.compile("[\u200e\u200f\u202a-\u202e]")
# MediaWiki's title whitespace plus everything Python's str.isspace() accepts (``\s``).
_SPACES = re.compile(r"[\s_\u180e]+")
# IPUtils::RE_IP_ADD and RE_IP_PREFIX; RE_IPV6_PREFIX. Only ASCII digits count.
_IPV4 = re.compile(r"([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})(?:/(3[0-2]|[12][0-9]|[0-9]))?\Z")
_IPV6 = re.compile(r"([0-9A-Fa-f:]*:[0-9A-Fa-f:]*)(?:/(12[0-8]|1[01][0-9]|[1-9][0-9]|[0-9]))?\Z")


def canonical_username(name: str) -> str:
    """``name`` spelt as MediaWiki stores a user name (see the module notes): bidi marks dropped,
    underscores and whitespace runs as one space, trimmed, IP addresses sanitised, otherwise the
    first letter upper-cased. ``""`` stays ``""``."""
    name = _SPACES.sub(" ", _BIDI_MARKS.sub("", name)).strip(" ")
    ip = _sanitized_ip(name)
    if ip is not None:
        return ip
    return name[:1].upper() + name[1:]


def _sanitized_ip(name: str) -> str | None:
    """IPUtils::sanitizeIP for an address or ``/prefix`` range MediaWiki recognises; else None."""
    match = _IPV4.match(name)
    if match:
        octets = [int(octet) for octet in match.group(1, 2, 3, 4)]
        if max(octets) > 255:
            return None
        prefix = match.group(5)
        return ".".join(map(str, octets)) + (f"/{prefix}" if prefix is not None else "")
    match = _IPV6.match(name)
    if match:
        try:
            address = ipaddress.IPv6Address(match.group(1))
        except ValueError:
            return None
        prefix = match.group(2)
        text = ":".join(group.lstrip("0") or "0" for group in address.exploded.split(":")).upper()
        return text + (f"/{prefix}" if prefix is not None else "")
    return None
