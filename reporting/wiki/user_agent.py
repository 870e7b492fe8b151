"""The User-Agent of every request the tool makes to a wiki.

Wikimedia's User-Agent policy blocks generic library agents; it asks for
``<tool>/<version> (<url>; <contact>) <library>/<version>`` so that operators
can reach whoever runs a misbehaving client. One function, used by the OAuth
login, the role lookup and the evidence client alike.
"""
from __future__ import annotations

from collections.abc import Mapping

from reporting.version import __version__
from reporting.wiki.client import build_user_agent

TOOL_NAME = "IncidentReporting"


def policy_user_agent(config: Mapping) -> str:
    """The policy User-Agent for this version of the tool, from settings
    ``tool_url`` and ``contact``."""
    return build_user_agent(TOOL_NAME, __version__, config["tool_url"], config["contact"])
