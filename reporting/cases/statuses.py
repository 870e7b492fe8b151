"""A case's status: the one definition the database, the views and the desks share.

The reporter sees these words (localized as ``reporting-status-<value>``);
the database stores the value.
"""
from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """Where a report is on its way to a human."""

    RECEIVED = "received"  # stored; no desk has it yet
    FORWARDED = "forwarded"  # a desk or queue has it
