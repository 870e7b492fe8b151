"""Numbers for Trust & Safety (``/queue/stats``), safe to show: small counts are never exact.

A count below :data:`MIN_CELL` could point at a person (the only report from
a small wiki in a week), so it is shown as "< 5". Hiding one cell is not
enough when the others and their sum are known: the sum of any table is the
number of cases, which another table may show in full. So when a table has
exactly one small cell, its next smallest cell is shown as "≥ 5" as well
(:func:`suppress`): the exact small count can no longer be worked out. No
table shows a total. The median time to the first status change is shown
only over at least :data:`MIN_CELL` cases.

Pure: :mod:`reporting.storage.case_stats` reads the figures.
"""
from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

MIN_CELL = 5


class Shown(StrEnum):
    EXACT = "exact"
    BELOW = "below"  # shown as "< 5"
    AT_LEAST = "at-least"  # shown as "≥ 5" (hidden so that a "< 5" next to it stays hidden)


@dataclass(frozen=True)
class Cell:
    """One row of a table; ``value`` is None unless the count may be shown exactly."""

    label: str
    shown: Shown
    value: int | None


def suppress(counts: Mapping[str, int], order: list[str] | None = None) -> list[Cell]:
    """The rows of one table (labels in ``order``, else by count, largest first), with small
    counts hidden and the complement rule above applied. Labels with no case are left out."""
    present = {label: count for label, count in counts.items() if count > 0}
    labels = [label for label in order if label in present] if order is not None else \
        sorted(present, key=lambda label: (-present[label], label))
    small = {label for label in labels if present[label] < MIN_CELL}
    hidden_large: set[str] = set()
    if len(small) == 1 and len(labels) > 1:
        larger = sorted((present[label], label) for label in labels if label not in small)
        hidden_large.add(larger[0][1])
    cells = []
    for label in labels:
        if label in small:
            cells.append(Cell(label, Shown.BELOW, None))
        elif label in hidden_large:
            cells.append(Cell(label, Shown.AT_LEAST, None))
        else:
            cells.append(Cell(label, Shown.EXACT, present[label]))
    return cells


def median_seconds(durations: list[float]) -> float | None:
    """The median, or None over fewer than :data:`MIN_CELL` cases."""
    if len(durations) < MIN_CELL:
        return None
    return float(statistics.median(durations))
