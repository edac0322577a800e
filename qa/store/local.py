"""The local store backend: one generation folder per version, holding FAISS (chunk vectors),
SQLite (documents, chunks, sentences), bm25s (lexical index) and a float16 array of sentence
vectors, memory-mapped. See qa/store/generations.py for how versions are published atomically."""
from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import QAError, StoreMismatchError, StoreMissingError
from qa.store.base import (
    Batch,
    KnownDocument,
    Manifest,
    ManifestBm25Reader,
    StoryRow,
    document_text_hash,
    text_hash_problems,
)
from qa.store.bm25 import Bm25Index, build_bm25
from qa.store.generations import (
    current_generation,
    damaged,
    next_generation,
    publish,
    remove_stale,
    repair_command,
    store_lock,
    write_step,
)
from qa.store.sql import SQLITE, SqlReader
from qa.store.vectors import (
    DEFAULT_NPROBE,
    approximate_index,
    describe_index,
    faiss_module,
    flat_index,
    index_ids,
    one_thread_per_query,
    search_params,
    set_nprobe,
)

FORMAT = 2
SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, source TEXT NOT NULL, root TEXT NOT NULL, title TEXT NOT NULL,
    outlet TEXT, date TEXT, sha256 TEXT NOT NULL, origin TEXT NOT NULL, text_sha256 TEXT NOT NULL,
    text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL REFERENCES documents(doc_id),
    ordinal INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    text TEXT NOT NULL, text_hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sentences (
    id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    vector_key TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pages (doc_id TEXT PRIMARY KEY, starts TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS stories (doc_id TEXT PRIMARY KEY, story TEXT NOT NULL, signature BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS stories_story ON stories(story);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE INDEX IF NOT EXISTS sentences_doc ON sentences(doc_id, start);
"""


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def missing_store_message(store_dir: Path) -> str:
    return f"no index in {store_dir}/; build it with: qa ingest seeds/ --store {store_dir}"


def check_manifest(manifest: Manifest, model: str, store_dir: Path) -> None:
    if manifest.format != FORMAT:
        raise StoreMismatchError(
            f"{store_dir}/ has store format {manifest.format}, this version reads {FORMAT}; "
            f"rebuild it: {repair_command(store_dir)}")
    if manifest.model != model:
        raise StoreMismatchError(
            f"{store_dir}/ was built with embedding model {manifest.model!r} "
            f"(dim {manifest.dim}), not {model!r}; use QA_EMBEDDING_MODEL={manifest.model} "
            f"or rebuild it: {repair_command(store_dir)}")


def read_manifest(store_dir: Path, generation: str) -> Manifest:
    try:
        raw = json.loads((store_dir / generation / "manifest.json").read_text())
        raw["chunks"], raw["documents"]  # noqa: B018 - required of a published version
        return Manifest.model_validate(raw)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise damaged(store_dir, f"manifest.json: {type(exc).__name__}") from None


class LocalBackend:
    """A store folder (`vectorstore/` by default)."""

    def __init__(self, store_dir: Path, exact_search_max: int = 200_000):
        self.store_dir = Path(store_dir)
        self.exact_search_max = exact_search_max
        self.where = f"{self.store_dir}/"

    def current_version(self) -> str | None:
        return current_generation(self.store_dir)

    def check_manifest(self, manifest: Manifest, model: str) -> None:
        check_manifest(manifest, model, self.store_dir)

    def open_reader(self, model: str | None) -> LocalReader:
        return LocalReader.open(self.store_dir, model)

    def lock(self):
        """Held by an ingest from planning to publishing: one writer per store."""
        return store_lock(self.store_dir)

    def current_manifest(self) -> Manifest | None:
        version = self.current_version()
        return read_manifest(self.store_dir, version) if version else None

    def known_documents(self) -> dict[str, KnownDocument]:
        """Documents of the live version and where they came from (empty for a new store)."""
        version = self.current_version()
        if version is None:
            return {}
        try:
            with sqlite3.connect(f"file:{self.store_dir / version / 'meta.sqlite'}?mode=ro", uri=True) as db:
                return {r[0]: KnownDocument(*r) for r in db.execute("SELECT doc_id, sha256, root FROM documents")}
        except sqlite3.Error as exc:
            raise damaged(self.store_dir, f"meta.sqlite: {exc}") from None

    @contextmanager
    def writer(self, manifest: Manifest, rebuild: bool) -> Iterator[LocalWriter]:
        """Call under lock(): a staging folder that becomes the next version on commit."""
        writer = LocalWriter(self.store_dir, manifest, rebuild, self.exact_search_max)
        try:
            yield writer
        finally:
            writer.discard()


class LocalReader(ManifestBm25Reader, SqlReader):
    """One generation, loaded into memory once (sentence vectors memory-mapped), safe to share."""

    dialect = SQLITE

    def __init__(self, store_dir: Path, version: str, manifest: Manifest, index, bm25: Bm25Index, sentence_vectors):
        self.store_dir = store_dir
        self.version = version
        self.manifest = manifest
        self.index = index
        self.bm25: Bm25Index = bm25
        self._sentence_vectors = sentence_vectors
        try:
            self._db = sqlite3.connect(f"file:{store_dir / version / 'meta.sqlite'}?mode=ro", uri=True,
                                       check_same_thread=False)
        except sqlite3.Error as exc:
            raise damaged(store_dir, f"meta.sqlite: {exc}") from None
        self._lock = threading.Lock()  # one sqlite connection shared by the server's threads
        tables = {r[0] for r in self._query("SELECT name FROM sqlite_master WHERE type='table'")}
        self._has_pages, self._has_stories = "pages" in tables, "stories" in tables  # older versions lack them

    @classmethod
    def open(cls, store_dir: Path, model: str | None = None) -> LocalReader:
        faiss = faiss_module()

        generation = current_generation(store_dir)
        if generation is None:
            raise StoreMissingError(missing_store_message(store_dir))
        manifest = read_manifest(store_dir, generation)
        if model is not None:
            check_manifest(manifest, model, store_dir)
        gen_dir = store_dir / generation
        try:
            index = faiss.read_index(str(gen_dir / "index.faiss"))
            set_nprobe(index, manifest.nprobe or DEFAULT_NPROBE)
            bm25 = Bm25Index.load(gen_dir / "bm25", np.load(gen_dir / "bm25_ids.npy", allow_pickle=False))
            sentence_vectors = np.load(gen_dir / "sentences.npy", mmap_mode="r", allow_pickle=False)
        except QAError:
            raise
        except Exception as exc:  # numpy, faiss and bm25s each fail their own way on garbage
            first = str(exc).splitlines()[0][:120] if str(exc) else ""
            raise damaged(store_dir, f"{type(exc).__name__}: {first}") from None
        reader = cls(store_dir, generation, manifest, index, bm25, sentence_vectors)
        reader.check_consistency()
        one_thread_per_query()
        return reader

    def check_consistency(self) -> None:
        """FAISS, BM25, SQLite and the sentence vectors must describe the same chunks and sentences."""
        faiss_ids = np.sort(index_ids(self.index))
        sql_ids = np.array([r[0] for r in self._query("SELECT id FROM chunks ORDER BY id")], dtype=np.int64)
        sentences = self._query("SELECT COUNT(*), COALESCE(MAX(id), -1) FROM sentences")[0]
        if not (np.array_equal(faiss_ids, sql_ids) and np.array_equal(np.sort(self.bm25.ids), sql_ids)):
            raise damaged(self.store_dir, f"the vector index holds {len(faiss_ids)} chunks, the metadata "
                                          f"{len(sql_ids)}, the lexical index {len(self.bm25.ids)}")
        if sentences[0] != len(self._sentence_vectors) or sentences[1] != sentences[0] - 1 \
                or (len(self._sentence_vectors) and self._sentence_vectors.shape[1] != self.index.d):
            raise damaged(self.store_dir,
                          f"{sentences[0]} sentences but {len(self._sentence_vectors)} sentence vectors")

    def check(self) -> list[str]:
        """A full check: every document's stored text against its recorded hash."""
        return text_hash_problems(self._query("SELECT doc_id, text_sha256, text FROM documents ORDER BY doc_id"))

    def _query(self, sql: str, params: tuple = ()) -> list[Any]:
        try:
            with self._lock:
                return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise damaged(self.store_dir, f"meta.sqlite: {exc}") from None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def dense_search(self, vector: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Nearest chunks; with `allowed`, only among those chunk ids (filtered inside FAISS, so a
        selective filter still gets k results)."""
        if not self.index.ntotal or (allowed is not None and not len(allowed)):
            return []
        query = vector.reshape(1, -1).astype(np.float32)
        if allowed is None:
            scores, ids = self.index.search(query, min(k, self.index.ntotal))
        else:
            scores, ids = self.index.search(query, min(k, len(allowed)), params=search_params(self.index, allowed))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def sentence_vectors(self, rows: list[int]) -> np.ndarray:
        return np.asarray(self._sentence_vectors[np.asarray(rows, dtype=np.int64)], dtype=np.float32)

    def sentence_scores(self, rows: list[int], vector: np.ndarray) -> np.ndarray:
        return self.sentence_vectors(rows) @ vector

    def _pages(self, doc_ids: list[str]) -> dict[str, tuple[int, ...]]:
        if not self._has_pages:  # written before page numbers were kept
            return {}
        marks = ",".join("?" * len(doc_ids))
        rows = self._query(f"SELECT doc_id, starts FROM pages WHERE doc_id IN ({marks})", tuple(doc_ids))
        return {doc_id: tuple(json.loads(starts)) for doc_id, starts in rows}

_RENUMBER_SENTENCES = """
    CREATE TABLE sentences_new (id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL,
        start INTEGER NOT NULL, "end" INTEGER NOT NULL, vector_key TEXT NOT NULL);
    INSERT INTO sentences_new SELECT ROW_NUMBER() OVER (ORDER BY id) - 1, doc_id, start, "end",
        vector_key FROM sentences;
    DROP TABLE sentences;
    ALTER TABLE sentences_new RENAME TO sentences;
    CREATE INDEX sentences_doc ON sentences(doc_id, start);"""


class LocalWriter:
    """A staging folder that becomes the next generation on commit; discarded otherwise."""

    def __init__(self, store_dir: Path, manifest: Manifest, rebuild: bool, exact_search_max: int):
        faiss = faiss_module()

        self.store_dir, self.manifest, self.exact_search_max = store_dir, manifest, exact_search_max
        self.previous = None if rebuild else current_generation(store_dir)
        self.staging = store_dir / f"staging-{time.time_ns()}"
        self._committed = False
        try:
            self.staging.mkdir()
            self.db = sqlite3.connect(self.staging / "meta.sqlite")
        except OSError as exc:
            raise QAError(f"cannot write {store_dir}/ ({exc.strerror}); the previous index is unchanged") from None
        try:
            if self.previous:
                with sqlite3.connect(f"file:{store_dir / self.previous / 'meta.sqlite'}?mode=ro", uri=True) as old:
                    old.backup(self.db)
                self.index = faiss.read_index(str(store_dir / self.previous / "index.faiss"))
                self.old_sentences = np.load(store_dir / self.previous / "sentences.npy", mmap_mode="r")
                self.db.execute("SELECT COUNT(*) FROM documents").fetchone()
                self.db.executescript(SCHEMA)  # tables added since the previous version was written
            else:
                self.db.executescript(SCHEMA)
                self.index = flat_index(manifest.dim)
                self.old_sentences = np.zeros((0, manifest.dim), dtype=np.float16)
        except (sqlite3.Error, RuntimeError, ValueError, OSError) as exc:
            self.discard()
            raise damaged(store_dir, f"{type(exc).__name__}: {exc}") from None
        self.new_sentences: list[np.ndarray] = []
        self.next_chunk = self.db.execute("SELECT COALESCE(MAX(id), -1) FROM chunks").fetchone()[0] + 1
        self.next_sentence = max(self.db.execute("SELECT COALESCE(MAX(id), -1) FROM sentences").fetchone()[0] + 1,
                                 len(self.old_sentences))
        write_step("after-copy")

    def remove(self, doc_ids: list[str]) -> dict[str, np.ndarray]:
        """Remove documents; return their vectors by key so unchanged text is not re-embedded."""
        reusable: dict[str, np.ndarray] = {}
        for doc_id in doc_ids:
            rows = self.db.execute("SELECT id, text_hash FROM chunks WHERE doc_id = ?", (doc_id,)).fetchall()
            for chunk_id, key in rows:
                reusable[key] = self.index.reconstruct(int(chunk_id))
            if rows:
                self.index.remove_ids(np.array([r[0] for r in rows], dtype=np.int64))
            for row, key in self.db.execute("SELECT id, vector_key FROM sentences WHERE doc_id = ?", (doc_id,)):
                reusable[key] = self._sentence_vector(row)
            for table in ("chunks", "sentences", "pages", "stories", "documents"):
                self.db.execute(f"DELETE FROM {table} WHERE doc_id = ?", (doc_id,))
        return reusable

    def _sentence_vector(self, row: int) -> np.ndarray:
        if row < len(self.old_sentences):
            return np.asarray(self.old_sentences[row], dtype=np.float32)
        offset = row - len(self.old_sentences)
        for block in self.new_sentences:
            if offset < len(block):
                return block[offset].astype(np.float32)
            offset -= len(block)
        raise KeyError(row)

    def add(self, batch: Batch) -> None:
        self.db.executemany("INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?)", [
            (d.doc_id, d.source, d.root, d.title, d.outlet, d.date, d.sha256, d.origin,
             document_text_hash(d.text), d.text) for d in batch.documents])
        self.db.executemany("INSERT INTO pages VALUES (?,?)", [
            (d.doc_id, json.dumps(list(d.pages))) for d in batch.documents if d.pages])
        ids = np.arange(self.next_chunk, self.next_chunk + len(batch.chunks), dtype=np.int64)
        self.next_chunk += len(batch.chunks)
        self.db.executemany("INSERT INTO chunks VALUES (?,?,?,?,?,?,?)", [
            (int(i), c.doc_id, c.ordinal, c.start, c.end, c.text, text_hash(c.text))
            for i, c in zip(ids, batch.chunks)])
        if len(ids):
            self.index.add_with_ids(np.ascontiguousarray(batch.chunk_vectors, dtype=np.float32), ids)
        rows = range(self.next_sentence, self.next_sentence + len(batch.sentences))
        self.next_sentence += len(batch.sentences)
        self.db.executemany('INSERT INTO sentences VALUES (?,?,?,?,?)', [
            (row, doc_id, span.start, span.end, key) for row, (doc_id, span, key) in zip(rows, batch.sentences)])
        self.new_sentences.append(np.asarray(batch.sentence_vectors, dtype=np.float16))

    def story_rows(self) -> list[StoryRow]:
        return [StoryRow(*r) for r in self.db.execute(
            "SELECT s.doc_id, s.story, s.signature, d.title, d.date FROM stories s JOIN documents d USING (doc_id)")]

    def unstoried(self) -> Iterator[tuple[str, str, str, str | None]]:
        """(doc_id, text, title, date) of the documents without a story yet, oldest first."""
        cursor = self.db.execute("SELECT doc_id, text, title, date FROM documents "
                                 "WHERE doc_id NOT IN (SELECT doc_id FROM stories) ORDER BY date, doc_id")
        while rows := cursor.fetchmany(256):
            yield from rows

    def clear_stories(self) -> None:
        self.db.execute("DELETE FROM stories")

    def set_stories(self, rows: list[StoryRow]) -> None:
        self.db.executemany("INSERT OR REPLACE INTO stories VALUES (?,?,?)",
                            [(r.doc_id, r.story, r.signature) for r in rows])

    def commit(self) -> str:
        write_step("after-embed")
        try:
            counts = self._finish()
            self.db.close()
            write_step("before-publish")
            generation = next_generation(self.store_dir)
            publish(self.store_dir, self.staging, generation)
        except OSError as exc:
            raise QAError(f"cannot write {self.store_dir}/ ({exc.strerror or exc}); "
                          "the previous index is unchanged") from None
        self._committed = True
        self.version, self.counts = generation, counts
        write_step("after-publish")
        remove_stale(self.store_dir, keep=generation)
        return generation

    def _finish(self) -> dict:
        import bm25s
        faiss = faiss_module()

        rows = self.db.execute("SELECT id, text FROM chunks ORDER BY id").fetchall()
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        if rows:
            build_bm25([r[1] for r in rows]).save(str(self.staging / "bm25"))
        np.save(self.staging / "bm25_ids.npy", ids, allow_pickle=False)
        sentences = self._compact_sentences()
        self.db.commit()
        if self.index.ntotal != len(ids):
            raise QAError(f"internal error: {self.index.ntotal} vectors for {len(ids)} chunks; nothing changed")
        index = self.index
        if hasattr(index, "id_map") and index.ntotal > self.exact_search_max:
            index = approximate_index(index)
        faiss.write_index(index, str(self.staging / "index.faiss"))
        documents = self.db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        self.manifest = self.manifest.updated(
            format=FORMAT, documents=documents, chunks=len(ids), sentences=sentences, index=describe_index(index),
            created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            versions={**self.manifest.versions, "faiss": faiss.__version__, "bm25s": bm25s.__version__})
        (self.staging / "manifest.json").write_text(json.dumps(self.manifest.to_json(), indent=2))
        return {"documents": documents, "chunks": len(ids), "sentences": sentences, "index": self.manifest.index}

    def _compact_sentences(self) -> int:
        """Renumber the surviving sentences 0..n-1 and write their vectors in that order."""
        rows = np.array([r[0] for r in self.db.execute("SELECT id FROM sentences ORDER BY id")], dtype=np.int64)
        out = np.lib.format.open_memmap(self.staging / "sentences.npy", mode="w+", dtype=np.float16,
                                        shape=(len(rows), self.manifest.dim))
        new_block = np.concatenate(self.new_sentences) if self.new_sentences else np.zeros_like(out[:0])
        split = len(self.old_sentences)
        for first in range(0, len(rows), 100_000):  # in blocks: the old vectors stay on disk
            part = rows[first:first + 100_000]
            old = part < split
            block = np.empty((len(part), out.shape[1]), dtype=np.float16)
            block[old] = self.old_sentences[part[old]]
            block[~old] = new_block[part[~old] - split]
            out[first:first + len(part)] = block
        out.flush()
        del out
        if len(rows) and rows[-1] != len(rows) - 1:  # holes left by removed documents
            self.db.executescript(_RENUMBER_SENTENCES)
        return len(rows)

    def discard(self) -> None:
        if not self._committed:
            try:
                self.db.close()
            except Exception:  # already closed or never opened: the folder goes anyway
                pass
            shutil.rmtree(self.staging, ignore_errors=True)
