"""A small Flask app wired with the i18n machinery and the fixture messages in fixtures/good."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask, render_template_string

from reporting import i18n

FIXTURES = Path(__file__).parent / "fixtures"
GOOD_MESSAGES = FIXTURES / "good"
TEMPLATES = Path(__file__).resolve().parents[2] / "reporting" / "templates"


def make_app(secret_key: str | None = "test-secret") -> Flask:
    app = Flask(__name__, template_folder=str(TEMPLATES))
    app.config["SECRET_KEY"] = secret_key
    i18n.init_app(app, GOOD_MESSAGES)

    @app.get("/language")
    def language() -> str:
        return i18n.current_language()

    @app.get("/chooser")
    def chooser() -> str:
        return render_template_string('{% include "_language_chooser.html" %}')

    @app.get("/page")
    def page() -> str:
        return render_template_string(
            '<html lang="{{ current_language() }}" dir="{{ language_direction(current_language()) }}">'
            "{{ msg('reporting-test-greeting', 'Ada') }}</html>"
        )

    return app


@pytest.fixture
def app() -> Flask:
    return make_app()
