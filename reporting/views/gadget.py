"""``/gadget``: what the on-wiki gadget does, and how to install it on a wiki or for oneself.

Public (no login): interface administrators and volunteers read it before installing anything.
The code shown is built from the tool's own ``tool_url``, exactly what ``gadget build`` writes.
The page is built once, on its first request, so a problem with the gadget's build shows on this
page only and never keeps the report form from starting.
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, render_template

from reporting.gadget.build import Gadget, build_gadget, global_js_line

PUBLISH_COMMAND = ("flask --app app reporting gadget publish --api https://WIKI/w/api.php "
                   "--user 'Name@botname' --password-file FILE")


def create_blueprint(config: Mapping[str, Any]) -> Blueprint:
    bp = Blueprint("gadget", __name__)

    @functools.cache
    def built() -> Gadget:
        return build_gadget(config["tool_url"])

    @bp.route("/gadget")
    def gadget_page() -> str:
        return render_template("gadget.html", gadget=built(), global_js=global_js_line(),
                               publish_command=PUBLISH_COMMAND)

    return bp
