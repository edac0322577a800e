"""A long-running server takes uploads all day: each upload makes a new store version, and the
versions it replaces must be let go. Memory, open files and PostgreSQL connections stay flat
across 50 uploads, each followed by a question (which loads the new version)."""
from __future__ import annotations

import gc
import os
from pathlib import Path

import pytest

from qa.engine import Engine
from qa.settings import Settings

pytestmark = pytest.mark.slow

UPLOADS = 50
WARM = 10  # versions before the baseline is taken: caches and allocator pools have filled by then


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def _upload_and_ask(engine: Engine, i: int) -> None:
    text = f"Title: Harbour notice {i}\n\nThe harbour board met on day {i} and approved berth {i} for the ferry."
    report = engine.library.upload([(f"notice{i}.txt", text.encode())])
    assert report.added == 1
    answer = engine.ask(f"What did the harbour board approve on day {i}?")
    assert not answer.abstained and any(c.doc_id == f"notice{i}" for c in answer.citations)


def _measured(engine: Engine, extra=lambda: 0) -> list[tuple[float, int, int]]:
    marks = []
    for i in range(UPLOADS):
        _upload_and_ask(engine, i)
        if i + 1 in (WARM, UPLOADS):
            gc.collect()
            marks.append((_rss_mb(), _open_files(), extra()))
    return marks


def test_memory_and_open_files_stay_flat_across_uploads(tmp_path, corpus):
    engine = Engine(Settings(store_dir=tmp_path / "store", embedding_model="hash"))
    engine.ingest([corpus])
    models = engine.models.readers()
    (rss_warm, files_warm, _), (rss_end, files_end, _) = _measured(engine)
    print(f"\nfolder store, uploads {WARM} -> {UPLOADS}: RSS {rss_warm:.0f} -> {rss_end:.0f} MB, "
          f"open files {files_warm} -> {files_end}")
    assert engine.models.readers() == models  # the same model objects served every version
    assert files_end <= files_warm + 2, f"open files grew from {files_warm} to {files_end}"
    assert rss_end - rss_warm < 40, f"RSS grew {rss_end - rss_warm:.0f} MB over {UPLOADS - WARM} uploads"


def test_postgres_connections_stay_flat_across_uploads(tmp_path, corpus, pg_server):
    import psycopg

    url = pg_server.get_uri()
    engine = Engine(Settings(store_url=url, store_dir=tmp_path / "local", embedding_model="hash"))
    engine.ingest([corpus])

    def connections() -> int:
        with psycopg.connect(url, autocommit=True) as conn:
            return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                "AND pid <> pg_backend_pid()").fetchone()[0]

    (rss_warm, _, conns_warm), (rss_end, _, conns_end) = _measured(engine, connections)
    print(f"\nPostgreSQL store, uploads {WARM} -> {UPLOADS}: RSS {rss_warm:.0f} -> {rss_end:.0f} MB, "
          f"connections {conns_warm} -> {conns_end}")
    assert conns_end <= conns_warm, f"connections grew from {conns_warm} to {conns_end}"
    assert rss_end - rss_warm < 40, f"RSS grew {rss_end - rss_warm:.0f} MB over {UPLOADS - WARM} uploads"
