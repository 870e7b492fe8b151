"""Directories and files only the tool's own account may read (mode 0700 and 0600).

Reports are encrypted, but the SQLite database, the Maildir and the keys
under ``instance/`` still say who reported when, and the keys open the rest:
on a shared machine nobody else may even list them.
"""
from __future__ import annotations

import os
from pathlib import Path


def private_dir(path: Path) -> Path:
    """Create ``path`` and any missing parents with mode 0700 (existing ones are left alone)."""
    missing = []
    for candidate in (path, *path.parents):
        if candidate.exists():
            break
        missing.append(candidate)
    for directory in reversed(missing):
        directory.mkdir(mode=0o700, exist_ok=True)
        os.chmod(directory, 0o700)  # mkdir's mode is masked by the umask
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty with mode 0600 if it does not exist (its directory made private)."""
    private_dir(path.parent)
    descriptor = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(descriptor)
    return path
