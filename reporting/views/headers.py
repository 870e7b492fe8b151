"""Response headers read and added the cheap way, for hooks that run on every response.

Werkzeug's ``Headers.get`` and ``in`` raise and catch an HTTP exception
(``BadRequestKeyError``) for every header that is absent, about a microsecond
each, and every page asked for some. ``getlist`` scans without raising.
``response.vary`` parses the header into a set and writes it back on every
change (about 15 µs, paid by several hooks on every page); adding a name to
the header's text costs a third of that.
"""
from __future__ import annotations

from werkzeug.datastructures import Headers
from werkzeug.wrappers import Response


def first_value(headers: Headers, name: str) -> str | None:
    """The first value of header ``name`` (names compare without case), or None: ``headers.get``
    without the exception."""
    values = headers.getlist(name)
    return values[0] if values else None


def add_vary(response: Response, name: str) -> None:
    """Add ``name`` to the response's ``Vary`` unless it is there (names compare without case)."""
    vary = first_value(response.headers, "Vary")
    if vary is None:
        response.headers.add("Vary", name)  # none to replace: no search through the headers
    elif not vary:
        response.headers["Vary"] = name
    elif name.lower() not in (part.strip().lower() for part in vary.split(",")):
        response.headers["Vary"] = f"{vary}, {name}"
