"""``reporting rekey``: move everything stored to the current encryption key, so an old one can go.

Removing a key used to un-bar barred users silently (their hashes were made
with it) and hide old reports from their reporters. This re-seals every
sealed value (reports, follow-ups, timeline messages, barred names) and
makes every keyed hash that can be made again (a report's reporter, a barred
name, a misuse suspension's reporter) under the current key, then removes the old keys from the
:mod:`key inventory <reporting.storage.key_inventory>`, after which the tool
starts without them.

In batches, each committed with its progress (``rekey_progress``): a run
that was interrupted resumes after its last batch, and running it again is
always safe (a row already under the current key is written unchanged). Rows
are read ``FOR UPDATE`` on MariaDB (SQLite has one writer at a time), so a
worker's change to the same row is never lost.

What it cannot make again, and why that is safe: login sessions and
idempotency keys are hashes of values never stored (a session id, a client's
key). Under a removed key they simply stop matching: the user logs in again;
a submission repeated with a key from before the removal (they live 24 hours)
is stored as a new report. Report forms kept across a login (``form_drafts``)
are sealed under a keyed hash of a token only the browser holds, so they
cannot be moved either: those under an old key are deleted. They live two
hours at most and only spare retyping; a reporter whose draft is dropped sees
the empty form after logging in, as when a draft expires.

A misuse suspension holds only its reporter's keyed hash: the name comes from
the case that started it (its sealed report), else from the names the
database holds, like a bar's. Without it the suspension could not find its
reporter after the old key is removed, and a suspended reporter would be
free again.

Names come from the sealed values themselves: a report holds its reporter's
name (kept through the retention purge for this reason), a bar its sealed
name. Bars and purged reports from before migration 14 have none; their
hashes are matched against every reporter name the database holds. Those
still unmatched keep the old key in the inventory (the start-up check keeps
refusing without it) unless ``forget_unmatched``: then those bars are lifted
and those purged cases are left without a reporter, which is what removing
the key would do to them anyway.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, Select, Table, delete, func, select, update

from reporting.storage import schema
from reporting.storage.bar_list import NAME_AAD
from reporting.storage.crypto import SealedValueError, Sealer
from reporting.storage.database import utcnow
from reporting.storage.key_inventory import KeyInventory

BATCH = 200
#: Steps keyed by hashes that rekeying changes or deletes (short lists): always run whole, no progress kept.
_WHOLE = frozenset({"barred_users", "form_drafts"})
#: The reporter hash of a purged case whose reporter no key can find any more (``forget_unmatched``).
NO_REPORTER = "-"


@dataclass
class StepResult:
    name: str
    total: int = 0
    done: int = 0  # rows looked at in this run
    changed: int = 0  # rows written under the current key
    unmatched: int = 0  # rows left under an old key (their name is unknown) or unreadable


@dataclass
class RekeyResult:
    steps: list[StepResult] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)

    @property
    def unmatched(self) -> int:
        return sum(step.unmatched for step in self.steps)


Progress = Callable[[StepResult], None]


Step = Callable[[Connection, list[Any], StepResult, bool], None]


class Rekey:
    def __init__(self, engine: Engine, sealer: Sealer, inventory: KeyInventory, batch: int = BATCH) -> None:
        self.engine = engine
        self.sealer = sealer
        self.inventory = inventory
        self.batch = batch
        self._names: dict[str, str] | None = None

    def run(self, progress: Progress | None = None, forget_unmatched: bool = False) -> RekeyResult:
        """Every step, in batches; the old keys are retired only when nothing depends on them."""
        steps: tuple[tuple[str, Step], ...] = (
            ("reports", self._report_rows), ("followups", self._sealed_rows(schema.followups)),
            ("case_events", self._sealed_rows(schema.case_events)), ("barred_users", self._bar_rows),
            ("misuse_suspensions", self._suspension_rows), ("form_drafts", self._draft_rows))
        result = RekeyResult([self._run_step(name, step, progress, forget_unmatched) for name, step in steps])
        if result.unmatched == 0:
            result.retired = self.inventory.retire(self.sealer.primary_key_id)
        # A run that got to the end forgets its progress: the kept progress is for resuming an
        # interrupted run only. One that left rows unmatched must look at them again next time
        # (with --forget-unmatched, say) instead of resuming after them.
        with self.engine.begin() as connection:
            connection.execute(delete(schema.rekey_progress))
        return result

    # -- the loop ----------------------------------------------------------

    def _run_step(self, name: str, step: Step, progress: Progress | None, forget_unmatched: bool) -> StepResult:
        table, query, key = self._source(name)
        result = StepResult(name)
        with self.engine.connect() as connection:
            result.total = int(connection.execute(select(func.count()).select_from(query.subquery())).scalar() or 0)
        last = self._resume_point(name)
        while True:
            with self.engine.begin() as connection:
                batch_query = query.where(key > last).limit(self.batch)
                if self.engine.dialect.name in ("mysql", "mariadb"):
                    batch_query = batch_query.with_for_update()
                rows = list(connection.execute(batch_query).all())
                if not rows:
                    break
                step(connection, rows, result, forget_unmatched)
                last = rows[-1].row_key
                if name not in _WHOLE:
                    self._save_progress(connection, name, last)
            result.done += len(rows)
            if progress is not None:
                progress(result)
        return result

    @staticmethod
    def _source(name: str) -> tuple[Table, Select, Any]:
        """The table, the query of its rows in key order, and the key column."""
        reports = schema.reports
        if name == "reports":
            return reports, (select(reports.c.id.label("row_key"), reports.c.ref, reports.c.sealed,
                                    reports.c.reporter_hash).order_by(reports.c.id)), reports.c.id
        if name in ("followups", "case_events"):
            table = schema.followups if name == "followups" else schema.case_events
            return table, (select(table.c.id.label("row_key"), table.c.sealed, reports.c.ref)
                           .join(reports, reports.c.id == table.c.report_id)
                           .where(table.c.sealed.is_not(None)).order_by(table.c.id)), table.c.id
        if name == "misuse_suspensions":
            suspensions = schema.misuse_suspensions
            return suspensions, (select(suspensions.c.id.label("row_key"), suspensions.c.reporter_hash,
                                        reports.c.ref, reports.c.sealed)
                                 .outerjoin(reports, reports.c.id == suspensions.c.report_id)
                                 .order_by(suspensions.c.id)), suspensions.c.id
        if name == "form_drafts":
            drafts = schema.form_drafts
            return drafts, (select(drafts.c.token_hash.label("row_key"), drafts.c.body)
                            .order_by(drafts.c.token_hash)), drafts.c.token_hash
        bars = schema.barred_users
        return bars, (select(bars.c.username_hash.label("row_key"), bars.c.name_sealed)
                      .order_by(bars.c.username_hash)), bars.c.username_hash

    def _resume_point(self, name: str) -> Any:
        if name in _WHOLE:
            return ""
        progress = schema.rekey_progress
        with self.engine.connect() as connection:
            row = connection.execute(select(progress.c.key_id, progress.c.last_id)
                                     .where(progress.c.step == name)).first()
        if row is None or row.key_id != self.sealer.primary_key_id:
            return 0  # no run yet, or one towards another key: from the start
        return row.last_id

    def _save_progress(self, connection: Connection, name: str, last_id: int) -> None:
        progress = schema.rekey_progress
        values = {"key_id": self.sealer.primary_key_id, "last_id": last_id, "updated_at": utcnow()}
        if connection.execute(update(progress).where(progress.c.step == name).values(**values)).rowcount == 0:
            connection.execute(progress.insert().values(step=name, **values))

    # -- the steps -----------------------------------------------------------

    def _resealed(self, sealed: bytes, aad: str) -> tuple[bytes | None, Any]:
        """The value sealed under the current key (None if it already is), and the value; raises
        :class:`SealedValueError` when no configured key opens it."""
        value = self.sealer.open(sealed, aad)
        if Sealer.sealed_key_id(sealed) == self.sealer.primary_key_id:
            return None, value
        return self.sealer.seal(value, aad), value

    def _resealed_rows(self, rows: list[Any], result: StepResult) -> Iterator[tuple[Any, bytes | None, Any]]:
        """Each row sealed by its ref, with :meth:`_resealed`'s answer; a row no configured key opens is
        counted as unmatched (its key must stay) and left out."""
        for row in rows:
            try:
                sealed, value = self._resealed(row.sealed, row.ref)
            except SealedValueError:
                result.unmatched += 1
                continue
            yield row, sealed, value

    def _report_rows(self, connection: Connection, rows: list[Any], result: StepResult,
                     forget_unmatched: bool) -> None:
        reports = schema.reports
        for row, sealed, content in self._resealed_rows(rows, result):
            values: dict[str, Any] = {"sealed": sealed} if sealed is not None else {}
            own_name = (content.get("reporter") or {}).get("username")
            username = own_name or self._name_of(connection, row.reporter_hash)
            if username:
                if not own_name:  # purged before reporter names were kept: keep it from now on
                    values["sealed"] = self.sealer.seal({**content, "reporter": {"username": username}}, row.ref)
                if self.sealer.index_hash(username) != row.reporter_hash:
                    values["reporter_hash"] = self.sealer.index_hash(username)
            elif row.reporter_hash != NO_REPORTER:
                if forget_unmatched:
                    values["reporter_hash"] = NO_REPORTER
                else:
                    result.unmatched += 1  # its hash may be under an old key: keep that key
            if values:
                connection.execute(update(reports).where(reports.c.id == row.row_key).values(**values))
                result.changed += 1

    def _sealed_rows(self, table: Table) -> Step:
        def step(connection: Connection, rows: list[Any], result: StepResult, _forget: bool) -> None:
            for row, sealed, _value in self._resealed_rows(rows, result):
                if sealed is not None:
                    connection.execute(update(table).where(table.c.id == row.row_key).values(sealed=sealed))
                    result.changed += 1
        return step

    def _bar_rows(self, connection: Connection, rows: list[Any], result: StepResult, forget_unmatched: bool) -> None:
        bars = schema.barred_users
        for row in rows:
            name = None
            if row.name_sealed is not None:
                with contextlib.suppress(SealedValueError):
                    name = self.sealer.open(row.name_sealed, NAME_AAD)
            name = name or self._name_of(connection, row.row_key)
            if name is None:
                if forget_unmatched:
                    connection.execute(delete(bars).where(bars.c.username_hash == row.row_key))
                    result.changed += 1
                else:
                    result.unmatched += 1
                continue
            new_hash = self.sealer.index_hash(name)
            sealed_name = row.name_sealed
            if sealed_name is None or Sealer.sealed_key_id(sealed_name) != self.sealer.primary_key_id:
                sealed_name = self.sealer.seal(name, NAME_AAD)
            if new_hash == row.row_key and sealed_name is row.name_sealed:
                continue
            if new_hash != row.row_key and connection.execute(
                    select(bars.c.username_hash).where(bars.c.username_hash == new_hash)).first() is not None:
                connection.execute(delete(bars).where(bars.c.username_hash == row.row_key))  # barred twice
            else:
                connection.execute(update(bars).where(bars.c.username_hash == row.row_key)
                                   .values(username_hash=new_hash, name_sealed=sealed_name))
            result.changed += 1

    def _suspension_rows(self, connection: Connection, rows: list[Any], result: StepResult,
                         forget_unmatched: bool) -> None:
        """A suspension's reporter hash made again from its case's reporter (or a known name)."""
        suspensions = schema.misuse_suspensions
        for row in rows:
            name = None
            if row.sealed is not None:
                with contextlib.suppress(SealedValueError):
                    name = (self.sealer.open(row.sealed, row.ref).get("reporter") or {}).get("username")
            name = name or self._name_of(connection, row.reporter_hash)
            if name is None:
                if forget_unmatched:  # nobody can be matched to it once the key is gone: what removal would do
                    connection.execute(delete(suspensions).where(suspensions.c.id == row.row_key))
                    result.changed += 1
                else:
                    result.unmatched += 1
                continue
            new_hash = self.sealer.index_hash(name)
            if new_hash != row.reporter_hash:
                connection.execute(update(suspensions).where(suspensions.c.id == row.row_key)
                                   .values(reporter_hash=new_hash))
                result.changed += 1

    def _draft_rows(self, connection: Connection, rows: list[Any], result: StepResult, _forget: bool) -> None:
        """Drafts under an old key are deleted (see the module's docstring): their token's hash
        cannot be made again, so no one could take them back once the key is removed."""
        drafts = schema.form_drafts
        for row in rows:
            if Sealer.sealed_key_id(row.body) != self.sealer.primary_key_id:
                connection.execute(delete(drafts).where(drafts.c.token_hash == row.row_key))
                result.changed += 1

    # -- names for hashes that carry none ------------------------------------------

    def _name_of(self, connection: Connection, keyed_hash: str) -> str | None:
        return self._known_names(connection).get(keyed_hash)

    def _known_names(self, connection: Connection) -> dict[str, str]:
        """Every reporter and barred name the database holds, by its hash under each configured
        key. Read once per run (in the batch's own transaction: on SQLite another would wait
        for it), and only when a row has no name of its own."""
        if self._names is None:
            names: dict[str, str] = {}
            for name in self._every_name(connection):
                for keyed_hash in self.sealer.index_hashes(name):
                    names.setdefault(keyed_hash, name)
            self._names = names
        return self._names

    def _every_name(self, connection: Connection) -> Iterator[str]:
        reports, bars = schema.reports, schema.barred_users
        for row in connection.execute(select(reports.c.ref, reports.c.sealed)).all():
            try:
                name = (self.sealer.open(row.sealed, row.ref).get("reporter") or {}).get("username")
            except SealedValueError:
                continue
            if name:
                yield name
        sealed_names = connection.execute(select(bars.c.name_sealed).where(bars.c.name_sealed.is_not(None)))
        for sealed in sealed_names.scalars().all():
            try:
                yield self.sealer.open(sealed, NAME_AAD)
            except SealedValueError:
                continue
