"""Parts of a page rendered once and then reused: the report form's category choices.

The form is the tool's most shown page, and most of its HTML is the same for
every reporter who reads it in one language: eighteen radios with their labels
and descriptions. Rendering them on every request was a third of the page's
time. A template wraps such a part in ``{% call fragment(key...) %}``; the key
names everything the part depends on (its language, which radio is checked),
so a cached part can never show another request's values. Only parts without
per-request data belong here: never a CSRF token, typed text or an error (the
template renders those states without the cache).
"""
from __future__ import annotations

from collections.abc import Callable, Hashable

from markupsafe import Markup

# Keys are made of closed sets (interface languages x categories): this is a guard, not a policy.
MAX_FRAGMENTS = 512


class FragmentCache:
    """One app's rendered fragments (one per blueprint instance: tests make many apps)."""

    def __init__(self, limit: int = MAX_FRAGMENTS) -> None:
        self._made: dict[tuple[Hashable, ...], Markup] = {}
        self._limit = limit

    def __call__(self, *key: Hashable, caller: Callable[[], str]) -> Markup:
        """The fragment for ``key``, rendered by ``caller`` (the ``{% call %}`` body) the first time."""
        made = self._made.get(key)
        if made is None:
            made = Markup(caller())  # the body's output, autoescaped by Jinja already
            if len(self._made) < self._limit:
                self._made[key] = made
        return made
