"""``make bench``: every benchmark, each figure on its own line as ``BENCH <name> <value>``.

A benchmark module exposes ``run() -> Iterable[tuple[str, float | str]]``.
Ratios are measured side by side in the same run, so they compare like with
like on whatever machine runs them.
"""
from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

# Benchmarks measure this machine only: the tests' no-internet guard applies
# here and, through PYTHONPATH, in every process a benchmark starts.
from tests.netguard import sitecustomize as _netguard  # noqa: F401

_GUARD_DIR = str(Path(__file__).resolve().parent.parent / "tests" / "netguard")
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [_GUARD_DIR, os.environ.get("PYTHONPATH")]))

MODULES = ["bench.http", "bench.evidence", "bench.delivery", "bench.gadget", "bench.status_sync"]


def main() -> int:
    failed = False
    for name in MODULES:
        module = importlib.import_module(name)
        try:
            for figure, value in module.run():
                print(f"BENCH {figure} {value}", flush=True)
        except Exception as error:  # report and go on with the other benchmarks
            print(f"benchmark {name} failed: {error!r}", file=sys.stderr)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
