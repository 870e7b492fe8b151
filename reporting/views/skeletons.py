"""Whole pages rendered once and then filled in: the report form as most people open it.

The form is the tool's most shown page, and rendering its template was most of
the time of a view (~2.5 of ~4.6 ms): two hundred lines of Codex markup and
forty messages, the same for everyone who reads it in one language. What
differs between two showings of an unfilled or prefilled form is a handful of
values: the CSRF token, the one-time submission id, the user's name and what
the fields hold.

A skeleton is the page rendered once with a unique marker standing for each
of those values, then cut at the markers; a view joins the pieces with the
request's values, each escaped as Jinja's autoescaping escapes it. Everything
else the page depends on is named by the caller's key (language, which links
the header shows, the checked radio) or compared by identity (``version``:
the wiki registry behind the Wiki field's suggestions), so a skeleton never
shows another request's values.

A skeleton is only kept after it has proved itself: filled with the values of
the request that made it, with values full of characters that need escaping,
and with empty values, it must give exactly what rendering the template with
those values gives. A template that uses a value in a way a marker cannot
stand for (a test on it, a filter, a length) fails the proof, and its page is
then rendered afresh every time, as before: slower, never wrong.
"""
from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass

from markupsafe import escape

log = logging.getLogger(__name__)

#: Keys are made of closed sets (languages x header variants x checked radio x checkbox): a guard.
MAX_SKELETONS = 256

#: Values that would show a wrong fill: every character autoescaping changes, and bidi text.
_PROBE = "<b a=\"1\">&amp; 'x' \u202e\u05d0"

Render = Callable[[Mapping[str, str]], str]


@dataclass(frozen=True)
class Skeleton:
    """A page cut at its values: ``pieces[0] + value(slots[0]) + pieces[1] + ...``, in UTF-8.

    The pieces are kept encoded, so a page costs a join of bytes and the encoding of its few
    values: a page with any non-ASCII letter (the language chooser's names) is a string of wide
    characters, and encoding all of it for every response cost more than filling it."""

    pieces: tuple[bytes, ...]
    slots: tuple[str, ...]

    @classmethod
    def cut(cls, page: str, markers: Mapping[str, str]) -> Skeleton:
        by_marker = {marker: name for name, marker in markers.items()}
        parts = re.split("(" + "|".join(map(re.escape, by_marker)) + ")", page)
        return cls(pieces=tuple(part.encode() for part in parts[0::2]),
                   slots=tuple(by_marker[marker] for marker in parts[1::2]))

    def fill(self, values: Mapping[str, str]) -> bytes:
        out = [self.pieces[0]]
        for slot, piece in zip(self.slots, self.pieces[1:], strict=True):
            value = values[slot]
            if value:  # most fields of an unfilled form are empty, and escaping "" costs a call all the same
                out.append(escape(value).encode())
            out.append(piece)
        return b"".join(out)


@dataclass(frozen=True)
class _Kept:
    skeleton: Skeleton | None  # None: the page failed the proof, always render it
    version: object


class PageSkeletons:
    """One app's skeletons (one per blueprint instance: tests make many apps)."""

    def __init__(self, limit: int = MAX_SKELETONS) -> None:
        self._kept: dict[tuple[Hashable, ...], _Kept] = {}
        self._limit = limit

    def page(self, key: tuple[Hashable, ...], version: object, render: Render, values: Mapping[str, str]) -> bytes:
        """The page for ``values``, in UTF-8: ``render(values)`` renders it from its template (the
        values as they are, as Jinja sees them); ``key`` names everything else it depends on."""
        kept = self._kept.get(key)
        if kept is not None and kept.version is version:
            return kept.skeleton.fill(values) if kept.skeleton is not None else render(values).encode()
        page = render(values).encode()
        if len(self._kept) < self._limit or key in self._kept:
            self._kept[key] = _Kept(self._proved(key, render, values, page), version)
        return page

    @staticmethod
    def _proved(key: tuple[Hashable, ...], render: Render, values: Mapping[str, str], page: bytes) -> Skeleton | None:
        nonce = secrets.token_hex(8)
        markers = {name: f"\ue000{nonce}:{name}\ue001" for name in values}
        skeleton = Skeleton.cut(render(markers), markers)
        probes = ({name: f"{_PROBE} {name}" for name in values}, dict.fromkeys(values, ""))
        for trial in (values, *probes):
            expected = page if trial is values else render(trial).encode()
            if skeleton.fill(trial) != expected:
                log.warning("page %s cannot be filled from a skeleton; it is rendered on every view", key[0])
                return None
        return skeleton
