"""Report forms kept while their reporter logs in again.

A reporter's session can end while they write (the login lifetime passed, the
cookie was dropped). Sending the form then must not lose a word: the form is
kept here, sealed (:mod:`reporting.storage.crypto`), under a random token the
browser keeps in its session cookie, and given back once (then deleted) after
the login. Rows live :data:`KEEP` at most; the worker's housekeeping purges
the rest. Nothing here names the reporter: the token and the user are stored
as keyed hashes only.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, select

from reporting.storage import schema
from reporting.storage.crypto import SealedValueError, Sealer
from reporting.storage.database import utcnow

KEEP = timedelta(hours=2)

_drafts = schema.form_drafts
_TOKEN_PURPOSE = "form-draft"


class FormDrafts:
    def __init__(self, engine: Engine, sealer: Sealer) -> None:
        self.engine = engine
        self.sealer = sealer

    def keep(self, fields: dict[str, Any], username: str | None, now: datetime | None = None) -> str:
        """Store ``fields`` (the form's values) for :data:`KEEP`; return the token that takes them back.

        ``username``: whose session ended, if the request still said so; only they may take it.
        """
        token = secrets.token_urlsafe(32)
        token_hash = self.sealer.keyed_hashes(_TOKEN_PURPOSE, token)[0]
        now = now or utcnow()
        with self.engine.begin() as connection:
            connection.execute(_drafts.insert().values(
                token_hash=token_hash,
                user_hash=self.sealer.index_hash(username) if username else None,
                body=self.sealer.seal(fields, _ref(token_hash)),
                expires_at=now + KEEP))
        return token

    def take(self, token: str, username: str, now: datetime | None = None) -> dict[str, Any] | None:
        """The fields kept under ``token`` for ``username``, once: the row is deleted whoever asks.

        None when there is none, it expired, it cannot be opened, or it was kept for someone else.
        """
        hashes = self.sealer.keyed_hashes(_TOKEN_PURPOSE, token)
        with self.engine.begin() as connection:
            row = connection.execute(select(_drafts).where(_drafts.c.token_hash.in_(hashes)).limit(1)).first()
            if row is None:
                return None
            connection.execute(delete(_drafts).where(_drafts.c.token_hash == row.token_hash))
        if row.expires_at <= (now or utcnow()):
            return None
        if row.user_hash is not None and row.user_hash not in self.sealer.index_hashes(username):
            return None
        try:
            fields = self.sealer.open(row.body, _ref(row.token_hash))
        except SealedValueError:
            return None
        return fields if isinstance(fields, dict) else None

    def purge_expired(self, now: datetime | None = None) -> int:
        """Delete the drafts whose time is over; return how many."""
        with self.engine.begin() as connection:
            return connection.execute(delete(_drafts).where(_drafts.c.expires_at <= (now or utcnow()))).rowcount


def _ref(token_hash: str) -> str:
    """The associated data a draft is sealed with: its row, so a body copied elsewhere fails to open."""
    return f"form-draft:{token_hash}"
