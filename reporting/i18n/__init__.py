"""Internationalisation: MediaWiki-style messages (banana JSON in ``i18n/``) and the user's language.

Templates call ``msg(key, *params)``; views that answer in JSON or write e-mails call
``msg_text(key, *params, lang=...)`` (the desk always gets English: the default). Parameters are text
(escaped), numbers (formatted for the language, and chosen by PLURAL) or :class:`UserName` (``<bdi>``,
and chosen by GENDER). Pass identifiers such as report numbers as ``str``, or they are formatted as
numbers ("1,234").

The language of a request is, in order: ``?uselang=`` (remembered in the session), the session, the
browser's Accept-Language matched against the languages that have a file, English. ``uselang=qqx``
shows message keys instead of text. flask-babel formats dates and numbers in that language, in the
time zone ``session["timezone"]`` when the user chose one (an IANA name), else UTC.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from datetime import UTC, timedelta
from datetime import date as Date
from datetime import datetime as DateTime
from pathlib import Path
from typing import Literal

import flask_babel
import pytz
from babel import Locale
from babel.dates import format_timedelta
from flask import Flask, current_app, g, has_app_context, has_request_context, session
from markupsafe import Markup
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from reporting.i18n.formatter import UserName
from reporting.i18n.languages import (
    QQX,
    autonym,
    babel_locale,
    fallback_chain,
    is_mediawiki_language,
    language_direction,
    normalize_code,
)
from reporting.i18n.messages import HTML_MARKER, SOURCE_LANGUAGE, Catalog
from reporting.request_context import request_globals, this_request

__all__ = [
    "HTML_MARKER",
    "UserName",
    "available_languages",
    "current_language",
    "fallback_chain",
    "init_app",
    "language_direction",
    "msg",
    "msg_text",
]

DEFAULT_MESSAGES_DIR = Path(__file__).resolve().parents[2] / "i18n"
_EXTENSION = "reporting_i18n"
_CHOOSER = "reporting_language_chooser"
_SESSION_LANGUAGE = "uselang"
_SESSION_TIMEZONE = "timezone"

#: (``?uselang=``, the session's language, Accept-Language) -> the request's language.
LanguageChooser = Callable[[str | None, str | None, str | None], str]


def init_app(app: Flask, messages_dir: str | os.PathLike[str] | None = None) -> None:
    """Load the messages of ``messages_dir`` (default: the repository's ``i18n/``) and wire up ``app``.

    Sets up flask-babel's locale and time-zone selectors, the sticky ``?uselang=``, the Jinja globals
    ``msg``, ``current_language``, ``language_direction``, ``available_languages``, ``fallback_chain``
    and the filters ``datetime``, ``date``, ``reltime``, ``number``. Raises when ``en.json`` is missing
    or broken, so a deployment without messages fails at start-up rather than on the first page.
    """
    catalog = Catalog.load(messages_dir if messages_dir is not None else DEFAULT_MESSAGES_DIR)
    app.extensions[_EXTENSION] = catalog
    app.extensions[_CHOOSER] = _language_chooser(catalog)
    flask_babel.Babel(
        app,
        configure_jinja=False,  # no gettext in templates: every string is a message
        default_locale=SOURCE_LANGUAGE,
        default_timezone="UTC",
        locale_selector=_babel_locale_of_request,
        timezone_selector=_timezone_of_request,
    )
    app.before_request(_remember_uselang)
    app.jinja_env.globals.update(
        msg=msg,
        current_language=current_language,
        language_direction=language_direction,
        available_languages=available_languages,
        fallback_chain=fallback_chain,
    )
    app.context_processor(_bound_msg)
    app.jinja_env.filters.update(
        datetime=format_datetime,
        date=format_date,
        reltime=format_reltime,
        number=format_number,
    )


@functools.cache
def _default_catalog() -> Catalog:
    return Catalog.load(DEFAULT_MESSAGES_DIR)


def _catalog() -> Catalog:
    """The app's catalog; outside an app (a worker script) the repository's ``i18n/``, loaded once."""
    if has_app_context() and _EXTENSION in current_app.extensions:
        catalog: Catalog = current_app.extensions[_EXTENSION]
        return catalog
    return _default_catalog()


def msg(key: str, *params: object) -> Markup:
    """The message ``key`` in the current request's language, as safe HTML."""
    return _catalog().html(current_language(), key, params)


def _bound_msg() -> dict[str, object]:
    """``msg`` for one rendered page, bound to its catalog and language: a page calls it ~60 times,
    and looking both up through Flask's context locals each time cost more than the message."""
    catalog, language = _catalog(), current_language()

    def bound(key: str, *params: object) -> Markup:
        return catalog.html(language, key, params)

    return {"msg": bound}


def msg_text(key: str, *params: object, lang: str = SOURCE_LANGUAGE) -> str:
    """The message ``key`` in ``lang`` as plain text (not escaped, no ``<bdi>``), for JSON and e-mails.

    Callers MUST escape the result themselves if they put it into HTML.
    """
    return _catalog().text(normalize_code(lang) or SOURCE_LANGUAGE, key, params)


def available_languages() -> list[tuple[str, str]]:
    """(code, autonym) of every language with a message file (not ``qqq``), sorted by code."""
    return list(_languages_of(_catalog().languages))


@functools.lru_cache(maxsize=8)
def _languages_of(codes: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """Autonyms are Babel lookups, and every page's language chooser lists them twice: once per catalog."""
    return tuple((code, autonym(code)) for code in codes)


def _is_selectable(code: str | None, catalog: Catalog | None = None) -> bool:
    """Whether ``code`` may be used as the page language: it has messages, MediaWiki knows it, or qqx."""
    if code is None:
        return False
    return code == QQX or (catalog or _catalog()).has_language(code) or is_mediawiki_language(code)


def current_language() -> str:
    """The MediaWiki code of the request's language ("en" outside a request); computed once per request."""
    if not has_request_context():
        return SOURCE_LANGUAGE
    kept = request_globals()
    language: str | None = kept.get("_reporting_language")
    if language is None:
        language = kept._reporting_language = _select_language()
    return language


def switch_language(code: str | None) -> bool:
    """Make ``code`` the language of the session and of the rest of this request; False if it is
    not a language the tool offers (nothing changes then).

    For a language chosen in a POSTed form (the report form's own language switch, which carries
    what was typed instead of dropping it as a ``?uselang=`` link would).
    """
    code = normalize_code(code)
    if not _is_selectable(code) or code == QQX:
        return False
    assert code is not None
    session[_SESSION_LANGUAGE] = code
    g._reporting_language = code
    flask_babel.refresh()
    return True


def _uselang() -> str | None:
    """``?uselang=`` as given. Absent on almost every request (asked twice each), and werkzeug's
    ``get`` and ``getlist`` both raise and catch an exception for an absent name (~1.5 µs): a
    membership test first does not."""
    args = this_request().request.args
    return args.getlist("uselang")[0] if "uselang" in args else None


def _select_language() -> str:
    context = this_request()
    remembered = context.session.get(_SESSION_LANGUAGE)
    choose: LanguageChooser = context.app.extensions[_CHOOSER]
    return choose(_uselang(), remembered if isinstance(remembered, str) else None,
                  context.request.environ.get("HTTP_ACCEPT_LANGUAGE"))


def _language_chooser(catalog: Catalog) -> LanguageChooser:
    """:func:`_language_for` of ``catalog``, its answers kept per app: browsers send a handful of
    distinct headers, and choosing (parsing the header, normalising, following fallback chains) cost
    more than a page's messages."""
    return functools.lru_cache(maxsize=1024)(functools.partial(_language_for, catalog))


def _language_for(catalog: Catalog, requested: str | None, remembered: str | None, accept: str | None) -> str:
    """The language for a request's ``?uselang=``, session language and Accept-Language header, as given."""
    for code in (normalize_code(requested), normalize_code(remembered)):
        if _is_selectable(code, catalog):
            assert code is not None
            return code
    return _match_accept_language(catalog, accept) or SOURCE_LANGUAGE


def _match_accept_language(catalog: Catalog, accept: str | None) -> str | None:
    """The first language the browser accepts (by quality) that has a message file, directly or through its
    fallback chain (``de-AT`` -> ``de``). The chain's implicit English counts only if the browser named English."""
    for value, _quality in parse_accept_header(accept, LanguageAccept):
        code = normalize_code(value)
        if code is None or code == QQX:
            continue
        chain = fallback_chain(code)
        if code.split("-")[0] != SOURCE_LANGUAGE:
            chain = chain[:-1]
        for candidate in chain:
            if catalog.has_language(candidate):
                return candidate
    return None


def _remember_uselang() -> None:
    """Make a valid ``?uselang=`` sticky: later pages without it keep the language."""
    requested = normalize_code(_uselang())
    if _is_selectable(requested) and current_app.secret_key and session.get(_SESSION_LANGUAGE) != requested:
        session[_SESSION_LANGUAGE] = requested


def _babel_locale_of_request() -> Locale:
    return babel_locale(current_language())


def _timezone_of_request() -> str | None:
    chosen = session.get(_SESSION_TIMEZONE)
    if isinstance(chosen, str) and chosen in pytz.all_timezones_set:
        return chosen
    return None


def format_datetime(value: DateTime, format: str = "medium") -> str:
    """Date and time in the user's language and time zone (naive datetimes are UTC)."""
    return flask_babel.format_datetime(value, format)


def format_date(value: DateTime | Date, format: str = "medium") -> str:
    """The date in the user's language (a datetime is first moved into the user's time zone)."""
    return flask_babel.format_date(value, format)


Granularity = Literal["year", "month", "week", "day", "hour", "minute", "second"]


def format_reltime(value: DateTime | timedelta, granularity: Granularity = "second") -> str:
    """"3 hours ago" / "in 2 days" in the user's language; a datetime is compared with now (naive = UTC)."""
    if isinstance(value, DateTime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        value = moment - DateTime.now(UTC)
    return format_timedelta(value, granularity=granularity, add_direction=True, locale=babel_locale(current_language()))


def format_number(value: int | float) -> str:
    """A number in the user's language ("1,234.5", "1.234,5", ...)."""
    return flask_babel.format_decimal(value)
