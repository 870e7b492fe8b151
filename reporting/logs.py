"""Log lines that help operators and never hold report content.

Tracebacks are what make a crash in the worker or a view debuggable, so
boundaries log exceptions with them. But an exception's *message* may quote
the data it choked on (``int('…what the reporter typed…')``,
``KeyError('…')``), and a report's content must never reach a log. So the
tool's log formatter prints every frame of the stack and, for each
exception in the chain, its type, and its message only for exception types
whose messages are known to carry no report content: database errors
(SQLAlchemy runs with ``hide_parameters``), network and OS errors, and the
tool's own desk and wiki errors, whose messages name desks, hosts and codes.
"""
from __future__ import annotations

import logging
import re
import sys
import traceback
from types import TracebackType
from typing import TextIO

import requests
from flask.logging import default_handler
from sqlalchemy.exc import SQLAlchemyError

from reporting.delivery.base import PermanentFailure, TemporaryFailure
from reporting.wiki.client import WikiApiError, WikiUnavailable

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

#: Exceptions whose messages may be logged: none of them quotes report content.
MESSAGE_SAFE = (SQLAlchemyError, OSError, requests.RequestException, TemporaryFailure, PermanentFailure,
                WikiUnavailable, WikiApiError)

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]


def describe_exception(error: BaseException) -> str:
    """``module.Type: message`` for message-safe exceptions, else only the type."""
    kind = type(error)
    name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    return f"{name}: {error}" if isinstance(error, MESSAGE_SAFE) else f"{name} (message withheld)"


def format_stack_without_messages(error: BaseException) -> str:
    """The chained tracebacks of ``error``, as Python prints them, messages withheld where unsafe."""
    chain: list[tuple[BaseException, str | None]] = []
    seen: set[int] = set()
    current: BaseException | None = error
    link: str | None = None
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((current, link))
        if current.__cause__ is not None:
            current, link = current.__cause__, "The above exception was the direct cause of the following exception:"
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = current.__context__, "During handling of the above exception, another exception occurred:"
        else:
            current = None
    parts: list[str] = []
    for index, (exception, _) in enumerate(reversed(chain)):
        if index:
            parts.append("\n" + (chain[len(chain) - index][1] or "") + "\n\n")
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_list(traceback.extract_tb(exception.__traceback__)))
        parts.append(describe_exception(exception) + "\n")
    return "".join(parts).rstrip("\n")


class PrivateFormatter(logging.Formatter):
    """Formats records like :class:`logging.Formatter`, with tracebacks from
    :func:`format_stack_without_messages`."""

    def format(self, record: logging.LogRecord) -> str:
        # logging caches a record's traceback text in ``exc_text`` for every
        # handler; one formatted by a standard handler must not be reused.
        cached = record.exc_text
        record.exc_text = None
        try:
            return super().format(record)
        finally:
            record.exc_text = cached

    def formatException(self, ei: ExcInfo) -> str:  # noqa: N802 - logging's name
        return format_stack_without_messages(ei[1]) if ei[1] is not None else ""

    def formatStack(self, stack_info: str) -> str:  # noqa: N802
        return stack_info


_QUERY_IN_REQUEST_LINE = re.compile(r'("[A-Z]+ [^ ?"]*)\?[^ "]*')


class RequestLineWithoutQuery(logging.Filter):
    """The development server logs every request line, query string and all:
    a prefilled form's query names the reported user. Keep only the path."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = _QUERY_IN_REQUEST_LINE.sub(r"\1", message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def configure_logging(level: int = logging.INFO) -> None:
    """Send the tool's logs (and Flask's, and the libraries') to stderr, where
    Toolforge collects them, through :class:`PrivateFormatter`. Idempotent."""
    root = logging.getLogger()
    if not any(isinstance(handler, _StderrHandler) for handler in root.handlers):
        handler = _StderrHandler()
        handler.setFormatter(PrivateFormatter(FORMAT))
        root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
    werkzeug = logging.getLogger("werkzeug")
    if not any(isinstance(existing, RequestLineWithoutQuery) for existing in werkzeug.filters):
        werkzeug.addFilter(RequestLineWithoutQuery())
    # Flask's own handler would print app.logger's records a second time,
    # with the standard formatter; the root handler covers them.
    logging.getLogger("reporting").removeHandler(default_handler)
