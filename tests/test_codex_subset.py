"""The Codex subset (``python -m devtools.codex_subset``) holds every Codex class the pages use.

Templates are found afresh on every run, so a new template that uses a Codex class the subset lacks
fails here, with the command that regenerates the subset.
"""
from __future__ import annotations

from devtools import codex_subset


def test_every_codex_class_the_pages_use_is_in_the_subset() -> None:
    subset = codex_subset.defined_classes(codex_subset.SUBSET_CSS.read_text(encoding="utf-8"))
    names, prefixes = codex_subset.used_classes(codex_subset.source_files())
    # The classes Codex styles for what the templates use (a class Codex styles only together with
    # one the pages never use, e.g. `.cdx-label--disabled .cdx-label__description`, needs no rule).
    needed = codex_subset.defined_classes(
        codex_subset.build_subset(codex_subset.FULL_CSS.read_text(encoding="utf-8"), names, prefixes))
    missing = sorted(needed - subset)
    assert not missing, (f"static/codex/codex-subset.css lacks Codex classes the pages use: {', '.join(missing)}. "
                         f"Run `{codex_subset.COMMAND}` and commit the result.")


def test_the_subset_is_what_the_command_builds() -> None:
    subset, theme = codex_subset.build()
    assert codex_subset.SUBSET_CSS.read_text(encoding="utf-8") == subset, f"stale: run `{codex_subset.COMMAND}`"
    assert codex_subset.SUBSET_THEME.read_text(encoding="utf-8") == theme, f"stale: run `{codex_subset.COMMAND}`"


def test_a_new_template_with_a_new_codex_class_is_found(tmp_path) -> None:
    (tmp_path / "reporting" / "templates").mkdir(parents=True)
    (tmp_path / "static").mkdir()
    (tmp_path / "reporting" / "templates" / "queue.html").write_text(
        '<div class="cdx-card"><span class="cdx-message--{{ kind }}"></span></div>', encoding="utf-8")
    names, prefixes = codex_subset.used_classes(codex_subset.source_files(tmp_path))
    assert "cdx-card" in names and "cdx-message--" in prefixes
    assert codex_subset.is_used("cdx-message--error", names, prefixes)


def test_rules_keep_only_used_selectors() -> None:
    css = ".cdx-a,.cdx-b{color:red}@media (max-width:1px){.cdx-b .cdx-c{x:y}.cdx-a:not(.cdx-b, .x){z:1}}"
    subset = codex_subset.build_subset(css, frozenset({"cdx-a"}), frozenset())
    assert subset.endswith(".cdx-a{color:red}\n")
    subset = codex_subset.build_subset(css, frozenset({"cdx-a", "cdx-b"}), frozenset())
    assert ".cdx-a,.cdx-b{color:red}@media (max-width:1px){.cdx-a:not(.cdx-b, .x){z:1}}" in subset
