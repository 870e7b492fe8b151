"""How PHP and MediaWiki's WebRequest read a URL's query string and numbers.

Evidence links must mean what MediaWiki makes of them, and MediaWiki reads parameters through
PHP: ``parse_str`` for the query string (``+`` is a space, the last value wins, ``a[]=`` makes an
array that ``getVal`` ignores), ``intval``/``is_numeric``/``ctype_digit`` for ids, and
``rawurldecode`` for the path.  These functions reproduce exactly those rules (checked against
PHP 8.2), so ``diff=12abc`` is revision 12 and ``oldid=12abc`` is no oldid at all, as on a wiki.
"""

from __future__ import annotations

import math
import re
import unicodedata
from urllib.parse import unquote_to_bytes

__all__ = [
    "MAX_ID",
    "Params",
    "ctype_digit",
    "parse_query",
    "php_intval",
    "php_is_numeric",
    "raw_url_decode",
    "url_decode",
]

PHP_INT_MAX = 2**63 - 1
# MediaWiki's id columns (revisions, pages, log entries, users) are unsigned 32-bit integers;
# anything larger names nothing.
MAX_ID = 2**32 - 1
_PHP_WHITESPACE = " \t\n\r\v\f"
_NUMERIC_PREFIX = re.compile(r"[+-]?(?:(\d+)(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_INTEGER_ONLY = re.compile(r"[+-]?\d+\Z")


def _clean(raw: bytes) -> str:
    """Decode percent-decoded bytes the way WebRequest does: invalid UTF-8 replaced, NFC."""
    return unicodedata.normalize("NFC", raw.decode("utf-8", "replace"))


def raw_url_decode(text: str) -> str:
    """PHP ``rawurldecode`` (``+`` stays a plus), as PathRouter applies it to the URL path."""
    return _clean(unquote_to_bytes(text))


def url_decode(text: str) -> str:
    """PHP ``urldecode`` (``+`` is a space), as ``parse_str`` applies it to the query string."""
    return _clean(unquote_to_bytes(text.replace("+", " ")))


def _saturate(value: int) -> int:
    return max(-PHP_INT_MAX - 1, min(PHP_INT_MAX, value))


def php_intval(value: str | None) -> int:
    """PHP ``intval()`` of a string: leading whitespace, then the longest numeric prefix."""
    if value is None:
        return 0
    text = value.lstrip(_PHP_WHITESPACE)
    match = _NUMERIC_PREFIX.match(text)
    if not match:
        return 0
    number = match.group(0)
    if _INTEGER_ONLY.match(number):
        return _saturate(int(number))
    try:
        as_float = float(number)
    except (ValueError, OverflowError):
        return 0
    if math.isnan(as_float):
        return 0
    if as_float in (float("inf"), float("-inf")) or abs(as_float) >= 2.0**63:
        return PHP_INT_MAX if as_float > 0 else -PHP_INT_MAX - 1
    return int(as_float)


def php_is_numeric(value: str | None) -> bool:
    """PHP 8 ``is_numeric()`` of a string: optional surrounding whitespace around a number."""
    if value is None:
        return False
    text = value.lstrip(_PHP_WHITESPACE).rstrip(_PHP_WHITESPACE)
    match = _NUMERIC_PREFIX.fullmatch(text)
    return match is not None


def ctype_digit(value: str | None) -> bool:
    """PHP ``ctype_digit()`` of a string: non-empty and ASCII digits only."""
    return value is not None and value.isascii() and value.isdigit()


class Params:
    """The parameters of one request, read like ``WebRequest``: scalars, or arrays that
    ``getVal``/``getRawVal`` treat as absent."""

    def __init__(self, values: dict[str, str | list[str]] | None = None) -> None:
        self._values: dict[str, str | list[str]] = dict(values or {})

    def get_val(self, name: str) -> str | None:
        """``WebRequest::getVal``/``getRawVal``: the string, or None if absent or an array."""
        value = self._values.get(name)
        return value if isinstance(value, str) else None

    def get_check(self, name: str) -> bool:
        """``WebRequest::getCheck``: present as a scalar."""
        return self.get_val(name) is not None

    def get_int(self, name: str) -> int:
        """``WebRequest::getInt``: ``intval`` of the value, 0 when absent."""
        return php_intval(self.get_val(name) or "0")

    def get_int_or_null(self, name: str) -> int | None:
        """``WebRequest::getIntOrNull``: only numeric strings count."""
        value = self.get_val(name)
        return php_intval(value) if php_is_numeric(value) else None

    def set(self, name: str, value: str) -> None:
        self._values[name] = value

    def without(self, *names: str) -> Params:
        return Params({k: v for k, v in self._values.items() if k not in names})

    def __contains__(self, name: object) -> bool:
        return name in self._values

    def __bool__(self) -> bool:
        return bool(self._values)


def _php_key(raw: str) -> tuple[str, bool] | None:
    """PHP's variable name mangling: leading spaces dropped, `` `` and ``.`` become ``_``,
    ``name[...]`` makes an array.  Returns (name, is_array) or None for an empty name."""
    key = raw.lstrip(" ")
    bracket = key.find("[")
    is_array = bracket > 0 and "]" in key[bracket:]
    base = key[:bracket] if is_array else key
    if not base:
        return None
    base = base.replace(" ", "_").replace(".", "_")
    if not is_array:
        base = base.replace("[", "_")
    return base, is_array


def parse_query(query: str) -> Params:
    """PHP ``parse_str`` of a query string (``&``-separated, last scalar wins)."""
    values: dict[str, str | list[str]] = {}
    for pair in query.split("&"):
        if not pair:
            continue
        raw_key, _, raw_value = pair.partition("=")
        mangled = _php_key(url_decode(raw_key))
        if mangled is None:
            continue
        name, is_array = mangled
        value = url_decode(raw_value)
        if is_array:
            existing = values.get(name)
            values[name] = (existing if isinstance(existing, list) else []) + [value]
        else:
            values[name] = value
    return Params(values)
