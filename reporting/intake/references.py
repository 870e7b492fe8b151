"""Case references: what a reporter keeps to find their report again."""
from __future__ import annotations

import re
import secrets

_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32
_REFERENCE_PATTERN = re.compile(r"^IR-[0-9A-HJKMNP-TV-Z]{4}(?:-[0-9A-HJKMNP-TV-Z]{4}){3}$")


def new_reference() -> str:
    """A case reference with 80 random bits, e.g. ``IR-7KQ2-M9XD-4HPA-3W2T``.

    Random, not sequential: knowing one reference tells nothing about any
    other, and guessing one is hopeless. Crockford's alphabet avoids I/L/O/U
    so a reference read over the phone survives.
    """
    value = secrets.randbits(80)
    chars = []
    for _ in range(16):
        value, digit = divmod(value, 32)
        chars.append(_REFERENCE_ALPHABET[digit])
    text = "".join(chars)
    return "IR-" + "-".join(text[i:i + 4] for i in range(0, 16, 4))


def looks_like_reference(text: str) -> bool:
    """Cheap syntax check before touching the database."""
    return bool(_REFERENCE_PATTERN.match(text))
