"""Synthetic stores of any size for latency and memory measurements: vectors are real chunk
vectors plus noise (so they cluster like real data), texts are real chunk sentences (so BM25
postings look real). Written as a normal store generation."""
from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import numpy as np

from qa.ingest.ingestor import build_bm25
from qa.text.sentences import split_sentences
from qa.store.local import (FORMAT, SCHEMA, approximate_index, current_generation, describe_index, flat_index,
                      publish)

CHUNKS_PER_DOC = 10
EXACT_MAX = 200_000  # the product's default Settings.exact_search_max


def _source(source_store: Path) -> tuple[np.ndarray, list[str]]:
    import faiss

    generation = source_store / current_generation(source_store)
    index = faiss.read_index(str(generation / "index.faiss"))
    vectors = np.vstack([index.reconstruct(int(i)) for i in faiss.vector_to_array(index.id_map)])
    with sqlite3.connect(generation / "meta.sqlite") as db:
        texts = [r[0] for r in db.execute("SELECT text FROM chunks ORDER BY id")]
    snippets = []
    for text in texts:  # two sentences per synthetic chunk keep the SQLite file small
        spans = split_sentences(text)[:2]
        snippets.append(text[spans[0].start:spans[-1].end] if spans else text[:300])
    return vectors, snippets


def build_synthetic_store(size: int, store_dir: Path, source_store: Path) -> float:
    started = time.perf_counter()
    vectors, snippets = _source(source_store)
    rng = np.random.default_rng(size)
    picks = rng.integers(len(snippets), size=size)
    staging = store_dir / "staging-synthetic"
    staging.mkdir(parents=True)
    db = sqlite3.connect(staging / "meta.sqlite")
    db.executescript(SCHEMA)
    texts = [f"{snippets[p]} [synthetic {i}]" for i, p in enumerate(picks)]
    for first in range(0, size, CHUNKS_PER_DOC):
        doc_id = f"syn{first // CHUNKS_PER_DOC:07d}"
        parts = texts[first:first + CHUNKS_PER_DOC]
        doc_text = "\n\n".join(parts)
        offsets, cursor = [], 0
        for part in parts:
            offsets.append((cursor, cursor + len(part)))
            cursor += len(part) + 2
        db.execute("INSERT INTO documents VALUES (?,?,?,?,?,?,?,?)",
                   (doc_id, f"synthetic/{doc_id}.txt", "synthetic", f"Synthetic article {doc_id}", None, None, "", doc_text))
        db.executemany("INSERT INTO chunks VALUES (?,?,?,?,?,?,?)",
                       [(first + j, doc_id, j, s, e, parts[j], "") for j, (s, e) in enumerate(offsets)])
    db.commit()
    index = flat_index(vectors.shape[1])
    for first in range(0, size, 100_000):
        block = vectors[picks[first:first + 100_000]] + rng.normal(0, 0.04, (len(picks[first:first + 100_000]), vectors.shape[1]))
        block = (block / np.linalg.norm(block, axis=1, keepdims=True)).astype(np.float32)
        index.add_with_ids(block, np.arange(first, first + len(block), dtype=np.int64))
    if size > EXACT_MAX:
        index = approximate_index(index)
    import faiss

    faiss.write_index(index, str(staging / "index.faiss"))
    build_bm25(texts).save(str(staging / "bm25"))
    np.save(staging / "bm25_ids.npy", np.arange(size, dtype=np.int64), allow_pickle=False)
    manifest = {"format": FORMAT, "model": "all-MiniLM-L6-v2", "dim": vectors.shape[1], "documents":
                -(-size // CHUNKS_PER_DOC), "chunks": size, "index": describe_index(index), "synthetic": True}
    (staging / "manifest.json").write_text(json.dumps(manifest))
    db.close()
    publish(store_dir, staging, "gen-00000001")
    return time.perf_counter() - started
