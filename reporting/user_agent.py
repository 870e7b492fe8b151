"""The User-Agent of every request the tool makes to a wiki.

Wikimedia's User-Agent policy blocks generic library agents; it asks for
``<tool>/<version> (<url or contact>) <library>/<version>`` so that operators
can reach whoever runs a misbehaving client.
"""
from __future__ import annotations

import requests

TOOL_NAME = "IncidentReporting"


def policy_user_agent(contact: str) -> str:
    """The policy User-Agent for this version of the tool and ``contact``
    (a URL or an email address, setting ``contact``)."""
    from . import __version__  # the package defines it after importing its modules

    return f"{TOOL_NAME}/{__version__} ({contact}) python-requests/{requests.__version__}"
