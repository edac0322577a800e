"""Every flag the docs show with a `qa` command is one that command takes: docs and the CLI
cannot drift apart (`--k` was documented while the CLI refused it)."""
from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from conftest import ROOT
from qa.faces.cli import app

# "qa search --limit 3 x" in docs/usage.md shows the error an unknown flag gets
SHOWN_AS_WRONG = {("search", "--limit")}
_COMMAND = re.compile(r"\bqa ([a-z]+)((?: +[^\s|`]+)*)")


def _documented() -> set[tuple[str, str]]:
    found = set()
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for line in path.read_text(encoding="utf-8").splitlines():
            for command, rest in _COMMAND.findall(line):
                found |= {(command, flag) for flag in re.findall(r"(?<![\w-])--[a-z][a-z-]*", rest)}
    return found - SHOWN_AS_WRONG - {(c, "--help") for c, _ in found}


def test_the_docs_name_flags_at_all():
    assert len(_documented()) >= 15


@pytest.mark.parametrize("command, flag", sorted(_documented()))
def test_every_documented_flag_is_taken_by_its_command(command, flag):
    result = CliRunner().invoke(app, [command, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert re.search(rf"(?<![\w-]){re.escape(flag)}\b", result.output), f"qa {command} does not take {flag}"
