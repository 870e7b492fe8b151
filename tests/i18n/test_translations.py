"""Checks for translators, run on the real i18n/ directory and on deliberately broken fixture directories."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.i18n_checks import canonical_json, check_messages_dir, fix_messages_dir, main
from tests.i18n.conftest import FIXTURES, GOOD_MESSAGES

REPOSITORY = Path(__file__).resolve().parents[2]
REAL_MESSAGES = REPOSITORY / "i18n"


def test_real_messages_have_no_problems() -> None:
    assert check_messages_dir(REAL_MESSAGES) == []


def test_good_fixture_has_no_problems() -> None:
    assert check_messages_dir(GOOD_MESSAGES) == []


# Each broken fixture directory -> the beginnings of exactly the problems it must produce.
BROKEN_FIXTURES: dict[str, list[str]] = {
    "undocumented": ["qqq.json: reporting-z: is not documented"],
    "stale-documentation": ["qqq.json: reporting-gone: documents a key that en.json does not have"],
    "missing-qqq": ["qqq.json: is missing"],
    "bad-prefix": ["en.json: other-key: keys must start with 'reporting-'"],
    "extra-key": ["de.json: reporting-nope: is not in en.json"],
    "unknown-parameter": ["de.json: reporting-x: uses parameter $2, which the English message does not have"],
    "too-many-plural-forms": ["ja.json: reporting-y: PLURAL has 2 forms but ja has only 1 plural categories (other)"],
    "invalid-json": ["de.json: cannot be parsed as JSON: Expecting property name enclosed in double quotes"],
    "duplicate-key": ["de.json: cannot be parsed as JSON: duplicate key 'reporting-x'"],
    "no-authors": ["de.json: @metadata.authors must be a non-empty list of names"],
    "no-metadata": ["de.json: has no @metadata object"],
    "unsorted": ["de.json: keys are not in order: @metadata first, then keys sorted"],
    "space-indent": ["de.json: is not formatted with one tab of indentation per level"],
    "no-final-newline": ["de.json: must end with exactly one newline"],
    "unsafe-html": [
        "de.json: reporting-link: HTML: link target 'javascript:alert(1)' is neither https://, mailto: an address, nor relative",
        "de.json: reporting-link: HTML: attribute 'onclick' on <a> is not allowed",
        "de.json: reporting-link: HTML: tag <script> is not allowed",
        "de.json: reporting-link: HTML: tag </script> is not allowed",
    ],
    "undeclared-html": ["en.json: reporting-bold: contains an HTML tag but qqq.json does not mark the message as HTML"],
    "translated-notranslate": ["de.json: reporting-desk-x: is always shown in English (qqq.json says {{notranslate}})"],
    "malformed-plural": ["de.json: reporting-y: has {{ or }} that is not a complete PLURAL or GENDER (it would show literally)"],
}


@pytest.mark.parametrize(("fixture", "expected"), sorted(BROKEN_FIXTURES.items()))
def test_broken_fixture_reports_exactly_its_problem(fixture: str, expected: list[str]) -> None:
    problems = check_messages_dir(FIXTURES / fixture)
    assert len(problems) == len(expected), problems
    for problem, start in zip(problems, expected):
        assert problem.startswith(start)


def test_every_fixture_directory_is_covered() -> None:
    directories = {path.name for path in FIXTURES.iterdir() if path.is_dir()}
    assert directories == set(BROKEN_FIXTURES) | {"good"}


@pytest.mark.parametrize("fixture", ["unsorted", "space-indent", "no-final-newline"])
def test_fix_rewrites_files_into_canonical_form(tmp_path: Path, fixture: str) -> None:
    directory = tmp_path / fixture
    shutil.copytree(FIXTURES / fixture, directory)
    assert [path.name for path in fix_messages_dir(directory)] == ["de.json"]
    assert check_messages_dir(directory) == []
    assert fix_messages_dir(directory) == []


def test_fix_leaves_unparseable_files_alone(tmp_path: Path) -> None:
    directory = tmp_path / "invalid-json"
    shutil.copytree(FIXTURES / "invalid-json", directory)
    before = (directory / "de.json").read_bytes()
    assert fix_messages_dir(directory) == []
    assert (directory / "de.json").read_bytes() == before


def test_canonical_form() -> None:
    data = {"reporting-b": "B", "@metadata": {"authors": ["Ä"]}, "reporting-a": "A"}
    assert canonical_json(data) == (
        '{\n\t"@metadata": {\n\t\t"authors": [\n\t\t\t"Ä"\n\t\t]\n\t},\n'
        '\t"reporting-a": "A",\n\t"reporting-b": "B"\n}\n'
    )


def test_cli_reports_problems_and_fixes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = tmp_path / "unsorted"
    shutil.copytree(FIXTURES / "unsorted", directory)
    assert main([str(directory)]) == 1
    assert "keys are not in order" in capsys.readouterr().out
    assert main(["--fix", str(directory)]) == 0
    assert "rewrote" in capsys.readouterr().out
    assert main([]) == 2


def test_cli_runs_as_a_module() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "devtools.i18n_checks", str(GOOD_MESSAGES)],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
