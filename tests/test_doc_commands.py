"""The commands the README and docs/usage.md show run, and say what the page says they say: each
`qa ...` and `curl localhost:7860/...` line of their shell blocks is run (the CLI in-process on the
seeds' index, curl's requests against a real server); a line that needs something these tests do
not start (PostgreSQL, an LLM server, Ray, a file of the reader's own, an MCP client) is named in
NEEDS_A_SERVICE with the reason, so a new command cannot be left unchecked."""
from __future__ import annotations

import json
import re
import shlex
import urllib.error
import urllib.request

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow
PAGES = [ROOT / "README.md", ROOT / "docs" / "usage.md"]
BLOCK = re.compile(r"```[a-z]*\n(.*?)```", re.S)
# (a substring of the command, why no test runs it here)
NEEDS_A_SERVICE = [
    ("make ", "installs or runs the whole suite (tests/test_install.py runs the install)"),
    ("--batch", "reads the reader's own questions file"), ("qa chat", "interactive"),
    ("qa ingest ~/", "the reader's own folder"), ("qa watch", "runs until Ctrl+C"), ("qa mcp", "an MCP client's"),
    ("qa serve", "a server (tests/test_server.py starts one)"), ("mine/", "the reader's own files"),
    ("up/", "the reader's own files"), ("broken.pdf", "the reader's own files"),
    ("postgresql://", "PostgreSQL"), ("--ray-address", "Ray"), ("QA_LLM", "an LLM server"), ("/v1/", "an LLM client"),
    ("garbage", "a store broken by hand"), ("DELETE", "changes the shared server's corpus"),
    ("qa delete", "changes the shared index"), ("qa ingest harbour", "the reader's own folder"),
    (" mine", "the reader's own folder"),
    ("limit=2&offset=3", "the reader's own uploads"), ("doc_ids", "the reader's own uploads"),
    ("/api/verify", "offsets of an earlier answer"), ("qa verify", "an earlier answer's file"),
    ("-F file=", "the reader's own files"),
]


def _commands() -> list[tuple[str, str, str]]:
    """(page, command, the output line shown right after it, or "")."""
    found = []
    for page in PAGES:
        for block in BLOCK.findall(page.read_text(encoding="utf-8")):
            lines = block.replace("\\\n", " ").splitlines()
            for i, line in enumerate(lines):
                command = line.removeprefix("$ ").strip()
                if not re.match(r"(\.venv/bin/)?qa |curl |make |QA_", command):
                    continue
                shown = lines[i + 1].strip() if i + 1 < len(lines) and not lines[i + 1].startswith("$") else ""
                found.append((page.name, command, shown))
    return found


def _needs(command: str) -> str | None:
    return next((why for part, why in NEEDS_A_SERVICE if part in command), None)


def _without_comment(command: str) -> str:
    """The command as the shell runs it: no comment, no redirection of its output."""
    return re.sub(r"\s+>\s*\S+$", "", re.sub(r"\s+#.*$", "", command))


COMMANDS = _commands()


@pytest.fixture(scope="module")
def seeded_store(real_engine):
    return real_engine.settings.store.store_dir


def test_the_pages_show_commands_and_each_is_run_or_named():
    assert len(COMMANDS) >= 20
    run = [c for _, c, _ in COMMANDS if not _needs(c)]
    assert len(run) >= 10, run


QA_LINES = [c for c in COMMANDS if c[1].split()[0].endswith("qa") and not _needs(c[1])]
CURL_LINES = [c for c in COMMANDS if c[1].startswith("curl") and not _needs(c[1])]


def _name(value) -> str:
    return value[:60] if isinstance(value, str) else ""


@pytest.mark.parametrize("page,command,shown", QA_LINES, ids=_name)
def test_a_qa_command_runs_as_shown(cli, seeded_store, monkeypatch, page, command, shown):
    monkeypatch.chdir(ROOT)
    args = shlex.split(_without_comment(command))[1:]
    if "--store" not in args:
        args += ["--store", str(seeded_store)]
    result = cli(*args)
    if shown.startswith("error:"):
        expected = re.sub(r"\s+\(exit code \d+\)$", "", shown)
        said = re.sub(r"\(see .*?qa ", "(see qa ", result.err.strip())  # the program's name as a shell runs it
        assert result.code == 2 and said == expected, (command, result.err)
    else:
        assert result.code == 0, (command, result.err)


@pytest.mark.parametrize("page,command,shown", CURL_LINES, ids=_name)
def test_a_curl_command_answers_as_shown(live_server, page, command, shown):
    args = shlex.split(_without_comment(command))
    url = next(a for a in args if "localhost:7860" in a).replace("localhost:7860", live_server.split("//", 1)[1])
    data = args[args.index("-d") + 1].encode() if "-d" in args else None
    method = args[args.index("-X") + 1] if "-X" in args else ("POST" if data else "GET")
    request = urllib.request.Request("http://" + url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            body = json.load(response)
    except urllib.error.HTTPError as error:
        body = json.load(error)
    if shown.startswith('{"detail"'):  # an error: the page shows the API's own words
        assert body["detail"] == json.loads(re.sub(r"\s+#.*$", "", shown))["detail"], (command, body)
    else:
        assert "detail" not in body, (command, body)
