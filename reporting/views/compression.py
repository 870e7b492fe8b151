"""Brotli or gzip for the tool's pages and JSON, with BREACH mitigated rather than avoided.

The report form is ~19 KB of HTML: ~4 KB brotli (quality 5), ~4.5 KB gzip. A response is compressed
when the client accepts ``br`` (preferred) or ``gzip``, the body is text (HTML, CSS, JS, JSON, SVG)
of at least :data:`reporting.views.assets.MIN_COMPRESS_BYTES`, and nothing has encoded it already;
such responses say ``Vary: Accept-Encoding``. Static files are compressed in
:mod:`reporting.views.assets` (they hold no secret).

BREACH: a compressed response's size tells whether text an attacker put into it (a query parameter
the page repeats: the form's prefill from the gadget link, the language chooser) matches other text
on the same page, so an attacker who can make the victim's browser send many requests (from another
site) and can see the sizes on the network can guess a secret on the page a character at a time.
What a page of this tool holds that such an attacker would want, and why it does not leak:

- The CSRF token, the one secret that would let the attacker act as the user. Pages carry it masked
  afresh in every response (:func:`reporting.views.security.csrf_token`, as Django does): no two
  responses share its bytes, so there is nothing for the guesses to converge on.
- Every compressed body gets 1–:data:`MAX_PADDING` random bytes that the decoder skips (gzip: a
  random file name in the header; brotli: a metadata block at the end), Django's "Heal The Breach"
  (Paulsen et al., 2023): the one or two bytes a right guess saves drown in the padding's spread, and
  averaging it out takes many times more requests per character.

Residual risk: the other things a page shows the user (their own user name, their reports' contents
and references on "My reports" and in the workspace) are not masked; padding only slows an attacker
down, it does not make such a guess impossible. The preconditions stay hard: a page that reflects
the attacker's text next to that content (the form reflects only its prefill; report pages reflect
nothing), many cross-site requests the user's browser makes with its ``SameSite=Lax`` session cookie
(top-level navigations only, each of which the user would see), and sight of the encrypted traffic's
sizes. So pages are compressed whatever ``Sec-Fetch-Site`` says, including the first page opened from
the wiki's gadget link.
"""
from __future__ import annotations

import functools
import gzip
import re
import secrets

import brotli
from flask import Flask, Response
from jinja2.ext import Extension
from werkzeug.http import parse_accept_header

from reporting.request_context import this_request
from reporting.views.assets import MIN_COMPRESS_BYTES
from reporting.views.headers import add_vary, first_value

#: gzip level: fast enough for every page (~0.1 ms for 15 KB) and within a few percent of level 9's size.
LEVEL = 6
#: Brotli quality: ~0.7 ms for the form and 10 % smaller than gzip; 9 and above take 10 ms and more.
BROTLI_QUALITY = 5
#: Most random bytes added to a compressed body (Django adds up to 100 too).
MAX_PADDING = 100
_COMPRESSIBLE = ("text/html", "text/css", "text/javascript", "application/javascript", "application/json",
                 "application/problem+json", "image/svg+xml")


def _padding_length() -> int:
    return 1 + secrets.randbelow(MAX_PADDING)


def gzip_padded(body: bytes) -> bytes:
    """``body`` gzipped, with a random file name (FNAME) of 1 to MAX_PADDING hex digits in its header."""
    compressed = gzip.compress(body, compresslevel=LEVEL, mtime=0)
    header = bytearray(compressed[:10])  # magic, method, flags, mtime, xfl, os (RFC 1952)
    header[3] |= gzip.FNAME
    length = _padding_length()
    name = secrets.token_hex(length)[:length].encode("ascii")
    return bytes(header) + name + b"\0" + compressed[10:]


def _brotli_metadata(length: int) -> bytes:
    """A brotli metadata meta-block skipping ``length`` (1-256) random bytes, starting at a byte
    boundary (RFC 7932 9.2): ISLAST 0, MNIBBLES 0 (code 3), reserved 0, MSKIPBYTES 1, MSKIPLEN-1 in
    8 bits, zero bits up to the next byte, then the bytes the decoder skips."""
    skip = length - 1
    return bytes([0b0001_0110 | (skip & 0b11) << 6, skip >> 2]) + secrets.token_bytes(length)


def brotli_padded(body: bytes) -> bytes:
    """``body`` in brotli, with a metadata block of 1 to MAX_PADDING random bytes before its end."""
    compressor = brotli.Compressor(quality=BROTLI_QUALITY, mode=brotli.MODE_TEXT)
    # flush() ends the data at a byte boundary, where a metadata block may start; finish() then
    # adds only the (empty) last meta-block.
    data = compressor.process(body) + compressor.flush()
    return data + _brotli_metadata(_padding_length()) + compressor.finish()


class Unindent(Extension):
    """Templates lose their source's indentation before they are compiled: it makes them readable
    and is nothing but bytes in a page (HTML collapses it; a line break stays, so words and inline
    elements keep their spaces). Whitespace-sensitive content (``<pre>``, ``<textarea>``) comes
    from variables, which this does not touch; a template must not indent the literal text of one."""

    _INDENT = re.compile(r"^[ \t]+", re.MULTILINE)

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        return self._INDENT.sub("", source)


def _should_compress(response: Response, method: str) -> bool:
    if response.direct_passthrough or response.is_streamed:
        return False
    if first_value(response.headers, "Content-Encoding") is not None:
        return False
    if response.status_code < 200 or response.status_code in (204, 304) or method == "HEAD":
        return False
    return response.mimetype in _COMPRESSIBLE


@functools.lru_cache(maxsize=256)
def accepted_encoding(header: str | None) -> str | None:
    """``br``, ``gzip`` or None for an Accept-Encoding header as a browser sent it: browsers send a
    handful of distinct ones, and parsing one was a tenth of what this hook cost."""
    accepted = parse_accept_header(header)
    br, gz = accepted["br"], accepted["gzip"]
    return "br" if br > 0 and br >= gz else "gzip" if gz > 0 else None


def init_app(app: Flask) -> None:
    app.jinja_env.add_extension(Unindent)

    @app.after_request
    def _compress(response: Response) -> Response:
        asked = this_request().request
        if not _should_compress(response, asked.method):
            return response
        add_vary(response, "Accept-Encoding")
        encoding = accepted_encoding(asked.environ.get("HTTP_ACCEPT_ENCODING"))
        if encoding is None:
            return response
        body = response.get_data()
        if len(body) < MIN_COMPRESS_BYTES:
            return response
        response.set_data(brotli_padded(body) if encoding == "br" else gzip_padded(body))
        response.headers["Content-Encoding"] = encoding
        return response
