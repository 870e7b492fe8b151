"""The small HTML allow-list of HTML messages: ``<a href>`` (https or relative), ``<strong>``, ``<em>``,
``<bdi>``, ``<br>``; attributes ``href`` (on ``<a>``), ``dir`` and ``lang``.

A message is HTML only when its qqq.json documentation says so (see ``messages.HTML_MARKER``). Even
then, translations are not trusted: everything outside the allow-list is shown as literal text (a
disallowed tag) or dropped (a disallowed attribute or link target), so a bad translation can never
inject script. The translation checks report the same things as problems, through :func:`problems`.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

from markupsafe import Markup, escape

ALLOWED_TAGS = frozenset({"a", "strong", "em", "bdi", "br"})
VOID_TAGS = frozenset({"br"})
_ALLOWED_ATTRIBUTES = {"a": frozenset({"href", "dir", "lang"})}
_COMMON_ATTRIBUTES = frozenset({"dir", "lang"})
_DIRECTIONS = frozenset({"ltr", "rtl", "auto"})


def is_safe_href(href: str) -> bool:
    """True for https:// URLs, ``mailto:`` an address (the emergency contact), and relative URLs (a path,
    query or fragment); not for ``//host`` or other schemes."""
    stripped = href.strip()
    if any(ord(char) < 0x20 for char in stripped):
        return False
    parts = urlsplit(stripped)
    if parts.scheme == "https":
        return bool(parts.netloc)
    if parts.scheme == "mailto":
        return bool(re.fullmatch(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+", parts.path)) and not parts.query
    return parts.scheme == "" and parts.netloc == "" and not stripped.startswith(("//", "\\"))


def _attribute_problem(tag: str, name: str, value: str | None) -> str | None:
    allowed = _ALLOWED_ATTRIBUTES.get(tag, _COMMON_ATTRIBUTES)
    if name not in allowed:
        return f"attribute {name!r} on <{tag}> is not allowed"
    if value is None:
        return f"attribute {name!r} on <{tag}> has no value"
    if name == "href" and not is_safe_href(value):
        return f"link target {value!r} is neither https://, mailto: an address, nor relative"
    if name == "dir" and value.lower() not in _DIRECTIONS:
        return f"dir={value!r} is not ltr, rtl or auto"
    return None


class _LinkStart:
    """Where an element's text starts in the plain-text output (so a link can append its target)."""


class _Sanitizer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.html: list[str] = []
        self.text: list[str | _LinkStart] = []
        self.problems: list[str] = []
        self.open: list[str] = []
        self.hrefs: list[str | None] = []

    def _literal(self, raw: str) -> None:
        self.html.append(str(escape(raw)))
        self.text.append(raw)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raw = self.get_starttag_text() or f"<{tag}>"
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}> is not allowed")
            self._literal(raw)
            return
        kept: list[str] = []
        href: str | None = None
        for name, value in attrs:
            problem = _attribute_problem(tag, name, value)
            if problem is not None:
                self.problems.append(problem)
                continue
            assert value is not None
            kept.append(f' {name}="{escape(value)}"')
            if name == "href":
                href = value.strip()
        self.html.append(f"<{tag}{''.join(kept)}>")
        if tag == "br":
            self.text.append("\n")
        else:
            self.open.append(tag)
            self.hrefs.append(href)
            self.text.append(_LinkStart())

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in ALLOWED_TAGS and tag not in VOID_TAGS:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID_TAGS:
            return
        if tag not in self.open:
            if tag not in ALLOWED_TAGS:
                self.problems.append(f"tag </{tag}> is not allowed")
            else:
                self.problems.append(f"</{tag}> closes nothing")
            self._literal(f"</{tag}>")
            return
        while self.open:
            if self.open[-1] != tag:
                self.problems.append(f"<{self.open[-1]}> is not closed before </{tag}>")
            if self._close() == tag:
                break

    def _close(self) -> str:
        tag = self.open.pop()
        href = self.hrefs.pop()
        self.html.append(f"</{tag}>")
        start = max(i for i, piece in enumerate(self.text) if isinstance(piece, _LinkStart))
        inner = "".join(piece for piece in self.text[start + 1 :] if isinstance(piece, str))
        del self.text[start:]
        self.text.append(inner)
        if href and href not in inner:
            self.text.append(f" ({href})")
        return tag

    def handle_data(self, data: str) -> None:
        self._literal(data)

    def handle_entityref(self, name: str) -> None:
        self._reference(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self._reference(f"&#{name};")

    def _reference(self, raw: str) -> None:
        char = html.unescape(raw)
        if char == raw:
            self._literal(raw)
        else:
            self.html.append(str(escape(char)))
            self.text.append(char)

    def handle_comment(self, data: str) -> None:
        self.problems.append("comments are not allowed")
        self._literal(f"<!--{data}-->")

    def handle_decl(self, decl: str) -> None:
        self.problems.append("declarations are not allowed")
        self._literal(f"<!{decl}>")

    def handle_pi(self, data: str) -> None:
        self.problems.append("processing instructions are not allowed")
        self._literal(f"<?{data}>")

    def unknown_decl(self, data: str) -> None:
        self.problems.append("declarations are not allowed")
        self._literal(f"<![{data}]>")

    def finish(self) -> _Sanitizer:
        self.close()
        while self.open:
            self.problems.append(f"<{self.open[-1]}> is not closed")
            self._close()
        return self


def _run(source: str) -> _Sanitizer:
    sanitizer = _Sanitizer()
    sanitizer.feed(source)
    return sanitizer.finish()


def sanitize(source: str) -> Markup:
    """``source`` with allowed tags kept, other markup escaped, unsafe attributes dropped, tags balanced."""
    return Markup("".join(_run(source).html))


def to_text(source: str) -> str:
    """Plain text for e-mails and JSON: tags removed, entities decoded, ``<br>`` as a line break, and a
    link's target in parentheses after its text (unless the text already shows it)."""
    return "".join(piece for piece in _run(source).text if isinstance(piece, str))


def problems(source: str) -> list[str]:
    """What in ``source`` falls outside the allow-list (empty when the HTML is acceptable)."""
    return _run(source).problems
