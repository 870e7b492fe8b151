"""Building the gadget: the three pages a wiki hosts, from ``static/gadget/`` and ``i18n/``.

Why a build: Wikimedia wikis enforce a Content-Security-Policy, so the gadget can load neither code
nor messages from the tool; everything it needs must be inside the one page the wiki serves. The
build fills the tool's address and the messages into the readable source, compacts it and checks
the result.

Why it is compact: every logged-in page view carries the gadget, and its budget is 2 KB gzip with
the messages of every language (:data:`BUDGET_GZIP_BYTES`). So only what a page view needs is
embedded: the two messages of the link (text and tooltip) of every language that has them, and,
instead of MediaWiki's whole fallback table, only the codes the gadget's simple rule (the code, its
first subtag, English) would otherwise get wrong (``azb`` → ``fa``; ``de-at`` needs no entry),
grouped by the language they reach. Comments, indentation and the spaces around punctuation are
left out (:func:`compact`), because global.js loads the page raw, where nothing minifies it.

Contracts:
- :func:`build_gadget` is pure apart from reading the source and the message files; it raises
  :class:`GadgetBuildError` for a tool URL the gadget must not link to, a message the gadget
  cannot show as plain text, a source whose placeholders do not match, or a result over budget.
- The code never contains what MediaWiki's pre-save transform would rewrite in a script page
  (``~~~``, ``{{subst:``, the pipe trick), so the page saved on the wiki is the page built.
"""
from __future__ import annotations

import gzip
import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from reporting.i18n import DEFAULT_MESSAGES_DIR
from reporting.i18n.languages import MEDIAWIKI_FALLBACKS, fallback_chain
from reporting.i18n.messages import DOCUMENTATION_LANGUAGE, SOURCE_LANGUAGE, read_message_file

__all__ = [
    "BUDGET_GZIP_BYTES",
    "CODE_FILE",
    "DEFINITION_FILE",
    "DESCRIPTION_FILE",
    "GADGET_NAME",
    "Gadget",
    "GadgetBuildError",
    "build_gadget",
    "compact",
    "embedded_messages",
    "gadget_language",
    "global_js_line",
    "gzip_size",
    "mediawiki_language",
]

GADGET_NAME = "report-privately"
SOURCE = Path(__file__).resolve().parents[2] / "static" / "gadget" / f"{GADGET_NAME}.js"

# The files `gadget build` writes; the wiki page of each is "MediaWiki:" + its name (the
# definition file holds the one line to add to MediaWiki:Gadgets-definition).
CODE_FILE = f"Gadget-{GADGET_NAME}.js"
DESCRIPTION_FILE = f"Gadget-{GADGET_NAME}"
DEFINITION_FILE = "Gadgets-definition.txt"
CODE_PAGE = f"MediaWiki:{CODE_FILE}"
DESCRIPTION_PAGE = f"MediaWiki:{DESCRIPTION_FILE}"
DEFINITION_PAGE = "MediaWiki:Gadgets-definition"

# On by default for every logged-in account. rights=editmyuserjs: the implicit group "user" of
# named accounts has it, logged-out readers ("*") and temporary accounts do not, so readers' page
# views never load the gadget (rights "*" also holds, such as viewmywatchlist, would not do).
# targets=desktop,mobile: MediaWiki 1.39's Gadgets loads a gadget on the mobile site (Minerva with
# MobileFrontend) only when it says so.
DEFINITION_LINE = (f"* {GADGET_NAME}[ResourceLoader|default|dependencies=mediawiki.util|rights=editmyuserjs"
                   f"|targets=desktop,mobile]|{CODE_FILE.removeprefix('Gadget-')}")

LINK_KEY = "reporting-gadget-link"
TOOLTIP_KEY = "reporting-gadget-tooltip"
DESCRIPTION_KEY = "reporting-gadget-description"

# The built page's only comment: where its readable source is.
HEADER = f"/* Built from static/gadget/{GADGET_NAME}.js of the incident-reporting tool */\n"
_PLACEHOLDERS = ("'__TOOL_URL__'", "__MESSAGES__", "__FALLBACKS__")
# What a message shown as plain text must not contain: MediaWiki syntax the gadget does not
# format, markup, and the line and bidi-override controls that would garble a menu.
_NOT_PLAIN = re.compile(r"\{\{|\$\d|[<>\[\]]|[\x00-\x1f\u202a-\u202e\u2066-\u2069]")
# MediaWiki's pre-save transform rewrites these in a saved script page.
_PRE_SAVE_TRANSFORMED = re.compile(r"~~~|\{\{\s*(?:safe)?subst:|\[\[[^\]]*\|\]\]", re.IGNORECASE)
# Everything the gadget adds to a page view, gzip-compressed (2 KB).
BUDGET_GZIP_BYTES = 2048


class GadgetBuildError(ValueError):
    """The gadget cannot be built; the message says what to fix."""


@dataclass(frozen=True)
class Gadget:
    """The built gadget: what a wiki hosts."""

    code: str
    """MediaWiki:Gadget-report-privately.js: the script, messages included."""
    description: str
    """MediaWiki:Gadget-report-privately: the description users see in their preferences."""
    definition: str
    """The line of MediaWiki:Gadgets-definition that declares the gadget."""

    def files(self) -> dict[str, str]:
        """File name → content, as ``gadget build`` writes them."""
        return {CODE_FILE: self.code, DESCRIPTION_FILE: self.description + "\n",
                DEFINITION_FILE: self.definition + "\n"}


def gzip_size(text: str) -> int:
    """Bytes of ``text`` (UTF-8) gzip-compressed at the level web servers use by default (6)."""
    return len(gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0))


def global_js_line(index_url: str = "//meta.wikimedia.org/w/index.php") -> str:
    """The line a user puts into their global.js on meta to load the gadget on every wiki.

    ``index_url`` is the index.php of the wiki that hosts the gadget, protocol-relative as the
    wikis' own examples (the page is then served over the protocol of the wiki being read).
    """
    return f"mw.loader.load('{index_url}?title={CODE_PAGE}&action=raw&ctype=text/javascript');"


def check_tool_url(tool_url: str) -> str:
    """The tool's address without a trailing slash; https, or http to this machine (tests)."""
    try:
        parts = urlsplit(tool_url.strip())
        host = parts.hostname or ""
    except ValueError:
        raise GadgetBuildError(f"tool URL {tool_url!r} is not a URL") from None
    loopback = host == "localhost" or _is_loopback_address(host)
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise GadgetBuildError(f"tool URL {tool_url!r} must be https:// (http:// only for 127.0.0.1)")
    if not host or parts.username or parts.password or parts.query or parts.fragment:
        raise GadgetBuildError(f"tool URL {tool_url!r} must be a plain address (no user, query or fragment)")
    return f"{parts.scheme}://{parts.netloc}{parts.path}".rstrip("/")


def _is_loopback_address(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _own_messages(messages_dir: Path) -> dict[str, dict[str, str]]:
    """Language → the messages of its own file (no fallback), ``qqq`` left out."""
    own = {}
    for path in sorted(messages_dir.glob("*.json")):
        if path.stem != DOCUMENTATION_LANGUAGE:
            own[path.stem] = read_message_file(path)
    if SOURCE_LANGUAGE not in own:
        raise GadgetBuildError(f"{messages_dir} has no {SOURCE_LANGUAGE}.json")
    return own


def _resolved(own: dict[str, dict[str, str]], lang: str, key: str) -> str:
    """The message as MediaWiki would pick it: the first language of ``lang``'s chain that has it."""
    for code in fallback_chain(lang):
        text = own.get(code, {}).get(key)
        if text is not None:
            if _NOT_PLAIN.search(text):
                raise GadgetBuildError(f"{key} in {code}.json must be plain text (the gadget shows it as is)")
            return text
    raise GadgetBuildError(f"{key} is missing from {SOURCE_LANGUAGE}.json")


def embedded_messages(messages_dir: Path = DEFAULT_MESSAGES_DIR) -> tuple[dict[str, list[str]],
                                                                            dict[str, str]]:
    """What the gadget embeds: ``(messages, fallbacks)``.

    ``messages``: language → [link text, tooltip] for every language whose own file has either
    message. ``fallbacks``: language of ``messages`` → the space-separated MediaWiki codes that
    fall back to it, only those for which the gadget's rule (the code itself, then its first
    subtag, then English: :func:`gadget_language`) would otherwise answer differently from
    MediaWiki's fallback chain. ``en`` is listed when a code must not take its first subtag's.
    """
    own = _own_messages(messages_dir)
    messages = {
        lang: [_resolved(own, lang, LINK_KEY), _resolved(own, lang, TOOLTIP_KEY)]
        for lang in sorted(own, key=lambda code: (code != SOURCE_LANGUAGE, code))
        if LINK_KEY in own[lang] or TOOLTIP_KEY in own[lang]
    }
    table: dict[str, str] = {}
    # First subtags first: the rule consults them for the longer codes.
    for code in sorted(set(MEDIAWIKI_FALLBACKS) - set(messages), key=lambda code: ("-" in code, code)):
        expected = mediawiki_language(code, messages)
        if gadget_language(code, messages, table) != expected:
            table[code] = expected
    groups: dict[str, list[str]] = {}
    for code, target in table.items():
        groups.setdefault(target, []).append(code)
    return messages, {target: " ".join(sorted(codes)) for target, codes in sorted(groups.items())}


def mediawiki_language(lang: str, messages: Mapping[str, object]) -> str:
    """The language of ``messages`` that MediaWiki's fallback chain picks for ``lang``."""
    return next((code for code in fallback_chain(lang) if code in messages), SOURCE_LANGUAGE)


def gadget_language(lang: str, messages: Mapping[str, object], table: Mapping[str, str]) -> str:
    """The language the gadget picks for ``lang`` (its ``messages()`` in the source, line for line).

    ``table`` maps a code to its language (the inverse of the embedded ``fallbacks``).
    """
    def lookup(code: str) -> str | None:
        if code in messages:
            return code
        return table.get(code)

    return lookup(lang) or lookup(lang.split("-")[0]) or SOURCE_LANGUAGE


def _js(value: object) -> str:
    """A JavaScript literal for ``value`` (compact JSON; U+2028/2029 escaped for older engines)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def compact(source: str) -> str:
    """``source`` without comments, blank lines, indentation and the spaces around punctuation.

    Why the build does this: the page is also loaded raw (``action=raw`` from global.js), where
    nothing minifies it, and comments and indentation would double its size. Line breaks stay (so
    automatic semicolons cannot change) and so do names: the code stays readable line by line.

    A tokenizer just good enough for the gadget's own source: string literals are copied as they
    are, and a ``/`` that begins neither a comment nor sits in a string is refused (a regular
    expression literal could hide a quote or ``//``), so no code can be cut by mistake. Spaces
    around ``+`` and ``-`` stay (``a + +b`` must not become ``a++b``).
    """
    pieces: list[str] = []
    code: list[str] = []

    def flush() -> None:
        text = re.sub(r"[ \t]+", " ", "".join(code))
        text = re.sub(r" ?([(){}\[\];,=!&|?:<>*]) ?", r"\1", text)
        pieces.append(text)
        code.clear()

    i, length = 0, len(source)
    while i < length:
        char = source[i]
        if source.startswith("//", i):
            end = source.find("\n", i)
            i = length if end < 0 else end
        elif source.startswith("/*", i):
            end = source.find("*/", i + 2)
            if end < 0:
                raise GadgetBuildError("the gadget's source has an unterminated comment")
            code.append(" ")
            i = end + 2
        elif char in "'\"`":
            end = i + 1
            while end < length and source[end] != char:
                if source[end] == "\n":
                    raise GadgetBuildError("the gadget's source has an unterminated string")
                end += 2 if source[end] == "\\" else 1
            flush()
            pieces.append(source[i:end + 1])
            i = end + 1
        elif char == "/":
            raise GadgetBuildError("the gadget's source must not divide or use regular expressions "
                                   "(the build's compaction does not read them)")
        else:
            code.append(char)
            i += 1
    flush()
    lines = (line.strip(" \t") for line in "".join(pieces).split("\n"))
    return "\n".join(line for line in lines if line) + "\n"


def build_gadget(tool_url: str, *, lang: str = SOURCE_LANGUAGE, messages_dir: Path = DEFAULT_MESSAGES_DIR,
                 source: Path = SOURCE) -> Gadget:
    """Build the gadget linking to ``tool_url``; its description in ``lang`` (English by default)."""
    code = compact(source.read_text(encoding="utf-8"))
    for placeholder in _PLACEHOLDERS:
        if code.count(placeholder) != 1:
            raise GadgetBuildError(f"{source.name} must contain {placeholder} exactly once")
    messages, fallbacks = embedded_messages(messages_dir)
    code = (code.replace("'__TOOL_URL__'", _js(check_tool_url(tool_url)))
            .replace("__MESSAGES__", _js(messages))
            .replace("__FALLBACKS__", _js(fallbacks)))
    code = HEADER + code
    if _PRE_SAVE_TRANSFORMED.search(code):
        raise GadgetBuildError("the gadget's code contains ~~~, subst: or a pipe trick, which MediaWiki "
                               "would rewrite on save")
    size = gzip_size(code)
    if size > BUDGET_GZIP_BYTES:
        raise GadgetBuildError(f"the gadget is {size} bytes gzip, over its budget of {BUDGET_GZIP_BYTES} "
                               "per page view: shorten the messages or embed less")
    description = _resolved(_own_messages(messages_dir), lang, DESCRIPTION_KEY)
    return Gadget(code=code, description=description, definition=DEFINITION_LINE)
