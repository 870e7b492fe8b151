"""``python -m reporting init-instance``: prepare the embedded defaults.

Runs before the app can start (the app needs the keys it creates), which
is why it is not a ``flask`` command.
"""
from __future__ import annotations

import sys
from pathlib import Path

from .cli import write_instance_keys


def main(argv: list[str]) -> int:
    if argv[:1] != ["init-instance"]:
        print("usage: python -m reporting init-instance [INSTANCE_DIR]", file=sys.stderr)
        return 2
    instance = Path(argv[1] if len(argv) > 1 else Path(__file__).resolve().parent.parent / "instance")
    for name in write_instance_keys(instance):
        print(f"generated {instance / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
