"""Every flag the docs show with a `qa` command is one that command takes: docs and the CLI
cannot drift apart (`--k` was documented while the CLI refused it). Short flags (`-k`) count, and
a line naming several commands (`qa ask|search|chat --as-of`) names the flag for each of them."""
from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from conftest import ROOT
from qa.faces.cli import app

# "qa search --limit 3 x" in docs/usage.md shows the error an unknown flag gets
SHOWN_AS_WRONG = {("search", "--limit")}
_COMMAND = re.compile(r"\bqa ((?:[a-z]+\|)*[a-z]+)((?: +[^\s|`]+)*)")
_FLAG = re.compile(r"(?<![\w-])--?[a-z][a-z-]*")


def _documented() -> set[tuple[str, str]]:
    found = set()
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for line in path.read_text(encoding="utf-8").splitlines():
            for commands, rest in _COMMAND.findall(line):
                found |= {(command, flag) for command in commands.split("|") for flag in _FLAG.findall(rest)}
    return found - SHOWN_AS_WRONG - {(c, "--help") for c, _ in found}


def test_the_docs_name_flags_at_all():
    documented = _documented()
    assert len(documented) >= 15
    assert {("search", "-k"), ("chat", "--as-of")} <= documented  # a short flag, a line naming three commands


@pytest.mark.parametrize("command, flag", sorted(_documented()))
def test_every_documented_flag_is_taken_by_its_command(command, flag):
    result = CliRunner().invoke(app, [command, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert re.search(rf"(?<![\w-]){re.escape(flag)}\b", result.output), f"qa {command} does not take {flag}"
    taken = {opt for param in typer.main.get_command(app).commands[command].params  # type: ignore[attr-defined]
             for opt in (*param.opts, *param.secondary_opts)}
    assert flag in taken, f"qa {command} does not take {flag}"
