"""Open login sessions: the server-side half of a session cookie.

The cookie is signed, so nobody can forge one, but a copied cookie would
work until it expires. Each login therefore opens a record here, every
request checks it, and logging out deletes it; Trust & Safety can end every
session of a user (``flask --app app reporting end-sessions``). Only keyed
hashes are stored: the table names neither sessions nor users.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BindParameter, Connection, Engine, bindparam, delete, select, update

from reporting.storage import schema
from reporting.storage.crypto import Sealer
from reporting.storage.database import database_utcnow, utcnow
from reporting.storage.prepared import PreparedRead

_sessions = schema.login_sessions

# Read on every request (revocation must show at once), so built once and run as a PreparedRead.
_ids: BindParameter[str] = bindparam("ids", expanding=True)
_STATE = select(_sessions.c.misuse_epoch, _sessions.c.clear_epoch).where(
    _sessions.c.id_hash.in_(_ids), _sessions.c.expires_at > database_utcnow())

#: Session ids whose hashes one process keeps (a session id is in its cookie anyway).
_KEPT_ID_HASHES = 4096


@dataclass(frozen=True)
class OpenSession:
    """An open session as the request's check found it.

    ``misuse_epoch`` counts the unfounded declines of the user's reports since the session opened
    (:func:`flag_sessions_in`); ``standing_known_clear`` says that the user's misuse standing was
    found clear at that count (:meth:`LoginSessions.note_clear`), so nothing can have changed it for
    the worse since: declines are the only thing that make a standing worse. Pages then show no
    misuse notice without asking; submitting always asks (the decision is made there).
    """

    misuse_epoch: int
    standing_known_clear: bool


class LoginSessions:
    def __init__(self, engine: Engine, sealer: Sealer) -> None:
        self.engine = engine
        self.sealer = sealer
        self._state = PreparedRead(engine, _STATE)  # on every request
        #: Session id -> its hashes under every key, for the check on every request (an HMAC per
        #: key each time otherwise). Bounded: emptied when full.
        self._id_hashes: dict[str, list[str]] = {}

    def open(self, username: str, expires_at: datetime, now: datetime | None = None) -> str:
        """Record a new session of ``username``; return its id (kept in the signed cookie)."""
        session_id = secrets.token_urlsafe(32)
        with self.engine.begin() as connection:
            connection.execute(_sessions.insert().values(
                id_hash=self.sealer.index_hash(session_id), user_hash=self.sealer.index_hash(username),
                created_at=now or utcnow(), expires_at=expires_at))
        return session_id

    def state(self, session_id: str) -> OpenSession | None:
        """The session if it is still open (not logged out, ended or expired), else None."""
        hashes = self._id_hashes.get(session_id)
        if hashes is None:
            if len(self._id_hashes) >= _KEPT_ID_HASHES:
                self._id_hashes.clear()
            hashes = self._id_hashes[session_id] = self.sealer.index_hashes(session_id)
        row = self._state.first({"ids": hashes})
        if row is None:
            return None
        epoch, clear_epoch = row
        return OpenSession(misuse_epoch=epoch, standing_known_clear=clear_epoch == epoch)

    def note_clear(self, session_id: str, epoch: int) -> None:
        """The user's misuse standing was found clear at ``epoch``: later pages need not ask until a
        decline raises the epoch (one that happened meanwhile already did: then this changes nothing)."""
        with self.engine.begin() as connection:
            connection.execute(update(_sessions).where(
                _sessions.c.id_hash.in_(self.sealer.index_hashes(session_id)),
                _sessions.c.misuse_epoch == epoch).values(clear_epoch=epoch))

    def close(self, session_id: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(_sessions).where(_sessions.c.id_hash.in_(self.sealer.index_hashes(session_id))))

    def close_all_of(self, username: str) -> int:
        """End every session of ``username`` (canonical spelling); return how many were open."""
        with self.engine.begin() as connection:
            return int(connection.execute(delete(_sessions).where(
                _sessions.c.user_hash.in_(self.sealer.index_hashes(username)))).rowcount)

    def purge_expired(self, now: datetime | None = None) -> int:
        with self.engine.begin() as connection:
            return int(connection.execute(delete(_sessions).where(_sessions.c.expires_at <= (now or utcnow())))
                       .rowcount)


def flag_sessions_in(connection: Connection, user_hashes: list[str]) -> None:
    """A report of the user (``user_hashes``: their name's hashes under every key) was declined as
    manifestly unfounded: their open sessions look at their misuse standing again (inside the
    decline's own transaction, so no page can miss it)."""
    connection.execute(update(_sessions).where(_sessions.c.user_hash.in_(user_hashes))
                       .values(misuse_epoch=_sessions.c.misuse_epoch + 1))
