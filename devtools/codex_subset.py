"""Only the Codex CSS the tool's pages use: ``python -m devtools.codex_subset``.

Codex's CSS-only bundle (``static/codex/codex.style-bidi.css``, 208 KB) styles every component; the
pages use about ten. This keeps the rules whose ``.cdx-*`` classes all appear in the templates, the
static scripts or the Python code that builds class names (``reporting/``), and writes
``static/codex/codex-subset.css``; then it keeps only the design tokens (``--*`` custom properties of
``static/codex/theme-wikimedia-ui.css``) that the subset, ``static/style.css`` or the templates use,
directly or through other tokens, and writes ``static/codex/theme-subset.css``.

A class written with a dynamic end in a template (``cdx-message--{{ type }}``) is found as the prefix
``cdx-message--`` and keeps every class that starts with it. Rules without a Codex class (``@keyframes``,
element rules) are kept. Run it again after a template uses a Codex class it did not use before;
``tests/test_codex_subset.py`` fails until then.
"""
from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODEX_DIR = ROOT / "static" / "codex"
FULL_CSS = CODEX_DIR / "codex.style-bidi.css"
SUBSET_CSS = CODEX_DIR / "codex-subset.css"
FULL_THEME = CODEX_DIR / "theme-wikimedia-ui.css"
SUBSET_THEME = CODEX_DIR / "theme-subset.css"
COMMAND = "python -m devtools.codex_subset"

_SELECTOR_CLASS = re.compile(r"\.(cdx-[A-Za-z0-9_-]+)")
_VAR_USE = re.compile(r"var\(\s*(--[A-Za-z0-9_-]+)")
_DECLARATION = re.compile(r"^\s*(--[A-Za-z0-9_-]+)\s*:(.*?);(\s*/\*.*?\*/)?\s*$")


def source_files(root: Path = ROOT) -> list[Path]:
    """Where the pages' class names are written: every template (found afresh each time, so new
    templates count), the served scripts, and the Python code that builds class names."""
    return sorted([*(root / "reporting" / "templates").rglob("*.html"), *(root / "static").glob("*.js"),
                   *(root / "reporting").rglob("*.py")])


def used_classes(files: Iterable[Path]) -> tuple[frozenset[str], frozenset[str]]:
    """(whole class names, dynamic prefixes) of Codex classes written in ``files``."""
    names: set[str] = set()
    prefixes: set[str] = set()
    for path in files:
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"cdx-[A-Za-z0-9_-]*", text):
            token = match.group(0)
            following = text[match.end():match.end() + 2]
            if following.startswith(("{{", "' ~", "\" ~", "' +", "\" +")) or token.endswith(("-", "_")):
                prefixes.add(token)  # a class completed at run time
            else:
                names.add(token)
    return frozenset(names), frozenset(prefixes)


@dataclass
class Block:
    """A rule (``body`` is declarations) or an at-rule holding rules (``children``)."""

    prelude: str
    body: str | None = None
    children: list[Block] | None = None


def _skip_string(css: str, start: int) -> int:
    quote = css[start]
    index = start + 1
    while index < len(css) and css[index] != quote:
        index += 2 if css[index] == "\\" else 1
    return index + 1


def _find(css: str, start: int, targets: str) -> int:
    """The index of the first of ``targets`` at ``start`` or after, outside strings and comments."""
    index = start
    while index < len(css):
        char = css[index]
        if char in "\"'":
            index = _skip_string(css, index)
            continue
        if css.startswith("/*", index):
            index = css.index("*/", index) + 2
            continue
        if char in targets:
            return index
        index += 1
    return len(css)


def parse(css: str, start: int = 0) -> tuple[list[Block], int]:
    """The blocks of ``css`` from ``start`` to its end or to the ``}`` that closes the enclosing block."""
    blocks: list[Block] = []
    index = start
    while index < len(css):
        opening = _find(css, index, "{};")
        if opening >= len(css) or css[opening] == "}":
            return blocks, opening + 1
        prelude = re.sub(r"/\*.*?\*/", "", css[index:opening], flags=re.S).strip()
        if css[opening] == ";":  # @charset, @import
            blocks.append(Block(prelude + ";"))
            index = opening + 1
            continue
        if prelude.startswith(("@media", "@supports", "@layer", "@container")):
            children, index = parse(css, opening + 1)
            blocks.append(Block(prelude, children=children))
            continue
        end = opening + 1
        depth = 1
        while depth:
            end = _find(css, end, "{}")
            depth += 1 if css[end] == "{" else -1
            end += 1
        blocks.append(Block(prelude, body=css[opening + 1:end - 1]))
        index = end
    return blocks, index


def split_selectors(prelude: str) -> list[str]:
    """A selector list split at its top-level commas (not those inside ``:not(a, b)``)."""
    parts, depth, current = [], 0, []
    for char in prelude:
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return [part for part in parts if part]


def is_used(name: str, names: frozenset[str], prefixes: frozenset[str]) -> bool:
    return name in names or any(name.startswith(prefix) for prefix in prefixes)


def _keep(blocks: list[Block], names: frozenset[str], prefixes: frozenset[str]) -> list[Block]:
    kept: list[Block] = []
    for block in blocks:
        if block.children is not None:
            children = _keep(block.children, names, prefixes)
            if children:
                kept.append(Block(block.prelude, children=children))
            continue
        if block.body is None or block.prelude.startswith("@"):
            kept.append(block)
            continue
        selectors = [selector for selector in split_selectors(block.prelude)
                     if all(is_used(name, names, prefixes) for name in _SELECTOR_CLASS.findall(selector))]
        if selectors:
            kept.append(Block(",".join(selectors), body=block.body))
    return kept


def serialize(blocks: list[Block]) -> str:
    out = []
    for block in blocks:
        if block.children is not None:
            out.append(block.prelude + "{" + serialize(block.children) + "}")
        elif block.body is None:
            out.append(block.prelude)
        else:
            out.append(block.prelude + "{" + block.body + "}")
    return "".join(out)


def defined_classes(css: str) -> frozenset[str]:
    """Every ``.cdx-*`` class a stylesheet's selectors name."""
    found: set[str] = set()

    def walk(blocks: list[Block]) -> None:
        for block in blocks:
            if block.children is not None:
                walk(block.children)
            elif block.body is not None:
                found.update(_SELECTOR_CLASS.findall(block.prelude))

    walk(parse(css)[0])
    return frozenset(found)


def build_subset(css: str, names: frozenset[str], prefixes: frozenset[str]) -> str:
    header = (f"/* Codex 2.7.0 (GPL-2.0-or-later), the rules the tool's pages use, from codex.style-bidi.css.\n"
              f"   Generated by `{COMMAND}`: do not edit. */\n")
    return header + serialize(_keep(parse(css)[0], names, prefixes)) + "\n"


def build_theme(theme: str, uses: Iterable[str]) -> str:
    """The ``:root`` tokens that ``uses`` (stylesheets, templates) need, directly or through others."""
    declarations: dict[str, str] = {}
    for line in theme.splitlines():
        match = _DECLARATION.match(line)
        if match:
            declarations[match.group(1)] = match.group(2).strip()
    wanted: set[str] = set()
    queue = [name for text in uses for name in _VAR_USE.findall(text)]
    while queue:
        name = queue.pop()
        if name in wanted or name not in declarations:
            continue
        wanted.add(name)
        queue.extend(_VAR_USE.findall(declarations[name]))
    body = "".join(f"{name}:{value};" for name, value in declarations.items() if name in wanted)
    return (f"/* Codex Design Tokens 2.7.0 (GPL-2.0-or-later), the tokens the tool's pages use, from\n"
            f"   theme-wikimedia-ui.css. Generated by `{COMMAND}`: do not edit. */\n:root{{{body}}}\n")


def build(root: Path = ROOT) -> tuple[str, str]:
    """(codex subset, theme subset) for the sources under ``root``."""
    names, prefixes = used_classes(source_files(root))
    subset = build_subset(FULL_CSS.read_text(encoding="utf-8"), names, prefixes)
    uses = [subset, (root / "static" / "style.css").read_text(encoding="utf-8"),
            *(path.read_text(encoding="utf-8") for path in (root / "reporting" / "templates").rglob("*.html"))]
    return subset, build_theme(FULL_THEME.read_text(encoding="utf-8"), uses)


def main() -> int:
    subset, theme = build()
    SUBSET_CSS.write_text(subset, encoding="utf-8")
    SUBSET_THEME.write_text(theme, encoding="utf-8")
    print(f"{SUBSET_CSS.relative_to(ROOT)}: {len(subset.encode())} bytes "
          f"(of {FULL_CSS.stat().st_size}); {SUBSET_THEME.relative_to(ROOT)}: {len(theme.encode())} bytes "
          f"(of {FULL_THEME.stat().st_size})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
