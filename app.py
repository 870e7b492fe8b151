"""WSGI entry point: what Toolforge's build service (gunicorn) and `flask --app app` run."""
from reporting import create_app

app = create_app()
