"""Open login sessions: the server-side half of a session cookie.

The cookie is signed, so nobody can forge one, but a copied cookie would
work until it expires. Each login therefore opens a record here, every
request checks it, and logging out deletes it; Trust & Safety can end every
session of a user (``flask --app app reporting end-sessions``). Only keyed
hashes are stored: the table names neither sessions nor users.
"""
from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import BindParameter, Engine, bindparam, delete, select

from reporting.storage import schema
from reporting.storage.crypto import Sealer
from reporting.storage.database import utcnow
from reporting.storage.prepared import PreparedRead

_sessions = schema.login_sessions

# Read on every request (revocation must show at once), so built once and run as a PreparedRead.
_ids: BindParameter[str] = bindparam("ids", expanding=True)
_EXPIRY = select(_sessions.c.expires_at).where(_sessions.c.id_hash.in_(_ids))


class LoginSessions:
    def __init__(self, engine: Engine, sealer: Sealer) -> None:
        self.engine = engine
        self.sealer = sealer
        self._expiry = PreparedRead(engine, _EXPIRY)  # on every request

    def open(self, username: str, expires_at: datetime, now: datetime | None = None) -> str:
        """Record a new session of ``username``; return its id (kept in the signed cookie)."""
        session_id = secrets.token_urlsafe(32)
        with self.engine.begin() as connection:
            connection.execute(_sessions.insert().values(
                id_hash=self.sealer.index_hash(session_id), user_hash=self.sealer.index_hash(username),
                created_at=now or utcnow(), expires_at=expires_at))
        return session_id

    def is_open(self, session_id: str, now: datetime | None = None) -> bool:
        row = self._expiry.first({"ids": self.sealer.index_hashes(session_id)})
        return row is not None and row[0] > (now or utcnow())

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
