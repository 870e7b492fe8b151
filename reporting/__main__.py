"""Commands that must work without a configured app.

``python -m reporting init-instance [DIR]`` prepares the embedded defaults
(the app needs the keys it creates, so it cannot be a ``flask`` command);
``python -m reporting config-doc [--update README.md]`` prints (or rewrites in
place) the README's configuration table.
"""
from __future__ import annotations

import sys
from pathlib import Path

from reporting.cli import write_instance_keys


def main(argv: list[str]) -> int:
    if argv[:1] == ["config-doc"]:
        from reporting import create_app  # noqa: F401  (imports every module that declares settings)
        from reporting.config import readme_table

        if argv[1:2] == ["--update"]:
            path = Path(argv[2] if len(argv) > 2 else "README.md")
            lines = path.read_text(encoding="utf-8").split("\n")
            start = next(i for i, line in enumerate(lines) if line.startswith("| envvar |"))
            end = next(i for i in range(start, len(lines)) if not lines[i].startswith("|"))
            lines[start:end] = readme_table().split("\n")
            path.write_text("\n".join(lines), encoding="utf-8")
            return 0
        print(readme_table())
        return 0
    if argv[:1] != ["init-instance"]:
        print("usage: python -m reporting init-instance [INSTANCE_DIR] | config-doc", file=sys.stderr)
        return 2
    instance = Path(argv[1] if len(argv) > 1 else Path(__file__).resolve().parent.parent / "instance")
    for name in write_instance_keys(instance):
        print(f"generated {instance / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
