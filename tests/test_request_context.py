"""reporting.request_context: the objects behind Flask's proxies, with the proxies' own effects."""
from flask import Flask, g, request, session

from reporting.request_context import request_globals, this_request


def _app() -> Flask:
    app = Flask(__name__)
    app.secret_key = "test"
    return app


def test_the_objects_are_the_ones_the_proxies_stand_for():
    with _app().test_request_context("/report?uselang=ar"):
        context = this_request()
        assert context.request is request._get_current_object()  # type: ignore[attr-defined]
        assert context.session is session._get_current_object()  # type: ignore[attr-defined]
        assert context.request.args["uselang"] == "ar"
        assert request_globals() is g._get_current_object()
        request_globals().kept = 1
        assert g.kept == 1


def test_reading_the_session_marks_it_accessed_as_the_proxy_does():
    """Responses must still vary on the cookie when a step read the session without the proxy."""
    app = _app()

    @app.get("/")
    def page() -> str:
        return str(this_request().session.get("user"))

    response = app.test_client().get("/")
    assert "Cookie" in response.headers.get("Vary", "")


def test_each_request_gets_its_own():
    app = _app()
    seen = []

    @app.get("/")
    def page() -> str:
        seen.append((this_request(), request_globals()))
        return ""

    client = app.test_client()
    client.get("/")
    client.get("/")
    assert seen[0][0] is not seen[1][0] and seen[0][1] is not seen[1][1]
