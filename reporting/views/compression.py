"""gzip for the tool's pages and JSON, where it is safe.

A page of the form is ~15 KB of HTML and ~3.5 KB gzipped. Compression is applied when the client
accepts gzip, the body is text (HTML, CSS, JS, JSON, SVG) of at least
:data:`reporting.views.assets.MIN_COMPRESS_BYTES`, and nothing has encoded it already; responses
that vary with it say ``Vary: Accept-Encoding``.

BREACH: a compressed response's size leaks whether text an attacker put into it (a query parameter the
page repeats: the form's prefill, the language chooser's hidden fields) matches a secret on the same
page (the CSRF token, the user name, a report's content). The attack needs the victim's browser to send
many requests the attacker chooses, i.e. requests started by another site; browsers mark those with
``Sec-Fetch-Site: cross-site`` or ``same-site`` (other tools on toolforge.org), a header pages cannot
forge. So dynamic responses to such requests are sent uncompressed (``Vary: Sec-Fetch-Site``), and
everything the tool's own pages ask for (same-origin), or a person types (``none``), is compressed.
The cost: the first page opened from the wiki's gadget link arrives uncompressed. Static files hold no
secret and are always compressed (:mod:`reporting.views.assets`).
"""
from __future__ import annotations

import gzip

from flask import Flask, Response, request

from reporting.views.assets import MIN_COMPRESS_BYTES

#: Fast enough for every page (~0.1 ms for 15 KB) and within a few percent of level 9's size.
LEVEL = 6
_COMPRESSIBLE = ("text/html", "text/css", "text/javascript", "application/javascript", "application/json",
                 "application/problem+json", "image/svg+xml")
_STARTED_ELSEWHERE = frozenset({"cross-site", "same-site"})


def _should_compress(response: Response) -> bool:
    if response.direct_passthrough or response.is_streamed or "Content-Encoding" in response.headers:
        return False
    if response.status_code < 200 or response.status_code in (204, 304) or request.method == "HEAD":
        return False
    return response.mimetype in _COMPRESSIBLE


def init_app(app: Flask) -> None:
    @app.after_request
    def _compress(response: Response) -> Response:
        if not _should_compress(response):
            return response
        response.vary.add("Accept-Encoding")
        response.vary.add("Sec-Fetch-Site")
        if request.headers.get("Sec-Fetch-Site", "").lower() in _STARTED_ELSEWHERE:
            return response  # BREACH: see the module's docstring
        if request.accept_encodings["gzip"] <= 0:
            return response
        body = response.get_data()
        if len(body) < MIN_COMPRESS_BYTES:
            return response
        response.set_data(gzip.compress(body, compresslevel=LEVEL, mtime=0))
        response.headers["Content-Encoding"] = "gzip"
        return response
