"""The current request's Flask objects, each looked up once, for code that runs on every request.

Flask's ``request``, ``session``, ``g`` and ``current_app`` are werkzeug ``LocalProxy`` objects.
Every attribute read through one first fails an ordinary lookup (an ``AttributeError`` raised
and caught inside werkzeug) and then binds a method: 3-4 µs on the machine ``make bench`` ran on
when this was written, where reading the attribute of the object itself costs a tenth of that. The hooks, the login
and language checks and the report form read some thirty of them per page, a tenth of the page's
time. ``_get_current_object()`` is the proxies' documented way to the object behind them (Flask's
"Notes On Proxies"); these functions call it once and give the object its type.

Everything else keeps using the proxies: this is for the per-request path only.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, cast

from flask import g
from flask.globals import request_ctx

if TYPE_CHECKING:
    from flask.ctx import RequestContext, _AppCtxGlobals


def this_request() -> RequestContext:
    """The request context: its ``request``, ``app`` and ``session`` (reading ``session`` marks the
    session accessed, as the ``session`` proxy does, so responses still vary on the cookie)."""
    return cast("RequestContext", request_ctx._get_current_object())  # type: ignore[attr-defined]


def request_globals() -> _AppCtxGlobals:
    """``g`` itself: what one request keeps for itself."""
    return cast("_AppCtxGlobals", g._get_current_object())
