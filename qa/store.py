"""The index on disk: FAISS vectors + SQLite metadata + BM25, one immutable generation at a time.

A store folder holds generation folders and a CURRENT file naming the live one. A writer
builds a complete new generation beside the old, fsyncs it, then swaps CURRENT with an
atomic rename: a crash at any point leaves either the old or the new generation live,
never a mix, and readers never see a half-written file.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import threading
from pathlib import Path

import numpy as np

from qa.errors import StoreMismatchError, StoreMissingError
from qa.types import Chunk, Document

FORMAT = 1
CURRENT = "CURRENT"
# Above Settings.exact_search_max chunks the index becomes IVF with fp16 codes: half the memory
# per vector and sub-linear search; nprobe keeps recall@10 against exact search >= 0.95
# (measured in bench/results/perf.md).
DEFAULT_NPROBE = 48
_GEN = re.compile(r"^gen-(\d{8})$")

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, source TEXT NOT NULL, root TEXT NOT NULL, title TEXT NOT NULL,
    outlet TEXT, date TEXT, sha256 TEXT NOT NULL, text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL REFERENCES documents(doc_id),
    ordinal INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    text TEXT NOT NULL, text_hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE INDEX IF NOT EXISTS chunks_hash ON chunks(text_hash);
"""


def flat_index(dim: int):
    import faiss

    return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))


def approximate_index(flat, nprobe: int = DEFAULT_NPROBE):
    """IVF over fp16 codes built from a flat IDMap2 index; keeps ids, removal and reconstruction."""
    import faiss

    n, dim = flat.ntotal, flat.d
    vectors = faiss.rev_swig_ptr(faiss.downcast_index(flat.index).get_xb(), n * dim).reshape(n, dim)
    ids = faiss.vector_to_array(flat.id_map)
    nlist = 1 << max(4, int(np.log2(4 * np.sqrt(n))))  # ~4 sqrt(n) lists, a power of two
    ivf = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(dim), dim, nlist, faiss.ScalarQuantizer.QT_fp16,
                                        faiss.METRIC_INNER_PRODUCT)
    sample = np.random.default_rng(0).choice(n, size=min(n, 64 * nlist), replace=False)
    ivf.train(np.ascontiguousarray(vectors[np.sort(sample)]))
    ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
    for first in range(0, n, 100_000):
        ivf.add_with_ids(np.ascontiguousarray(vectors[first:first + 100_000]), ids[first:first + 100_000])
    ivf.nprobe = nprobe
    return ivf


def index_ids(index) -> np.ndarray:
    """Every id an index holds, whatever its type."""
    import faiss

    if not index.ntotal:
        return np.array([], dtype=np.int64)
    if hasattr(index, "id_map"):
        return faiss.vector_to_array(index.id_map)
    ivf = faiss.extract_index_ivf(index)
    lists = ivf.invlists
    parts = [faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)).copy()
             for i in range(ivf.nlist) if lists.list_size(i)]
    return np.concatenate(parts).astype(np.int64)


def describe_index(index) -> str:
    import faiss

    if hasattr(index, "id_map"):
        return "IndexIDMap2(IndexFlatIP) exact"
    ivf = faiss.extract_index_ivf(index)
    return f"IndexIVFScalarQuantizer(fp16, nlist={ivf.nlist}, nprobe={ivf.nprobe})"


def current_generation(store_dir: Path) -> str | None:
    try:
        name = (store_dir / CURRENT).read_text().strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return name if _GEN.match(name) else None


def missing_store_message(store_dir: Path) -> str:
    return f"no index in {store_dir}/; build it with: qa ingest seeds/ --store {store_dir}"


def read_manifest(gen_dir: Path) -> dict:
    return json.loads((gen_dir / "manifest.json").read_text())


def check_model(manifest: dict, model: str, store_dir: Path) -> None:
    if manifest.get("format") != FORMAT:
        raise StoreMismatchError(
            f"{store_dir}/ has store format {manifest.get('format')}, this version reads {FORMAT}; "
            f"rebuild it: qa ingest --rebuild --store {store_dir}")
    if manifest["model"] != model:
        raise StoreMismatchError(
            f"{store_dir}/ was built with embedding model {manifest['model']!r} "
            f"(dim {manifest['dim']}), not {model!r}; use QA_EMBEDDING_MODEL={manifest['model']} "
            f"or rebuild it: qa ingest --rebuild --store {store_dir}")


class Store:
    """A read-only view of one generation, loaded into memory once and safe to share."""

    def __init__(self, store_dir: Path, generation: str, manifest: dict, index, bm25, bm25_ids):
        self.store_dir = store_dir
        self.generation = generation
        self.manifest = manifest
        self.index = index
        self.bm25 = bm25
        self.bm25_ids = bm25_ids
        self._postings = tuple(np.asarray(bm25.scores[key]) for key in ("data", "indices", "indptr")) if bm25 else ()
        gen_dir = store_dir / generation
        self._db = sqlite3.connect(f"file:{gen_dir / 'meta.sqlite'}?mode=ro", uri=True,
                                   check_same_thread=False)
        self._lock = threading.Lock()  # one sqlite connection shared by the server's threads

    @classmethod
    def open(cls, store_dir: Path, model: str | None = None) -> "Store":
        import bm25s
        import faiss

        generation = current_generation(store_dir)
        if generation is None:
            raise StoreMissingError(missing_store_message(store_dir))
        gen_dir = store_dir / generation
        try:
            manifest = read_manifest(gen_dir)
            if model is not None:
                check_model(manifest, model, store_dir)
            index = faiss.read_index(str(gen_dir / "index.faiss"))
            if not hasattr(index, "id_map"):
                faiss.extract_index_ivf(index).nprobe = int(manifest.get("nprobe", DEFAULT_NPROBE))
            bm25 = bm25s.BM25.load(str(gen_dir / "bm25")) if manifest["chunks"] else None
            bm25_ids = np.load(gen_dir / "bm25_ids.npy", allow_pickle=False)
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise StoreMismatchError(
                f"{store_dir}/ is damaged ({exc}); rebuild it: qa ingest --rebuild --store {store_dir}"
            ) from None
        store = cls(store_dir, generation, manifest, index, bm25, bm25_ids)
        store.check_consistency()
        return store

    def check_consistency(self) -> None:
        """FAISS, BM25 and SQLite must hold exactly the same chunk ids."""
        faiss_ids = np.sort(index_ids(self.index))
        sql_ids = np.array([r[0] for r in self._query("SELECT id FROM chunks ORDER BY id")], dtype=np.int64)
        bm25_ids = np.sort(self.bm25_ids)
        if not (np.array_equal(faiss_ids, sql_ids) and np.array_equal(bm25_ids, sql_ids)):
            raise StoreMismatchError(
                f"{self.store_dir}/ is inconsistent: the vector index holds {len(faiss_ids)} chunks, "
                f"the metadata {len(sql_ids)}; rebuild it: qa ingest --rebuild --store {self.store_dir}")

    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @property
    def count_documents(self) -> int:
        return int(self.manifest["documents"])

    @property
    def count_chunks(self) -> int:
        return int(self.manifest["chunks"])

    def dense_search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        if not self.index.ntotal:
            return []
        scores, ids = self.index.search(vector.reshape(1, -1).astype(np.float32), min(k, self.index.ntotal))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def bm25_search(self, query_tokens: list[str], k: int) -> list[tuple[int, float]]:
        """BM25 scores summed over the query's postings only (bm25s keeps per-term scores in a
        sparse matrix). Scoring the postings directly is ~20x faster than bm25s.retrieve at 10^6
        chunks (bench/results/perf.md) and gives the same scores."""
        if self.bm25 is None:
            return []
        term_ids = [self.bm25.vocab_dict[t] for t in query_tokens if t in self.bm25.vocab_dict]
        if not term_ids:
            return []
        data, indices, indptr = self._postings
        spans = [slice(indptr[t], indptr[t + 1]) for t in term_ids]
        scores = np.bincount(np.concatenate([indices[s] for s in spans]),
                             weights=np.concatenate([data[s] for s in spans]), minlength=len(self.bm25_ids))
        k = min(k, int(np.count_nonzero(scores)))
        if k == 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.lexsort((top, -scores[top]))]  # by score, ties by position: deterministic
        return [(int(self.bm25_ids[p]), float(scores[p])) for p in top]

    def chunks(self, ids: list[int]) -> dict[int, Chunk]:
        """Chunks by their index id."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._query(f'SELECT id, doc_id, ordinal, start, "end", text FROM chunks WHERE id IN ({marks})',
                           tuple(ids))
        return {r[0]: Chunk(*r[1:]) for r in rows}

    def document(self, doc_id: str) -> Document | None:
        rows = self._query("SELECT doc_id, source, text, title, outlet, date, sha256, root "
                           "FROM documents WHERE doc_id = ?", (doc_id,))
        return Document(*rows[0]) if rows else None

    def doc_fields(self, doc_ids: list[str]) -> dict[str, dict]:
        """title, source, outlet and date of documents, without their text."""
        if not doc_ids:
            return {}
        marks = ",".join("?" * len(doc_ids))
        rows = self._query(f"SELECT doc_id, title, source, outlet, date FROM documents WHERE doc_id IN ({marks})",
                           tuple(doc_ids))
        return {r[0]: {"title": r[1], "source": r[2], "outlet": r[3], "date": r[4]} for r in rows}

    def documents_brief(self) -> list[tuple[str, str]]:
        """(doc_id, title) of every document, in id order."""
        return [(r[0], r[1]) for r in self._query("SELECT doc_id, title FROM documents ORDER BY doc_id")]

    def iter_documents(self):
        for (doc_id,) in self._query("SELECT doc_id FROM documents ORDER BY doc_id"):
            yield self.document(doc_id)


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            fsync_path(path)
    fsync_path(folder)


def publish(store_dir: Path, staging: Path, generation: str) -> None:
    """Make a fully written staging folder the live generation, atomically."""
    fsync_tree(staging)
    staging.rename(store_dir / generation)
    pointer = store_dir / f"{CURRENT}.tmp"
    pointer.write_text(generation + "\n")
    fsync_path(pointer)
    os.replace(pointer, store_dir / CURRENT)
    fsync_path(store_dir)


def next_generation(store_dir: Path) -> str:
    numbers = [int(m.group(1)) for p in store_dir.iterdir() if (m := _GEN.match(p.name))]
    return f"gen-{max(numbers, default=0) + 1:08d}"


def remove_stale(store_dir: Path, keep: str) -> None:
    """Delete generations and staging folders other than `keep` (readers hold theirs open)."""
    for path in store_dir.iterdir():
        if path.is_dir() and path.name != keep and (_GEN.match(path.name) or path.name.startswith("staging-")):
            shutil.rmtree(path, ignore_errors=True)
