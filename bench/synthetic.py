"""Synthetic stores of any size for latency and memory measurements: vectors are real chunk
vectors plus noise (so they cluster like real data), texts are real chunk sentences (so BM25
postings look real). Written through the store's own writer, as an ingest would."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from qa.store.base import Batch, Manifest
from qa.store.local import LocalBackend, LocalReader
from qa.text.sentences import split_sentences
from qa.types import Chunk, Document

CHUNKS_PER_DOC = 10
DOCS_PER_BATCH = 5_000
EXACT_MAX = 200_000  # the product's default Settings.exact_search_max


def _source(source_store: Path) -> tuple[np.ndarray, list[str], str]:
    reader = LocalReader.open(source_store)
    ids = list(range(reader.count_chunks))
    chunks = reader.chunks(ids)
    vectors = np.vstack([reader.index.reconstruct(i) for i in ids])
    snippets = []
    for i in ids:  # two sentences per synthetic chunk keep the SQLite file small
        text = chunks[i].text
        spans = split_sentences(text)[:2]
        snippets.append(text[spans[0].start:spans[-1].end] if spans else text[:300])
    return vectors, snippets, reader.manifest.model


def _noisy(vectors: np.ndarray, rng) -> np.ndarray:
    block = vectors + rng.normal(0, 0.04, vectors.shape)
    return (block / np.linalg.norm(block, axis=1, keepdims=True)).astype(np.float32)


def _batch(first_doc: int, docs: int, texts: list[str], vectors: np.ndarray, rng) -> Batch:
    documents, chunks, sentences, owners = [], [], [], []
    for d in range(first_doc, first_doc + docs):
        doc_id = f"syn{d:07d}"
        parts = texts[(d - first_doc) * CHUNKS_PER_DOC:(d - first_doc + 1) * CHUNKS_PER_DOC]
        text, cursor = "\n\n".join(parts), 0
        for j, part in enumerate(parts):
            chunks.append(Chunk(doc_id, j, cursor, cursor + len(part), part))
            for span in split_sentences(text, cursor, cursor + len(part)):
                sentences.append((doc_id, span, f"{doc_id}:{span.start}"))
                owners.append(len(chunks) - 1)
            cursor += len(part) + 2
        documents.append(Document(doc_id, f"synthetic/{doc_id}.txt", text, f"Synthetic article {doc_id}",
                                  root="synthetic"))
    return Batch(documents, chunks, vectors, sentences, _noisy(vectors[owners], rng))


def build_synthetic_store(size: int, store_dir: Path | None, source_store: Path, backend=None) -> float:
    """Write `size` synthetic chunks into the folder store at store_dir, or into `backend`."""
    started = time.perf_counter()
    vectors, snippets, model = _source(source_store)
    rng = np.random.default_rng(size)
    picks = rng.integers(len(snippets), size=size)
    texts = [f"{snippets[p]} [synthetic {i}]" for i, p in enumerate(picks)]
    backend = backend or LocalBackend(store_dir, EXACT_MAX)
    manifest = Manifest(model=model, dim=vectors.shape[1], synthetic=True)
    with backend.lock(), backend.writer(manifest, rebuild=True) as writer:
        docs = -(-size // CHUNKS_PER_DOC)
        for first in range(0, docs, DOCS_PER_BATCH):
            count = min(DOCS_PER_BATCH, docs - first)
            lo, hi = first * CHUNKS_PER_DOC, min(size, (first + count) * CHUNKS_PER_DOC)
            writer.add(_batch(first, count, texts[lo:hi], _noisy(vectors[picks[lo:hi]], rng), rng))
        writer.commit()
    return time.perf_counter() - started
