"""``/privacy``: the privacy statement the Toolforge terms ask of tools that handle personal data.

It states what this code does (see README, "Retention" and "Database and migrations"), with the
retention period this deployment is configured with; open to everyone, logged in or not.
"""
from __future__ import annotations

from flask import Blueprint, render_template


def create_blueprint(retention_days: int) -> Blueprint:
    bp = Blueprint("privacy", __name__)

    @bp.route("/privacy")
    def privacy() -> str:
        return render_template("privacy.html", retention_days=retention_days)

    return bp
