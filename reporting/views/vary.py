"""``Vary`` added as text.

Werkzeug's ``response.vary`` parses the header into a set and writes it back on
every change: about 15 µs, paid by several hooks on every page. Adding a name
to the header's text costs a third of that.
"""
from __future__ import annotations

from werkzeug.wrappers import Response


def add_vary(response: Response, name: str) -> None:
    """Add ``name`` to the response's ``Vary`` unless it is there (names compare without case)."""
    vary = response.headers.get("Vary")
    if vary is None:
        response.headers.add("Vary", name)  # none to replace: no search through the headers
    elif not vary:
        response.headers["Vary"] = name
    elif name.lower() not in (part.strip().lower() for part in vary.split(",")):
        response.headers["Vary"] = f"{vary}, {name}"
