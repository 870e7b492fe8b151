"""BREACH mitigations that let every page be compressed: CSRF tokens masked per response, random padding."""
from __future__ import annotations

import gzip
import re

import brotli
import pytest

from reporting.views.compression import BROTLI_QUALITY, MAX_PADDING, brotli_padded, gzip_padded
from reporting.views.security import SECRET_KEY
from tests.conftest import csrf_from, login

CROSS_SITE = {"Accept-Encoding": "gzip, deflate, br", "Sec-Fetch-Site": "cross-site"}
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
PER_RESPONSE = re.compile(r'name="(?:csrf_token|submission_id)" value="[^"]+"')  # fresh in each page


def sends(client, token: str) -> int:
    """The status of a state-changing request carrying ``token`` (403 only if CSRF refused it)."""
    response = client.post("/api/v1/reports", json={}, headers={"X-CSRF-Token": token})
    if response.status_code == 403:
        assert response.get_json()["errors"][0]["code"] == "csrf"
    return response.status_code


def test_every_response_masks_the_token_afresh_and_every_mask_is_accepted(alice) -> None:
    client, from_api = alice
    pages = [client.get("/report").get_data(as_text=True) for _ in range(3)]
    for html in pages:
        assert len(set(TOKEN.findall(html))) == 1  # the page's forms share one masked copy
    tokens = [csrf_from(html) for html in pages] + [client.get("/api/v1/me").get_json()["csrf_token"], from_api]
    assert len(set(tokens)) == len(tokens)
    with client.session_transaction() as session:
        secret = session[SECRET_KEY]
    assert all(secret not in html for html in pages)  # the secret itself is on no page
    for token in tokens:
        assert sends(client, token) == 422
    # The form field works as the header does.
    response = client.post("/report", data={"csrf_token": tokens[0], "action": "language", "uselang": "de"})
    assert response.status_code == 200


def flip(token: str, at: int) -> str:
    return token[:at] + ("A" if token[at] != "A" else "B") + token[at + 1:]


def test_tampered_foreign_and_stale_tokens_are_refused(app) -> None:
    alice, mallory = app.test_client(), app.test_client()
    token = login(alice, "Alice")
    foreign = login(mallory, "Mallory")
    for bad in (flip(token, 3), flip(token, len(token) // 2 + 3), token[:-2], token + "AA", foreign,
                token[: len(token) // 2], "", "é" * 86):
        assert sends(alice, bad) == 403, bad
    # A new session secret (logging in again) makes every earlier masking worthless.
    login(alice, "Alice")
    assert sends(alice, token) == 403
    assert sends(alice, alice.get("/api/v1/me").get_json()["csrf_token"]) == 422


def test_the_bare_secret_of_a_form_from_before_masking_still_counts(alice) -> None:
    client, _ = alice
    with client.session_transaction() as session:
        secret = session[SECRET_KEY]
    assert sends(client, secret) == 422
    assert sends(client, secret[:-1] + ("A" if secret[-2] != "A" else "B") + secret[-1]) == 403


@pytest.mark.parametrize("site", ["cross-site", "same-site", "same-origin", "none"])
def test_pages_are_compressed_whoever_started_the_request(app, site) -> None:
    client = app.test_client()
    login(client, "Alice")
    plain = client.get("/report", headers={"Sec-Fetch-Site": site}).get_data(as_text=True)
    decoders = (("gzip", "gzip", gzip.decompress), ("gzip, deflate, br", "br", brotli.decompress))
    for accepted, encoding, decode in decoders:
        response = client.get("/report", headers={"Accept-Encoding": accepted, "Sec-Fetch-Site": site})
        assert response.headers["Content-Encoding"] == encoding
        assert "Sec-Fetch-Site" not in response.headers["Vary"] and "Accept-Encoding" in response.headers["Vary"]
        html = decode(response.get_data()).decode()
        assert PER_RESPONSE.sub("", html) == PER_RESPONSE.sub("", plain)


def test_compressed_pages_carry_random_padding(app) -> None:
    client = app.test_client()
    login(client, "Alice")
    names = set()
    for _ in range(20):
        body = client.get("/report", headers={**CROSS_SITE, "Accept-Encoding": "gzip"}).get_data()
        assert body[3] & gzip.FNAME
        names.add(body[10:body.index(b"\0", 10)])
    assert len({len(name) for name in names}) > 1 and all(1 <= len(name) <= MAX_PADDING for name in names)
    sizes = {len(client.get("/report", headers=CROSS_SITE).get_data()) for _ in range(20)}
    assert len(sizes) > 1


def test_padding_is_bounded_and_decodes_to_the_same_body() -> None:
    body = ("<p>Report an incident</p>\n" * 200).encode()
    bare_gzip = len(gzip.compress(body, compresslevel=6, mtime=0))
    # The same stream without the metadata block (brotli_padded: process, flush, padding, finish).
    compressor = brotli.Compressor(quality=BROTLI_QUALITY, mode=brotli.MODE_TEXT)
    bare_brotli = len(compressor.process(body) + compressor.flush() + compressor.finish())
    gzip_sizes, brotli_sizes = set(), set()
    for _ in range(300):
        padded = gzip_padded(body)
        assert gzip.decompress(padded) == body
        gzip_sizes.add(len(padded) - bare_gzip - 1)  # the name and its NUL
        padded = brotli_padded(body)
        assert brotli.decompress(padded) == body
        brotli_sizes.add(len(padded) - bare_brotli - 2)  # the metadata block's header
    assert min(gzip_sizes) >= 1 and max(gzip_sizes) <= MAX_PADDING and len(gzip_sizes) > 30
    assert min(brotli_sizes) >= 1 and max(brotli_sizes) <= MAX_PADDING and len(brotli_sizes) > 30
