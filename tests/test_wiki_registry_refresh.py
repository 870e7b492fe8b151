"""`refresh-wikis`: the sitematrix is fetched from the configured API (a local
stand-in for meta), stored in the database, and used for evidence afterwards."""
import json
import threading
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest

from .conftest import make_app

SITEMATRIX = json.loads((Path(__file__).parent / "evidence" / "data" / "sitematrix.json").read_text())


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def meta():
    requests_seen = []

    def app(environ, start_response):
        requests_seen.append(environ.get("QUERY_STRING", "") + environ["wsgi.input"].read(
            int(environ.get("CONTENT_LENGTH") or 0)).decode())
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(SITEMATRIX).encode()]

    server = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/w/api.php", requests_seen
    server.shutdown()
    server.server_close()


def test_refresh_stores_the_sitematrix_and_evidence_uses_it(tmp_path, meta):
    api_url, seen = meta
    app = make_app(tmp_path, **{"wikis.sitematrix_api_url": api_url})
    services = app.extensions["reporting"]
    result = app.test_cli_runner().invoke(args=["reporting", "refresh-wikis"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("stored ")
    assert any("action=sitematrix" in request for request in seen)
    assert services.stores.wiki_registry.load()
    assert services.stores.wiki_registry.age_seconds() < 60
    assert not services.evidence.registry.is_builtin
    # A second replica (of the same deployment: the same encryption key) reads it from the database.
    other = make_app(tmp_path, encryption_key=services.config["encryption_key"],
                     **{"wikis.sitematrix_api_url": api_url})
    assert not other.extensions["reporting"].evidence.registry.is_builtin


def test_a_failed_refresh_keeps_the_builtin_rule(tmp_path):
    app = make_app(tmp_path, **{"wikis.sitematrix_api_url": "http://127.0.0.1:1/w/api.php",
                                "wikis.timeout_seconds": 1})
    services = app.extensions["reporting"]
    services.registry_refresh.refresh_if_stale()
    assert services.stores.wiki_registry.load() is None
    assert services.evidence.normalize_wiki("de.wikipedia.org") == "de.wikipedia.org"
