"""The message catalog: banana JSON files loaded once, looked up per key along MediaWiki fallback chains.

A directory holds ``en.json`` (the source), ``qqq.json`` (documentation) and ``<code>.json`` per
translation; each is a flat object with ``"@metadata"`` first. The catalog is immutable after loading
(the files are small and change only with a deployment), so it can be shared by all threads; the only
mutable state is a cache of parsed messages, filled lazily and safely under the GIL.

A message is HTML when its qqq.json documentation contains :data:`HTML_MARKER`; every other message
is plain text and is escaped in full.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from babel.numbers import format_decimal
from markupsafe import Markup, escape

from reporting.i18n import sanitizer
from reporting.i18n.formatter import Nodes, PluralRules, UserName, parse, plural_rules_from, render
from reporting.i18n.languages import QQX, babel_locale, fallback_chain, normalize_code, plural_categories

logger = logging.getLogger(__name__)

SOURCE_LANGUAGE = "en"
DOCUMENTATION_LANGUAGE = "qqq"
HTML_MARKER = "{{doc-html}}"
RENDERED_CACHE_SIZE = 20_000
"""How many rendered messages :meth:`Catalog.html` keeps (all languages; ~60 per page and language)."""
"""Put this in a key's qqq.json documentation to make the message HTML (matched case-insensitively)."""


def is_html_documentation(documentation: str) -> bool:
    """True when a qqq.json documentation text marks its message as HTML."""
    return HTML_MARKER in documentation.lower()


def read_message_file(path: Path) -> dict[str, str]:
    """The messages of one banana JSON file, without ``@metadata``.

    Raises ValueError (with the file name) when the file is not a JSON object of strings.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path.name}: cannot be read as JSON: {error}") from error
    if not isinstance(data, dict):
        raise ValueError(f"{path.name}: is not a JSON object")
    messages: dict[str, str] = {}
    for key, value in data.items():
        if key == "@metadata":
            continue
        if not isinstance(value, str):
            raise ValueError(f"{path.name}: the value of {key!r} is not a string")
        messages[key] = value
    return messages


@dataclass(frozen=True)
class ResolvedMessage:
    """One message found for a requested language: the text's own language may be a fallback."""

    key: str
    lang: str
    nodes: Nodes
    html: bool
    rules: PluralRules


def _plural_rules(lang: str) -> PluralRules:
    return plural_rules_from(plural_categories(lang), babel_locale(lang).plural_form)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


class Catalog:
    """All messages of one directory, in all languages, with per-key fallback and formatting."""

    def __init__(self, messages: Mapping[str, Mapping[str, str]], html_keys: frozenset[str] = frozenset()) -> None:
        """``messages`` maps language code -> key -> text (``qqq`` is ignored); ``html_keys`` are HTML messages."""
        self._messages = {lang: dict(texts) for lang, texts in messages.items() if lang != DOCUMENTATION_LANGUAGE}
        self._html_keys = html_keys
        self._resolved: dict[tuple[str, str], ResolvedMessage | None] = {}
        # Rendered HTML of messages whose parameters are none or small integers: a page shows ~60
        # messages, the same ones on every request, and rendering them was half of GET /report.
        self._rendered: dict[tuple[str, str, tuple[int, ...]], Markup] = {}
        self._missing_logged: set[str] = set()

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> Catalog:
        """Load every ``<code>.json`` of ``directory``.

        ``en.json`` must exist and parse (raises otherwise: the tool cannot run without its source
        messages). A broken translation file is logged and left out, so one bad translation cannot take
        the site down; the translation checks report it.
        """
        root = Path(directory)
        source_path = root / f"{SOURCE_LANGUAGE}.json"
        messages: dict[str, dict[str, str]] = {SOURCE_LANGUAGE: read_message_file(source_path)}
        documentation: dict[str, str] = {}
        for path in sorted(root.glob("*.json")):
            if path.stem == SOURCE_LANGUAGE:
                continue
            code = normalize_code(path.stem)
            if code != path.stem or code == QQX:
                logger.warning("Ignoring message file %s: its name is not a language code", path.name)
                continue
            try:
                texts = read_message_file(path)
            except ValueError as error:
                logger.error("Ignoring broken message file: %s", error)
                continue
            if code == DOCUMENTATION_LANGUAGE:
                documentation = texts
            else:
                messages[code] = texts
        html_keys = frozenset(key for key, doc in documentation.items() if is_html_documentation(doc))
        return cls(messages, html_keys)

    @property
    def languages(self) -> tuple[str, ...]:
        """Codes of the languages that have a file (never ``qqq``), sorted."""
        return tuple(sorted(self._messages))

    def has_language(self, lang: str) -> bool:
        return lang in self._messages

    def is_html(self, key: str) -> bool:
        return key in self._html_keys

    def resolve(self, lang: str, key: str) -> ResolvedMessage | None:
        """The message for ``key`` in the first language of ``lang``'s fallback chain that has it."""
        cache_key = (lang, key)
        if cache_key not in self._resolved:
            self._resolved[cache_key] = self._find(lang, key)
        return self._resolved[cache_key]

    def _find(self, lang: str, key: str) -> ResolvedMessage | None:
        for code in fallback_chain(lang):
            text = self._messages.get(code, {}).get(key)
            if text is not None:
                return ResolvedMessage(key, code, parse(text), key in self._html_keys, _plural_rules(code))
        return None

    def _missing(self, key: str) -> str:
        if key not in self._missing_logged:
            self._missing_logged.add(key)
            logger.warning("Message %r is missing, even in %s.json", key, SOURCE_LANGUAGE)
        return f"\u29fc{key}\u29fd"

    def html(self, lang: str, key: str, params: Sequence[object]) -> Markup:
        """The message as safe HTML: text escaped, or an HTML message sanitized; user names in ``<bdi>``.

        Memoized per language when the parameters are none or integers (bounded: never user text,
        and at most :data:`RENDERED_CACHE_SIZE` entries), since the catalog never changes.
        """
        numbers = tuple(value for value in params if type(value) is int)
        if len(numbers) == len(params):
            cache_key = (lang, key, numbers)
            cached = self._rendered.get(cache_key)
            if cached is None:
                cached = self._render_html(lang, key, params)
                if len(self._rendered) < RENDERED_CACHE_SIZE:
                    self._rendered[cache_key] = cached
            return cached
        return self._render_html(lang, key, params)

    def _render_html(self, lang: str, key: str, params: Sequence[object]) -> Markup:

        def param(value: object) -> str:
            if isinstance(value, UserName):
                return str(Markup("<bdi>{}</bdi>").format(value.name))
            if _is_number(value):
                return str(escape(format_decimal(value, locale=babel_locale(lang))))  # type: ignore[arg-type]
            return str(escape(value))

        if lang == QQX:
            return Markup(_qqx(key, params, param, literal=lambda text: str(escape(text))))
        message = self.resolve(lang, key)
        if message is None:
            return Markup(escape(self._missing(key)))
        if not message.html:
            return Markup(render(message.nodes, params, message.rules, lambda text: str(escape(text)), param))
        return sanitizer.sanitize(render(message.nodes, params, message.rules, str, param))

    def text(self, lang: str, key: str, params: Sequence[object]) -> str:
        """The message as plain text (for JSON and e-mail): nothing escaped, no ``<bdi>``, HTML reduced to text."""

        def param(value: object) -> str:
            if _is_number(value):
                return format_decimal(value, locale=babel_locale(lang))  # type: ignore[arg-type]
            return str(value)

        if lang == QQX:
            return _qqx(key, params, param, literal=str)
        message = self.resolve(lang, key)
        if message is None:
            return self._missing(key)
        if not message.html:
            return render(message.nodes, params, message.rules, str, param)
        escaped = render(message.nodes, params, message.rules, str, lambda value: str(escape(param(value))))
        return sanitizer.to_text(escaped)


def _qqx(key: str, params: Sequence[object], param: Callable[[object], str], literal: Callable[[str], str]) -> str:
    """MediaWiki's qqx rendering: ``(key)`` or ``(key: $1, $2)`` with the parameters filled in."""
    if not params:
        return literal(f"({key})")
    return literal(f"({key}: ") + literal(", ").join(param(value) for value in params) + literal(")")
