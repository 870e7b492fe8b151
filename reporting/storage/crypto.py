"""Encryption of report bodies at rest (AES-256-GCM).

What a reporter typed (description, reported users, evidence, resolved
facts) never reaches the database in clear text: ToolsDB is shared
infrastructure and its backups outlive any single tool.

Each sealed value is bound to its report reference through the AEAD's
associated data, so a ciphertext copied onto another row fails to open
instead of showing one report's content under another reference.

Key rotation: new values are sealed with the first key; :class:`Sealer`
also opens values sealed with any of the old keys, identified by a short
key id stored in the value. Keyed hashes carry no key id (they are compared,
never opened): look-ups try every configured key, and ``reporting rekey``
(:mod:`reporting.storage.rekey`) moves both to the current key so that an old
one can be removed.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = b"\x01"
_NONCE_BYTES = 12


class InvalidKeyError(ValueError):
    """An encryption key is malformed."""


class SealedValueError(ValueError):
    """A sealed value cannot be opened: wrong key, wrong reference or tampering."""


def generate_key() -> str:
    """A fresh key in the configuration's format (URL-safe base64 of 32 bytes)."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")


def decode_key(text: str) -> bytes:
    """Decode a configured key, naming the problem precisely when it is wrong.

    Strict: a lenient decoder drops stray characters silently, so a mangled
    key would still "work" as some other, weaker key. A key whose bytes are
    all one value (all zeros, say) is a placeholder, not a secret.
    """
    stripped = text.strip()
    try:
        padded = stripped.encode("ascii") + b"=" * (-len(stripped) % 4)
        raw = base64.b64decode(padded, altchars=b"-_", validate=True)
    except (ValueError, UnicodeEncodeError):
        raise InvalidKeyError("not URL-safe base64") from None
    if len(raw) != 32:
        raise InvalidKeyError(f"must decode to 32 bytes, got {len(raw)}")
    if len(set(raw)) < 8:
        raise InvalidKeyError("is not random (too few distinct bytes); generate one with os.urandom(32)")
    return raw


def _key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"key-id:" + key).digest()[:4]


class Sealer:
    """Seals and opens JSON values with the configured keys."""

    def __init__(self, key: str, old_keys: list[str] | tuple[str, ...] = ()) -> None:
        self._primary = decode_key(key)
        self._keys = {_key_id(k): AESGCM(k) for k in [self._primary, *map(decode_key, old_keys)]}
        self._primary_id = _key_id(self._primary)
        # Separate subkeys for lookup hashes, so a hash reveals nothing about
        # the encryption keys; one per key so lookups survive a rotation.
        self._all_keys = [self._primary, *map(decode_key, old_keys)]
        self._index_keys = [hmac.new(k, b"reporter-index", hashlib.sha256).digest() for k in self._all_keys]

    @property
    def primary_key_id(self) -> str:
        """The id (8 hex digits) of the key new values are sealed and hashed with."""
        return self._primary_id.hex()

    @property
    def key_ids(self) -> list[str]:
        """The ids of every configured key, the current one first."""
        return [key_id.hex() for key_id in self._keys]

    @staticmethod
    def sealed_key_id(sealed: bytes) -> str | None:
        """The id of the key ``sealed`` was sealed with, read without opening it; None if malformed."""
        if len(sealed) < 5 or sealed[:1] != _VERSION:
            return None
        return sealed[1:5].hex()

    def seal(self, value: Any, ref: str) -> bytes:
        """Encrypt ``value`` (anything JSON can hold) for the report ``ref``."""
        plaintext = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        nonce = os.urandom(_NONCE_BYTES)
        ciphertext = self._keys[self._primary_id].encrypt(nonce, plaintext, ref.encode("utf-8"))
        return _VERSION + self._primary_id + nonce + ciphertext

    def open(self, sealed: bytes, ref: str) -> Any:
        """Decrypt a value sealed for ``ref``; raises :class:`SealedValueError`."""
        if len(sealed) < 1 + 4 + _NONCE_BYTES + 16 or sealed[:1] != _VERSION:
            raise SealedValueError("unknown format")
        aead = self._keys.get(sealed[1:5])
        if aead is None:
            raise SealedValueError("sealed with a key that is not configured")
        nonce = sealed[5:5 + _NONCE_BYTES]
        try:
            plaintext = aead.decrypt(nonce, sealed[5 + _NONCE_BYTES:], ref.encode("utf-8"))
        except Exception:  # cryptography raises InvalidTag; never echo details
            raise SealedValueError("authentication failed") from None
        return json.loads(plaintext.decode("utf-8"))

    def index_hash(self, value: str) -> str:
        """A keyed hash for looking rows up by a personal value (the reporter's
        name) without storing that value in clear text."""
        return self.index_hashes(value)[0]

    def index_hashes(self, value: str) -> list[str]:
        """The hashes of ``value`` under every configured key, newest first:
        rows written before a key rotation are still found."""
        return [hmac.new(k, value.encode("utf-8"), hashlib.sha256).hexdigest() for k in self._index_keys]

    def keyed_hashes(self, purpose: str, value: str) -> list[str]:
        """Keyed hashes of ``value`` under a subkey of ``purpose``'s own, newest key first.

        For values that must be compared but never stored or shown, such as a
        fingerprint of what a reporter typed: a plain hash of a short text can
        be reversed by trying candidates, a keyed one cannot without the key.
        Each purpose has its own subkey, so equal values hash differently in
        different tables.
        """
        return [hmac.new(hmac.new(k, b"purpose:" + purpose.encode("utf-8"), hashlib.sha256).digest(),
                         value.encode("utf-8"), hashlib.sha256).hexdigest() for k in self._all_keys]
