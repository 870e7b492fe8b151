"""Checks for message files (for translators) and for source files (no text outside message files).

``check_messages_dir(path)`` returns one line per problem, ``"<file>: <key>: <what is wrong>"``, empty
when all is well; tests run it on ``i18n/``. ``python -m devtools.i18n_checks [--fix] DIR`` prints the
problems, and with ``--fix`` first rewrites every file into its canonical form (``@metadata`` first,
keys sorted, one tab of indentation, a final newline), which is what translatewiki.net-style tooling
and reviewers expect to diff.

``find_template_text`` and ``find_js_prose`` find user-visible text written directly into Jinja
templates and gadget JavaScript, where it could never be translated.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections.abc import Collection, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jinja2

from reporting.i18n import sanitizer
from reporting.i18n.formatter import Gender, Nodes, Plural, params_used, parse, plurals
from reporting.i18n.languages import QQX, normalize_code, plural_categories
from reporting.i18n.messages import DOCUMENTATION_LANGUAGE, SOURCE_LANGUAGE, is_html_documentation

KEY_PREFIX = "reporting-"
NOT_TRANSLATED_MARKER = "{{notranslate}}"
"""In a key's qqq.json documentation: the message is never shown in another language (the desk's
English), so a translation of it is a mistake (translatewiki.net's template of the same name)."""
_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>")
_BRACES = re.compile(r"\{\{|\}\}")


def canonical_json(data: dict[str, Any]) -> str:
    """The canonical text of a message file: ``@metadata`` first, other keys sorted, tab-indented, final newline."""
    ordered: dict[str, Any] = {}
    if "@metadata" in data:
        ordered["@metadata"] = data["@metadata"]
    for key in sorted(key for key in data if key != "@metadata"):
        ordered[key] = data[key]
    return json.dumps(ordered, ensure_ascii=False, indent="\t") + "\n"


class _DuplicateKey(ValueError):
    pass


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(f"duplicate key {key!r}")
        result[key] = value
    return result


def _load(path: Path) -> tuple[dict[str, Any] | None, str, list[str]]:
    """(data or None, raw text, problems about the file as a whole)."""
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text, object_pairs_hook=_object_without_duplicates)
    except (OSError, UnicodeDecodeError, ValueError) as error:
        return None, "", [f"{name}: cannot be parsed as JSON: {error}"]
    if not isinstance(data, dict):
        return None, text, [f"{name}: is not a JSON object"]
    problems: list[str] = []
    metadata = data.get("@metadata")
    if not isinstance(metadata, dict):
        problems.append(f"{name}: has no @metadata object")
    else:
        authors = metadata.get("authors")
        if not isinstance(authors, list) or not authors or not all(isinstance(a, str) and a.strip() for a in authors):
            problems.append(f"{name}: @metadata.authors must be a non-empty list of names")
    for key, value in data.items():
        if key != "@metadata" and not isinstance(value, str):
            problems.append(f"{name}: {key}: the value is not a string")
    problems.extend(_format_problems(name, data, text))
    return data, text, problems


def _format_problems(name: str, data: dict[str, Any], text: str) -> list[str]:
    canonical = canonical_json(data)
    if text == canonical:
        return []
    hint = "(python -m devtools.i18n_checks --fix fixes it)"
    if list(data) != list(json.loads(canonical)):
        return [f"{name}: keys are not in order: @metadata first, then keys sorted {hint}"]
    if text.rstrip("\n") == canonical.rstrip("\n"):
        return [f"{name}: must end with exactly one newline {hint}"]
    return [f"{name}: is not formatted with one tab of indentation per level {hint}"]


def _messages(data: dict[str, Any]) -> dict[str, str]:
    return {key: value for key, value in data.items() if key != "@metadata" and isinstance(value, str)}


def _walk_literals(nodes: Nodes) -> Iterator[str]:
    for node in nodes:
        if isinstance(node, str):
            yield node
        elif isinstance(node, (Plural, Gender)):
            yield from _walk_literals(node.arg)
            for form in node.forms:
                yield from _walk_literals(form)
            if isinstance(node, Plural):
                for _, form in node.explicit:
                    yield from _walk_literals(form)


def _message_problems(name: str, lang: str, key: str, text: str, source: str | None, html: bool) -> list[str]:
    problems: list[str] = []
    where = f"{name}: {key}"
    nodes = parse(text)
    if any(_BRACES.search(literal) for literal in _walk_literals(nodes)):
        problems.append(f"{where}: has {{{{ or }}}} that is not a complete PLURAL or GENDER (it would show literally)")
    if source is not None:
        unknown = sorted(params_used(nodes) - params_used(parse(source)))
        if unknown:
            listed = ", ".join(f"${number}" for number in unknown)
            problems.append(f"{where}: uses parameter {listed}, which the English message does not have")
    categories = plural_categories(lang)
    for plural in plurals(nodes):
        if len(plural.forms) > len(categories):
            problems.append(
                f"{where}: PLURAL has {len(plural.forms)} forms but {lang} has only {len(categories)} "
                f"plural categories ({', '.join(categories)})"
            )
    if html:
        problems.extend(f"{where}: HTML: {problem}" for problem in sanitizer.problems(text))
    elif _TAG.search(text):
        problems.append(f"{where}: contains an HTML tag but qqq.json does not mark the message as HTML")
    return problems


def check_messages_dir(path: str | Path) -> list[str]:
    """Every problem of the message files in ``path``; empty when they are fine.

    Checks: each file parses, is canonical (see :func:`canonical_json`) and has ``@metadata.authors``;
    ``en.json`` and ``qqq.json`` exist, keys start with "reporting-", every English key is documented
    and only those; translations have only English keys, none marked {{notranslate}} in qqq.json, only
    English parameters, no more PLURAL forms
    than their language has categories; HTML messages (marked in qqq.json) use only the allow-list of
    :mod:`reporting.i18n.sanitizer`, and other messages contain no tags.
    """
    root = Path(path)
    problems: list[str] = []
    files: dict[str, dict[str, str]] = {}
    for file in sorted(root.glob("*.json")):
        code = normalize_code(file.stem)
        if code != file.stem or code == QQX:
            problems.append(f"{file.name}: the file name is not a language code")
            continue
        data, _, file_problems = _load(file)
        problems.extend(file_problems)
        if data is not None:
            files[code] = _messages(data)
    for required in (SOURCE_LANGUAGE, DOCUMENTATION_LANGUAGE):
        if not (root / f"{required}.json").exists():
            problems.append(f"{required}.json: is missing")
    source = files.get(SOURCE_LANGUAGE, {})
    documentation = files.get(DOCUMENTATION_LANGUAGE, {})
    html_keys = {key for key, doc in documentation.items() if is_html_documentation(doc)}
    untranslated_keys = {key for key, doc in documentation.items() if NOT_TRANSLATED_MARKER in doc.lower()}
    for key in source:
        if not key.startswith(KEY_PREFIX):
            problems.append(f"en.json: {key}: keys must start with {KEY_PREFIX!r}")
    if DOCUMENTATION_LANGUAGE in files:
        for key in source:
            if not documentation.get(key, "").strip():
                problems.append(f"qqq.json: {key}: is not documented")
        for key in documentation:
            if key not in source:
                problems.append(f"qqq.json: {key}: documents a key that en.json does not have")
    for lang, messages in files.items():
        if lang == DOCUMENTATION_LANGUAGE:
            continue
        name = f"{lang}.json"
        for key, text in messages.items():
            if lang != SOURCE_LANGUAGE and key not in source:
                problems.append(f"{name}: {key}: is not in en.json")
                continue
            if lang != SOURCE_LANGUAGE and key in untranslated_keys:
                problems.append(
                    f"{name}: {key}: is always shown in English (qqq.json says {NOT_TRANSLATED_MARKER}); remove it"
                )
                continue
            english = source.get(key) if lang != SOURCE_LANGUAGE else None
            problems.extend(_message_problems(name, lang, key, text, english, key in html_keys))
    return problems


def fix_messages_dir(path: str | Path) -> list[Path]:
    """Rewrite every parseable message file in ``path`` into canonical form; returns the files changed."""
    changed: list[Path] = []
    for file in sorted(Path(path).glob("*.json")):
        try:
            text = file.read_text(encoding="utf-8")
            data = json.loads(text)
        except (OSError, UnicodeDecodeError, ValueError):
            continue
        if isinstance(data, dict) and canonical_json(data) != text:
            file.write_text(canonical_json(data), encoding="utf-8")
            changed.append(file)
    return changed


# --- Text outside message files -------------------------------------------------------------------

VISIBLE_ATTRIBUTES = frozenset(
    {"title", "placeholder", "alt", "aria-label", "aria-description", "aria-roledescription", "label"}
)
_BUTTON_INPUT_TYPES = frozenset({"submit", "button", "reset"})
_EXPRESSION = "\x1a"  # stands for a {{ ... }} expression: not a letter, so never "text"


def _has_letters(text: str) -> bool:
    return any(unicodedata.category(char).startswith("L") for char in text)


def _normalize_space(text: str) -> str:
    return " ".join(text.replace(_EXPRESSION, " ").split())


def _template_skeleton(source: str) -> str:
    """The template with ``{{ ... }}`` replaced by a marker and ``{% %}``/``{# #}`` removed, lines kept."""
    out: list[str] = []
    for _, token, value in jinja2.Environment().lex(source):
        if token == "data":
            out.append(value)
            continue
        if token == "variable_begin":
            out.append(_EXPRESSION)
        out.append("\n" * value.count("\n"))
    return "".join(out)


class _VisibleTextFinder(HTMLParser):
    def __init__(self, allow: Collection[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.allow = allow
        self.found: list[tuple[int, str]] = []
        self.raw_element: str | None = None

    def _report(self, text: str, shown: str) -> None:
        if _has_letters(text.replace(_EXPRESSION, "")) and _normalize_space(text) not in self.allow:
            self.found.append((self.getpos()[0], shown))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        for name, value in attrs:
            visible = name in VISIBLE_ATTRIBUTES or (
                name == "value" and tag == "input" and (attributes.get("type") or "").lower() in _BUTTON_INPUT_TYPES
            )
            if visible and value:
                self._report(value, f'<{tag} {name}="{_normalize_space(value)}">')
        if tag in ("script", "style"):
            self.raw_element = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == self.raw_element:
            self.raw_element = None

    def handle_data(self, data: str) -> None:
        if self.raw_element is None:
            self._report(data, _normalize_space(data))


def find_template_text(source: str, allow: Collection[str] = ()) -> list[tuple[int, str]]:
    """(line, text) of user-visible text in a Jinja HTML template that no ``{{ ... }}`` produces.

    Looks at text nodes (outside ``<script>``/``<style>``) and the visible attributes (title,
    placeholder, alt, aria-label, ..., and the value of button inputs). Text without any letter
    (punctuation, "·", numbers) is fine; ``allow`` lists exact texts (whitespace collapsed) to accept.
    """
    finder = _VisibleTextFinder(allow)
    finder.feed(_template_skeleton(source))
    finder.close()
    return finder.found


_REGEX_PRECEDERS = set("(,=:[!&|?{};+-*%<>~^")
_REGEX_KEYWORDS = {"return", "typeof", "case", "do", "else", "in", "of", "new", "delete", "void", "throw", "yield"}


def js_string_literals(source: str) -> list[tuple[int, str]]:
    """(line, value) of every string and template literal in JavaScript (``${...}`` parts left out).

    A tokenizer just good enough for this check: it skips comments and regular-expression literals.
    """
    found: list[tuple[int, str]] = []
    i, line, length = 0, 1, len(source)
    last = ""  # the last significant token, to tell a regex from a division
    while i < length:
        char = source[i]
        if char == "\n":
            line += 1
            i += 1
        elif char.isspace():
            i += 1
        elif source.startswith("//", i):
            end = source.find("\n", i)
            i = length if end < 0 else end
        elif source.startswith("/*", i):
            end = source.find("*/", i + 2)
            end = length if end < 0 else end + 2
            line += source.count("\n", i, end)
            i = end
        elif char in "'\"`":
            (value, newlines), i = _read_string(source, i)
            found.append((line, value))
            line += newlines
            last = "string"
        elif char == "/" and (last == "" or last in _REGEX_PRECEDERS or last in _REGEX_KEYWORDS):
            i = _skip_regex(source, i)
            last = "regex"
        elif char.isalnum() or char in "_$":
            start = i
            while i < length and (source[i].isalnum() or source[i] in "_$"):
                i += 1
            last = source[start:i]
        else:
            last = char
            i += 1
    return found


def _read_string(source: str, start: int) -> tuple[tuple[str, int], int]:
    """((value, newlines inside), index after the closing quote) of the literal at ``start``."""
    quote = source[start]
    i = start + 1
    parts: list[str] = []
    depth = 0
    while i < len(source):
        char = source[i]
        if depth:
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
            i += 1
            continue
        if char == "\\":
            parts.append(source[i + 1 : i + 2])
            i += 2
            continue
        if char == quote:
            i += 1
            break
        if char == "\n" and quote != "`":
            break
        if quote == "`" and source.startswith("${", i):
            parts.append(" ")
            depth = 1
            i += 2
            continue
        parts.append(char)
        i += 1
    return ("".join(parts), source.count("\n", start, i)), i


def _skip_regex(source: str, start: int) -> int:
    i, in_class = start + 1, False
    while i < len(source) and source[i] != "\n":
        char = source[i]
        if char == "\\":
            i += 2
            continue
        if char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        elif char == "/" and not in_class:
            i += 1
            while i < len(source) and source[i].isalpha():
                i += 1
            return i
        i += 1
    return i


_WORD = re.compile(r"^[\"'(«“]?[^\W\d_]+(?:['’][^\W\d_]+)?[.,:;!?…)\"'»”]*$")
_NO_SPACE_SCRIPTS = ("CJK", "HIRAGANA", "KATAKANA", "HANGUL", "THAI", "LAO", "KHMER", "MYANMAR")


def looks_like_prose(text: str) -> bool:
    """Heuristic: does a string literal read as words for people rather than code?

    Prose: three or more words, mostly words; or two words with a capital or a final punctuation mark
    ("Report this", "Are you sure?"); or letters of a script written without spaces (Chinese,
    Japanese, Thai, ...). Not prose: identifiers, CSS classes, selectors, "click keydown", single words.
    """
    stripped = re.sub(r"<[^>]*>", " ", text)
    stripped = re.sub(r"\b(?:https?://|mailto:)\S+", " ", stripped)
    if any(unicodedata.name(char, "").startswith(_NO_SPACE_SCRIPTS) for char in stripped if _has_letters(char)):
        return True
    tokens = stripped.split()
    words = [token for token in tokens if _WORD.match(token)]
    if len(words) >= 3 and len(words) >= 0.6 * len(tokens):
        return True
    if len(words) == 2 and len(tokens) == 2:
        return words[0][0].isupper() or stripped.rstrip()[-1] in ".!?…:"
    return False


def find_js_prose(source: str, allow: Collection[str] = ()) -> list[tuple[int, str]]:
    """(line, value) of string literals in JavaScript that look like prose (see :func:`looks_like_prose`)."""
    return [
        (line, value) for line, value in js_string_literals(source) if value not in allow and looks_like_prose(value)
    ]


def main(argv: list[str]) -> int:
    """``[--fix] DIR``: print the problems of DIR's message files; exit status 1 when there are any."""
    fix = "--fix" in argv
    paths = [arg for arg in argv if arg != "--fix"]
    if len(paths) != 1:
        print("usage: python -m devtools.i18n_checks [--fix] DIR", file=sys.stderr)
        return 2
    if fix:
        for changed in fix_messages_dir(paths[0]):
            print(f"rewrote {changed}")
    problems = check_messages_dir(paths[0])
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
