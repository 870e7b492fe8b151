"""The baseline: a bare Flask app served by the same gunicorn settings."""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "hello"
