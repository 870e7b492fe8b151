"""Reads made on every request, run without SQLAlchemy's execution machinery.

Every page view asks the database whether its login session is still open
(revocation must show at once) and, on the report form, what the reporter's
misuse standing is. Each is a few tens of microseconds of database work, but
SQLAlchemy's execution path around it (a transaction and, on SQLite, its
``BEGIN IMMEDIATE``; events; statement caching; result machinery) cost about
0.35 ms a read: together, a third of the form's time once its HTML was cached.

A :class:`PreparedRead` compiles its statement for the engine's dialect once
(per length of each list parameter), then runs it on a DB-API connection (a
pooled one on MariaDB; on SQLite, one per thread) with the dialect's own
conversions of parameters and results. A
single SELECT is consistent by itself, so it needs no transaction of ours.
Only reads belong here: nothing is committed. Errors are raised as
SQLAlchemy's (``DBAPIError``), so callers tell an outage from a bug as they do
for every other statement (:func:`reporting.storage.database.is_unavailable`).
"""
from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Select
from sqlalchemy.exc import DBAPIError, StatementError

_EXPANDED = re.compile(r"^(.*)_(\d+)$")
_PYFORMAT = re.compile(r"%\(([^)]+)\)s")


@dataclass(frozen=True)
class _Compiled:
    sql: str
    #: For each placeholder in order: (parameter name, index in its list or None, bind conversion).
    placeholders: tuple[tuple[str, int | None, Callable[[Any], Any] | None], ...]
    results: tuple[Callable[[Any], Any] | None, ...]
    #: The values of the statement's own bound literals, converted once.
    fixed: dict[str, Any]
    #: For a named parameter style (PyMySQL's ``%(name)s``): the names, as the placeholders are.
    named: tuple[str, ...]


class PreparedRead:
    def __init__(self, engine: Engine, statement: Select) -> None:
        self.engine = engine
        self.statement = statement
        self._compiled: dict[tuple[int, ...], _Compiled] = {}
        self._lock = threading.Lock()
        #: The list parameters (``IN``): the statement is compiled once per their lengths.
        self._lists = tuple(sorted(name for name, bind in statement.compile(dialect=engine.dialect).binds.items()
                                   if bind.expanding))
        #: SQLite: each thread reads on a connection of its own (:meth:`_fetch_own`).
        self._own = threading.local() if engine.dialect.name == "sqlite" else None

    def rows(self, parameters: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Every row, each value converted as SQLAlchemy converts it."""
        compiled = self._compile_for(parameters)
        arguments = []
        for name, index, convert in compiled.placeholders:
            if name in compiled.fixed:
                arguments.append(compiled.fixed[name])
                continue
            value = parameters[name] if index is None else parameters[name][index]
            arguments.append(convert(value) if convert is not None else value)
        bound: tuple[Any, ...] | dict[str, Any] = tuple(arguments)
        if compiled.named:
            bound = dict(zip(compiled.named, arguments, strict=True))
        fetched = self._fetch_own(compiled.sql, bound) if self._own is not None else self._fetch(compiled.sql, bound)
        if not any(compiled.results):  # values as the driver gives them (SQLite's integers and texts)
            return [tuple(row) for row in fetched]
        return [tuple(value if convert is None else convert(value)
                      for value, convert in zip(row, compiled.results, strict=True)) for row in fetched]

    def _fetch(self, sql: str, bound: tuple[Any, ...] | dict[str, Any]) -> list[Any]:
        """On a pooled connection (checked before use, recycled: what MariaDB needs)."""
        dbapi_error = self.engine.dialect.loaded_dbapi.Error
        try:
            connection = self.engine.raw_connection()
        except dbapi_error as error:
            raise self._wrapped(error, invalidated=False) from error
        try:
            return _run(connection, sql, bound)
        except dbapi_error as error:
            disconnected = self.engine.dialect.is_disconnect(error, connection.dbapi_connection, None)
            if disconnected:
                connection.invalidate(error)
            raise self._wrapped(error, invalidated=disconnected) from error
        finally:
            connection.close()  # back to the pool, which rolls the read's implicit transaction back

    def _fetch_own(self, sql: str, bound: tuple[Any, ...] | dict[str, Any]) -> list[Any]:
        """On SQLite, on this thread's own connection, made by the pool (with its pragmas) and then
        detached from it, and used as the driver's own connection (no pool wrapper around each
        cursor): a connection to a local file does not go stale, and in autocommit mode
        (:func:`reporting.storage.database.make_engine`) a lone SELECT is its own transaction, so
        there is nothing to reset between reads. The pool's check-out and return were a third of
        the read. A connection that failed is closed, and the next read makes a new one."""
        assert self._own is not None
        dbapi_error = self.engine.dialect.loaded_dbapi.Error
        connection = getattr(self._own, "connection", None)
        try:
            if connection is None:
                connection = self.engine.raw_connection()
                connection.detach()
                self._own.connection = connection
            return _run(connection.dbapi_connection, sql, bound)  # sqlite3's own connection
        except dbapi_error as error:
            self._own.connection = None
            disconnected = False
            if connection is not None:
                disconnected = self.engine.dialect.is_disconnect(error, connection.dbapi_connection, None)
                connection.close()
            raise self._wrapped(error, invalidated=disconnected) from error

    def _wrapped(self, error: Exception, invalidated: bool) -> StatementError:
        return DBAPIError.instance(str(self.statement), None, error, self.engine.dialect.loaded_dbapi.Error,
                                   hide_parameters=True, connection_invalidated=invalidated,
                                   dialect=self.engine.dialect)

    def first(self, parameters: Mapping[str, Any]) -> tuple[Any, ...] | None:
        rows = self.rows(parameters)
        return rows[0] if rows else None

    def _compile_for(self, parameters: Mapping[str, Any]) -> _Compiled:
        shape = tuple(len(parameters[name]) for name in self._lists)
        compiled = self._compiled.get(shape)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.setdefault(shape, self._compile(parameters))
        return compiled

    def _compile(self, parameters: Mapping[str, Any]) -> _Compiled:
        dialect = self.engine.dialect
        made = self.statement.params(**parameters).compile(dialect=dialect,
                                                           compile_kwargs={"render_postcompile": True})
        lists = {name for name, value in parameters.items() if isinstance(value, list | tuple)}
        placeholders: list[tuple[str, int | None, Callable[[Any], Any] | None]] = []
        fixed: dict[str, Any] = {}
        names = _placeholders(made.string, made.positiontup, dialect.paramstyle)
        for placeholder in names:
            expanded = _EXPANDED.match(placeholder)
            if placeholder not in made.binds and expanded and expanded.group(1) in lists:
                name, index = expanded.group(1), int(expanded.group(2)) - 1
            else:
                name, index = placeholder, None
            convert = made.binds[name].type._cached_bind_processor(dialect)
            if name not in parameters:  # a value written into the statement (``status == "declined"``)
                value = made.binds[name].effective_value
                fixed[name] = convert(value) if convert is not None else value
                convert = None
            placeholders.append((name, index, convert))
        results = tuple(column.type._cached_result_processor(dialect, None)
                        for column in self.statement.selected_columns)
        named = () if made.positiontup is not None else tuple(names)
        return _Compiled(made.string, tuple(placeholders), results, fixed, named)


def _run(connection: Any, sql: str, bound: tuple[Any, ...] | dict[str, Any]) -> list[Any]:
    cursor = connection.cursor()
    try:
        cursor.execute(sql, bound)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _placeholders(sql: str, positions: Sequence[str] | None, paramstyle: str) -> list[str]:
    """The statement's parameter names: in order and as often as used (positional styles), or
    each once (PyMySQL's named ``%(name)s``, bound from a dictionary)."""
    if positions is not None:  # qmark, format (SQLite)
        return list(positions)
    if paramstyle == "pyformat":  # PyMySQL
        return list(dict.fromkeys(_PYFORMAT.findall(sql)))
    raise ValueError(f"PreparedRead does not know the parameter style {paramstyle!r}")
