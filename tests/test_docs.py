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
