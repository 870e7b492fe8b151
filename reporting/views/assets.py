"""Static files under content-hashed URLs, cached by browsers for a year.

``static_url("style.css")`` gives ``/assets/<digest>/style.css``, where ``<digest>`` is the first 12
hex digits of the file's SHA-256: a new deployment that changes a file changes its URL, so the old
one can be cached forever (``Cache-Control: public, max-age=31536000, immutable``) and a repeat visit
asks for nothing but the page. The bodies are read and gzip-compressed once per file version and kept
in memory (the served files are a few kilobytes each); a request that accepts gzip gets the
compressed copy (static files hold no secret, so compressing them is always safe, see
:mod:`reporting.views.compression`).

A URL whose digest is not the file's current one (a page rendered before a deployment) still gets the
current file, cached only briefly. Flask's own ``/static/<name>`` stays for anything linked without a
digest, with the same short cache (``SEND_FILE_MAX_AGE_DEFAULT``).
"""
from __future__ import annotations

import gzip
import hashlib
import mimetypes
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Flask, Response, abort, request, url_for

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT_CACHE_SECONDS = 300
SHORT_CACHE = f"public, max-age={SHORT_CACHE_SECONDS}"
DIGEST_LENGTH = 12
RECHECK_SECONDS = 1.0
#: Bodies smaller than this are sent as they are: gzip would add more than it saves.
MIN_COMPRESS_BYTES = 512
_COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")


@dataclass(frozen=True)
class Asset:
    """One version of one static file, ready to serve."""

    digest: str
    mimetype: str
    body: bytes
    gzipped: bytes | None


class StaticAssets:
    """The files of one static folder, each read, hashed and compressed once per version.

    A file's version is its modification time and size, looked at again at most every
    :data:`RECHECK_SECONDS` (a page links ~5 files, and a ``stat`` with path checks for each was a
    tenth of a page's time), so files edited under ``make run`` get new URLs within a second; in
    production they change only with a deployment.
    """

    def __init__(self, root: Path) -> None:
        self._root = root.resolve()
        self._assets: dict[str, tuple[tuple[int, int], Asset]] = {}
        self._checked: dict[str, float] = {}
        self._urls: dict[str, tuple[str, str]] = {}
        self._lock = threading.Lock()

    def _path(self, name: str) -> Path | None:
        path = (self._root / name).resolve()
        if self._root not in path.parents or not path.is_file():
            return None
        return path

    def get(self, name: str) -> Asset | None:
        """The current version of ``name`` (a path under the static folder), or None."""
        known = self._assets.get(name)
        if known is not None and time.monotonic() - self._checked.get(name, 0.0) < RECHECK_SECONDS:
            return known[1]
        path = self._path(name)
        if path is None:
            return None
        stat = path.stat()
        version = (stat.st_mtime_ns, stat.st_size)
        self._checked[name] = time.monotonic()
        if known is not None and known[0] == version:
            return known[1]
        body = path.read_bytes()
        mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        compressible = mimetype.startswith(_COMPRESSIBLE) and len(body) >= MIN_COMPRESS_BYTES
        asset = Asset(hashlib.sha256(body).hexdigest()[:DIGEST_LENGTH], mimetype, body,
                      gzip.compress(body, compresslevel=9, mtime=0) if compressible else None)
        with self._lock:
            self._assets[name] = (version, asset)
        return asset

    def url(self, name: str) -> str:
        """The content-hashed URL of ``name``; Flask's plain static URL if there is no such file."""
        asset = self.get(name)
        if asset is None:
            return url_for("static", filename=name)
        cached = self._urls.get(name)
        if cached is None or cached[0] != asset.digest:
            cached = self._urls[name] = (asset.digest, url_for("assets.asset", digest=asset.digest, name=name))
        return cached[1]


def _accepts_gzip() -> bool:
    return request.accept_encodings["gzip"] > 0


def create_blueprint(assets: StaticAssets) -> Blueprint:
    bp = Blueprint("assets", __name__)

    @bp.route("/assets/<digest>/<path:name>")
    def asset(digest: str, name: str) -> Response:
        found = assets.get(name)
        if found is None:
            abort(404)
        use_gzip = found.gzipped is not None and _accepts_gzip()
        response = Response(found.gzipped if use_gzip else found.body, mimetype=found.mimetype)
        if use_gzip:
            response.headers["Content-Encoding"] = "gzip"
        if found.gzipped is not None:
            response.vary.add("Accept-Encoding")
        response.headers["Cache-Control"] = IMMUTABLE if digest == found.digest else SHORT_CACHE
        return response

    @bp.route("/favicon.ico")
    def favicon() -> Response:
        """Browsers ask for it on pages that link none (JSON, an old cached page): the SVG icon."""
        found = assets.get("favicon.svg")
        if found is None:
            abort(404)
        response = Response(found.body, mimetype=found.mimetype)
        response.headers["Cache-Control"] = SHORT_CACHE
        return response

    return bp


def init_app(app: Flask, static_folder: str | os.PathLike[str]) -> StaticAssets:
    """Serve ``/assets/...`` and give templates ``static_url(name)``."""
    assets = StaticAssets(Path(static_folder))
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = SHORT_CACHE_SECONDS
    app.register_blueprint(create_blueprint(assets))
    app.jinja_env.globals["static_url"] = assets.url
    return assets
