"""MediaWiki message syntax, parsed once and rendered many times: ``$n``, ``{{PLURAL}}``, ``{{GENDER}}``.

Pure code: no Flask, no files. :func:`parse` turns a message text into nodes; :func:`render` fills in
parameters. Rendering never raises on a translator's mistake: anything this module does not understand
(``{{SITENAME}}``, an unclosed ``{{PLURAL:``, ``$0``) is shown literally, as MediaWiki would show it.

How literal text and parameters are written out is the caller's choice (escaped HTML, raw text, ...),
through the ``literal`` and ``param`` callbacks of :func:`render`; so this module knows nothing about
escaping, and the same parsed message serves HTML pages and plain-text e-mails.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from reporting.i18n.languages import PLURAL_CATEGORY_ORDER


@dataclass(frozen=True)
class UserName:
    """A user name as a message parameter: shown isolated in ``<bdi>``, and it carries a gender for GENDER.

    ``gender`` is the user's gender preference where known ("male", "female"), else None (neutral).
    """

    name: str
    gender: str | None = None

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Param:
    """``$n`` in a message; ``index`` is n - 1."""

    index: int


@dataclass(frozen=True)
class Plural:
    """``{{PLURAL:arg|form|...}}``: ``explicit`` holds the ``n=form`` forms, ``forms`` the positional ones."""

    arg: Nodes
    forms: tuple[Nodes, ...]
    explicit: tuple[tuple[int, Nodes], ...]


@dataclass(frozen=True)
class Gender:
    """``{{GENDER:arg|male|female|unknown}}``."""

    arg: Nodes
    forms: tuple[Nodes, ...]


Node = str | Param | Plural | Gender
Nodes = tuple[Node, ...]

_MAGIC = re.compile(r"\{\{\s*(PLURAL|GENDER)\s*:", re.IGNORECASE)
_PARAM = re.compile(r"\$([1-9][0-9]*)")
_EXPLICIT_FORM = re.compile(r"^([0-9]+)=")
_SPECIAL = re.compile(r"\$[1-9]|\{\{|\}\}|\|")


class _Unclosed(Exception):
    """A ``{{`` without its ``}}``: the caller shows the ``{{`` literally."""


def parse(text: str) -> Nodes:
    """Parse a message text into nodes. Never raises; malformed markup becomes literal text."""
    nodes, _, _ = _Parser(text).nodes(0, "top")
    return nodes


class _Parser:
    """Recursive descent over one text; ``{{`` results are memoised by position, so that unclosed,
    nested ``{{PLURAL:`` runs are parsed in polynomial rather than exponential time."""

    MAX_DEPTH = 20
    """Deeper ``{{`` are literal text: no message needs them, and recursion must stay bounded."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.braces: dict[int, tuple[tuple[Node, ...], int]] = {}
        self.depth = 0

    def nodes(self, pos: int, mode: str) -> tuple[Nodes, int, str | None]:
        """Parse from ``pos`` until the terminator of ``mode``.

        Modes: "top" (whole text; ``|`` and ``}}`` are literal), "arg" (inside a PLURAL/GENDER: stops at
        ``|`` or ``}}``), "group" (inside an unknown ``{{...}}``: stops at ``}}``). Returns (nodes,
        position after the terminator, the terminator or None at the end of the text). Raises _Unclosed
        when a non-top mode reaches the end of the text.
        """
        text = self.text
        items: list[Node] = []
        while pos < len(text):
            match = _SPECIAL.search(text, pos)
            if match is None:
                items.append(text[pos:])
                pos = len(text)
                break
            items.append(text[pos : match.start()])
            pos = match.start()
            token = match.group()
            if token.startswith("$"):
                param = _PARAM.match(text, pos)
                assert param is not None
                items.append(Param(int(param.group(1)) - 1))
                pos = param.end()
            elif token == "{{":
                parsed, pos = self.braces_at(pos)
                items.extend(parsed)
            elif token == "}}" and mode != "top":
                return _merge_text(items), pos + 2, "}}"
            elif token == "|" and mode == "arg":
                return _merge_text(items), pos + 1, "|"
            else:
                items.append(token)
                pos += len(token)
        if mode != "top":
            raise _Unclosed
        return _merge_text(items), pos, None

    def braces_at(self, pos: int) -> tuple[tuple[Node, ...], int]:
        """The nodes for the ``{{`` at ``pos`` and the position after them."""
        if pos not in self.braces:
            if self.depth >= self.MAX_DEPTH:
                return ("{{",), pos + 2
            self.depth += 1
            try:
                self.braces[pos] = self._parse_braces(pos)
            finally:
                self.depth -= 1
        return self.braces[pos]

    def _parse_braces(self, pos: int) -> tuple[tuple[Node, ...], int]:
        magic = _MAGIC.match(self.text, pos)
        try:
            if magic is not None:
                arg, after, terminator = self.nodes(magic.end(), "arg")
                forms: list[Nodes] = []
                while terminator == "|":
                    form, after, terminator = self.nodes(after, "arg")
                    forms.append(_strip(form))
                return (_make_magic(magic.group(1).upper(), _strip(arg), forms),), after
            inner, after, _ = self.nodes(pos + 2, "group")
            return ("{{", *inner, "}}"), after
        except _Unclosed:
            return ("{{",), pos + 2


def _merge_text(items: list[Node]) -> Nodes:
    """Join adjacent text pieces and drop empty ones."""
    merged: list[Node] = []
    for item in items:
        if isinstance(item, str):
            if not item:
                continue
            if merged and isinstance(merged[-1], str):
                merged[-1] = merged[-1] + item
                continue
        merged.append(item)
    return tuple(merged)


def _make_magic(kind: str, arg: Nodes, forms: list[Nodes]) -> Node:
    if kind == "GENDER":
        return Gender(arg, tuple(forms))
    positional: list[Nodes] = []
    explicit: list[tuple[int, Nodes]] = []
    for form in forms:
        head = form[0] if form else ""
        if not isinstance(head, str) or (match := _EXPLICIT_FORM.match(head)) is None:
            positional.append(form)
            continue
        rest = head[match.end() :]
        explicit.append((int(match.group(1)), _strip(((rest,) if rest else ()) + form[1:])))
    return Plural(arg, tuple(positional), tuple(explicit))


def _strip(nodes: Nodes) -> Nodes:
    """Trim whitespace at both ends, as MediaWiki trims parser-function arguments."""
    items = list(nodes)
    if items and isinstance(items[0], str):
        items[0] = items[0].lstrip()
    if items and isinstance(items[-1], str):
        items[-1] = items[-1].rstrip()
    return tuple(item for item in items if item != "")


def params_used(nodes: Nodes) -> set[int]:
    """The 1-based numbers of every ``$n`` in the message, including inside PLURAL/GENDER."""
    found: set[int] = set()
    for node in nodes:
        if isinstance(node, Param):
            found.add(node.index + 1)
        elif isinstance(node, (Plural, Gender)):
            found |= params_used(node.arg)
            for form in node.forms:
                found |= params_used(form)
            if isinstance(node, Plural):
                for _, form in node.explicit:
                    found |= params_used(form)
    return found


def plurals(nodes: Nodes) -> list[Plural]:
    """Every PLURAL in the message, nested ones included (for translation checks)."""
    found: list[Plural] = []
    for node in nodes:
        if isinstance(node, (Plural, Gender)):
            if isinstance(node, Plural):
                found.append(node)
            for form in node.forms:
                found.extend(plurals(form))
            if isinstance(node, Plural):
                for _, form in node.explicit:
                    found.extend(plurals(form))
    return found


Number = int | float | Decimal


@dataclass(frozen=True)
class PluralRules:
    """A language's plural rules: its categories in MediaWiki's form order and a number -> category function."""

    categories: tuple[str, ...]
    category_of: Callable[[Number], str]


def render(
    nodes: Nodes,
    params: Sequence[object],
    rules: PluralRules,
    literal: Callable[[str], str],
    param: Callable[[object], str],
) -> str:
    """Fill in ``params`` (``$1`` is ``params[0]``).

    ``literal`` writes out message text, ``param`` writes out one parameter value. A ``$n`` without a
    parameter stays ``$n``. PLURAL chooses by the numeric value of its argument (a non-number counts as
    "other"); GENDER by a :class:`UserName`'s gender or a literal "male"/"female" argument.
    """
    out: list[str] = []
    for node in nodes:
        if isinstance(node, str):
            out.append(literal(node))
        elif isinstance(node, Param):
            if node.index < len(params):
                out.append(param(params[node.index]))
            else:
                out.append(literal(f"${node.index + 1}"))
        elif isinstance(node, Plural):
            out.append(render(_choose_plural(node, params, rules), params, rules, literal, param))
        else:
            out.append(render(_choose_gender(node, params), params, rules, literal, param))
    return "".join(out)


def _arg_value(arg: Nodes, params: Sequence[object]) -> object:
    """The value of a PLURAL/GENDER argument: the parameter itself when the argument is just ``$n``."""
    if len(arg) == 1 and isinstance(arg[0], Param) and arg[0].index < len(params):
        return params[arg[0].index]
    parts: list[str] = []
    for node in arg:
        if isinstance(node, str):
            parts.append(node)
        elif isinstance(node, Param) and node.index < len(params):
            parts.append(str(params[node.index]))
    return "".join(parts).strip()


def _as_number(value: object) -> Number | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, Decimal)):
        return value
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _choose_plural(node: Plural, params: Sequence[object], rules: PluralRules) -> Nodes:
    number = _as_number(_arg_value(node.arg, params))
    if number is not None and number == int(number):
        for value, form in node.explicit:
            if value == int(number):
                return form
    if not node.forms:
        return ()
    category = "other" if number is None else rules.category_of(number)
    index = rules.categories.index(category) if category in rules.categories else len(rules.categories) - 1
    return node.forms[min(index, len(node.forms) - 1)]


def _choose_gender(node: Gender, params: Sequence[object]) -> Nodes:
    if not node.forms:
        return ()
    value = _arg_value(node.arg, params)
    gender = value.gender if isinstance(value, UserName) else str(value).strip().lower()
    if gender == "male":
        return node.forms[0]
    if gender == "female":
        return node.forms[min(1, len(node.forms) - 1)]
    # MediaWiki: the third form for unknown, else the first (a two-form message reads "male|female").
    return node.forms[2] if len(node.forms) > 2 else node.forms[0]


def plural_rules_from(categories: Sequence[str], category_of: Callable[[Number], str]) -> PluralRules:
    """PluralRules with categories put in MediaWiki's order (zero, one, two, few, many, other)."""
    ordered = tuple(category for category in PLURAL_CATEGORY_ORDER if category in set(categories) | {"other"})
    return PluralRules(ordered, category_of)
