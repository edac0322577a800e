"""The documentation a newcomer reads: every relative link in README.md and docs/ points at a file
of the repository, and nothing sends the reader outside it."""
from __future__ import annotations

import re
from pathlib import Path

from conftest import ROOT

LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def _pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "qa" / "models" / "README.md"]


def test_every_relative_link_resolves_to_a_file_of_the_repository():
    broken = []
    for page in _pages():
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue  # a URL
            resolved = (page.parent / target).resolve()
            if not resolved.exists() or ROOT.resolve() not in resolved.parents:
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert not broken, broken


def test_the_readme_is_a_front_door():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 150
    first_screen = "\n".join(text.splitlines()[:40])
    assert "make serve" in first_screen and "http://127.0.0.1:7860" in first_screen


def test_no_page_points_at_design_notes_outside_the_repository():
    for page in _pages():
        text = page.read_text(encoding="utf-8")
        assert "shared/DESIGN" not in text and "shared/MODELS" not in text and "shared/SCALE" not in text, page


# a repository path as code and docs name it: qa/..., bench/..., tests/..., docs/..., requirements/...
NAMED_PATH = re.compile(r"(?<![\w./-])((?:qa|bench|tests|docs|requirements|seeds|\.ci)/[\w./-]*\w)")
GENERATED = ("bench/.cache",)  # made by the benchmarks, never committed


def test_every_file_a_comment_or_doc_names_exists():
    sources = [*_pages(), *sorted((ROOT / "qa").rglob("*.py")), *sorted((ROOT / "bench").glob("*.py")),
               *sorted((ROOT / "tests").glob("*.py"))]
    missing = sorted({f"{source.relative_to(ROOT)} names {name}"
                      for source in sources for name in NAMED_PATH.findall(source.read_text(encoding="utf-8"))
                      if not (ROOT / name).exists() and not name.startswith(GENERATED)})
    assert not missing, missing
