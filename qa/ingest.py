"""Ingestion: files -> documents -> chunks -> vectors -> a new store generation, incrementally."""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import signal
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa import __version__
from qa.chunking import ENCODING, Chunker
from qa.corpus import Candidate, SkipFile, discover, load_document, read_bytes
from qa.embedding import Embedder
from qa.lexical import LEXICAL_VERSION
from qa.errors import InputError, StoreLockedError, QAError
from qa.settings import Settings
from qa.store import (FORMAT, SCHEMA, approximate_index, check_model, current_generation,
                      describe_index, flat_index, next_generation, publish, read_manifest, remove_stale)
from qa.types import Chunk, Document

Progress = Callable[[int, int], None]  # (documents done, documents to process)
DOC_BATCH = 64  # documents chunked and embedded together: big enough for full batches


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    chunks: int = 0
    documents: int = 0
    embedded: int = 0
    reused: int = 0
    seconds: float = 0.0
    generation: str | None = None
    index: str = ""

    def to_json(self) -> dict:
        data = dict(self.__dict__)
        data["skipped"] = [{"path": p, "reason": r} for p, r in self.skipped]
        return data


def crash_point(name: str) -> None:
    """Test hooks: QA_TEST_KILL_AT=name makes the process SIGKILL itself here;
    QA_TEST_PAUSE_AT=name stops it here (SIGSTOP) until it is sent SIGCONT."""
    if os.environ.get("QA_TEST_KILL_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get("QA_TEST_PAUSE_AT") == name:
        os.kill(os.getpid(), signal.SIGSTOP)


@contextmanager
def store_lock(store_dir: Path) -> Iterator[None]:
    """One writer per store: a second ingest is refused at once with who holds it."""
    try:
        store_dir.mkdir(parents=True, exist_ok=True)
        handle = open(store_dir / ".lock", "a+")
    except OSError as exc:
        raise QAError(f"cannot write {store_dir}/ ({exc.strerror}); nothing changed") from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise StoreLockedError(f"{store_dir}/ is being written by {holder}; retry when it finishes") from None
    handle.truncate(0)
    handle.write(f"pid {os.getpid()}")
    handle.flush()
    try:
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


class Ingestor:
    """Brings a store in line with a set of files, embedding only text it has not seen."""

    def __init__(self, settings: Settings, embedder: Callable[[], Embedder], progress: Progress | None = None):
        self.settings = settings
        self._embedder_factory = embedder
        self._embedder: Embedder | None = None
        self.progress = progress or (lambda done, total: None)

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = self._embedder_factory()
        return self._embedder

    def run(self, paths: list[Path], rebuild: bool = False) -> IngestReport:
        started = time.perf_counter()
        found = discover(paths)
        if not found.candidates:
            where = ", ".join(str(p) for p in paths)
            raise InputError(f"no .txt, .md or .html files in {where}; nothing changed")
        store_dir = self.settings.store_dir
        with store_lock(store_dir):
            report = self._run_locked(found, rebuild)
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    def _run_locked(self, found, rebuild: bool) -> IngestReport:
        store_dir = self.settings.store_dir
        previous = None if rebuild else current_generation(store_dir)
        manifest = read_manifest(store_dir / previous) if previous else None
        if manifest:
            check_model(manifest, self.settings.embedding_model, store_dir)
        report = IngestReport(skipped=list(found.skipped))
        known = self._known_documents(store_dir / previous) if previous else {}
        rechunk_all = manifest is not None and self._chunking(manifest) != self._chunking_now()
        todo, seen = self._read_changes(found.candidates, known, rechunk_all, report)
        roots = {str(r) for r in found.roots}
        removed = [d for d, (_, root) in known.items() if root in roots and d not in seen]
        report.removed = len(removed)
        if not previous and not todo:
            reasons = "; ".join(f"{p}: {r}" for p, r in report.skipped[:3])
            raise InputError(f"no readable documents ({reasons}); nothing changed")
        if previous and not todo and not removed:
            report.documents, report.chunks = manifest["documents"], manifest["chunks"]
            report.generation = previous
            return report
        self._write_generation(previous, todo, removed + [d.doc_id for d in todo if d.doc_id in known], report)
        return report

    def _known_documents(self, gen_dir: Path) -> dict[str, tuple[str, str]]:
        with sqlite3.connect(f"file:{gen_dir / 'meta.sqlite'}?mode=ro", uri=True) as db:
            return {d: (sha, root) for d, sha, root in db.execute("SELECT doc_id, sha256, root FROM documents")}

    def _read_changes(self, candidates: list[Candidate], known: dict, rechunk_all: bool,
                      report: IngestReport) -> tuple[list[Document], set[str]]:
        todo: list[Document] = []
        seen: set[str] = set()
        for candidate in candidates:
            doc_id = candidate.doc_id
            if doc_id in seen:
                report.skipped.append((str(candidate.path), f"document id {doc_id!r} already taken by another file"))
                continue
            seen.add(doc_id)
            try:
                data = read_bytes(candidate.path, self.settings.max_file_bytes)
                if doc_id in known and known[doc_id][0] == hashlib.sha256(data).hexdigest() and not rechunk_all:
                    report.unchanged += 1
                    continue
                todo.append(load_document(candidate, data))
            except SkipFile as skip:
                report.skipped.append((str(candidate.path), str(skip)))
                continue
            if doc_id in known:
                report.updated += 1
            else:
                report.added += 1
        return todo, seen

    def _chunking(self, manifest: dict) -> tuple:
        return manifest.get("chunk_tokens"), manifest.get("chunk_overlap")

    def _chunking_now(self) -> tuple:
        return self.settings.chunk_tokens, self.settings.chunk_overlap

    def _write_generation(self, previous: str | None, todo: list[Document], replaced: list[str],
                          report: IngestReport) -> None:
        import faiss

        store_dir = self.settings.store_dir
        staging = store_dir / f"staging-{os.getpid()}-{time.time_ns()}"
        try:
            staging.mkdir()
        except OSError as exc:
            raise QAError(f"cannot write {store_dir}/ ({exc.strerror}); the previous index is unchanged") from None
        try:
            db = sqlite3.connect(staging / "meta.sqlite")
            if previous:
                with sqlite3.connect(f"file:{store_dir / previous / 'meta.sqlite'}?mode=ro", uri=True) as old:
                    old.backup(db)
                index = faiss.read_index(str(store_dir / previous / "index.faiss"))
            else:
                db.executescript(SCHEMA)
                index = flat_index(self.embedder.dim)
            crash_point("after-copy")
            reusable = self._drop_documents(db, index, replaced)
            self._add_documents(db, index, todo, reusable, report)
            crash_point("after-embed")
            self._finish(db, index, staging, report)
            db.close()
            crash_point("before-publish")
            generation = next_generation(store_dir)
            publish(store_dir, staging, generation)
            crash_point("after-publish")
            report.generation = generation
        except BaseException as exc:
            import shutil

            shutil.rmtree(staging, ignore_errors=True)
            if isinstance(exc, OSError):
                raise QAError(f"cannot write {store_dir}/ ({exc.strerror or exc}); "
                              "the previous index is unchanged") from None
            raise
        remove_stale(store_dir, keep=generation)

    def _drop_documents(self, db: sqlite3.Connection, index, doc_ids: list[str]) -> dict[str, np.ndarray]:
        """Remove documents' chunks; return their vectors by text hash so unchanged text is not re-embedded."""
        reusable: dict[str, np.ndarray] = {}
        for doc_id in doc_ids:
            rows = db.execute("SELECT id, text_hash FROM chunks WHERE doc_id = ?", (doc_id,)).fetchall()
            ids = np.array([r[0] for r in rows], dtype=np.int64)
            for (chunk_id, text_hash) in rows:
                reusable[text_hash] = index.reconstruct(int(chunk_id))
            if len(ids):
                index.remove_ids(ids)
            db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
            db.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
        return reusable

    def _chunker(self) -> Chunker:
        embedder = self.embedder
        return Chunker(self.settings.chunk_tokens, self.settings.chunk_overlap,
                       model_tokens=embedder.count_tokens if embedder.max_tokens else None,
                       model_limit=embedder.max_tokens)

    def _add_documents(self, db, index, docs: list[Document], reusable: dict, report: IngestReport) -> None:
        if not docs:
            return
        chunker = self._chunker()
        next_id = (db.execute("SELECT COALESCE(MAX(id), -1) FROM chunks").fetchone()[0]) + 1
        for first in range(0, len(docs), DOC_BATCH):
            batch = docs[first:first + DOC_BATCH]
            chunks = [c for doc in batch for c in chunker.chunk(doc.doc_id, doc.text)]
            vectors = self._vectors(chunks, reusable, report)
            ids = np.arange(next_id, next_id + len(chunks), dtype=np.int64)
            next_id += len(chunks)
            db.executemany("INSERT INTO documents VALUES (?,?,?,?,?,?,?,?)", [
                (d.doc_id, d.source, d.root, d.title, d.outlet, d.date, d.sha256, d.text) for d in batch])
            db.executemany('INSERT INTO chunks VALUES (?,?,?,?,?,?,?)', [
                (int(i), c.doc_id, c.ordinal, c.start, c.end, c.text, _text_hash(c.text))
                for i, c in zip(ids, chunks)])
            if len(chunks):
                index.add_with_ids(vectors, ids)
            self.progress(min(first + DOC_BATCH, len(docs)), len(docs))

    def _vectors(self, chunks: list[Chunk], reusable: dict, report: IngestReport) -> np.ndarray:
        hashes = [_text_hash(c.text) for c in chunks]
        missing = [i for i, h in enumerate(hashes) if h not in reusable]
        fresh = self.embedder.embed([chunks[i].text for i in missing])
        for i, vector in zip(missing, fresh):
            reusable[hashes[i]] = vector
        report.embedded += len(missing)
        report.reused += len(chunks) - len(missing)
        return np.array([reusable[h] for h in hashes], dtype=np.float32).reshape(len(chunks), -1)

    def _finish(self, db, index, staging: Path, report: IngestReport) -> None:
        import faiss

        rows = db.execute("SELECT id, text FROM chunks ORDER BY id").fetchall()
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        if rows:
            build_bm25([r[1] for r in rows]).save(str(staging / "bm25"))
        np.save(staging / "bm25_ids.npy", ids, allow_pickle=False)
        db.commit()
        if index.ntotal != len(ids):
            raise QAError(f"internal error: {index.ntotal} vectors for {len(ids)} chunks; nothing changed")
        if hasattr(index, "id_map") and index.ntotal > self.settings.exact_search_max:
            index = approximate_index(index)
        report.index = describe_index(index)
        faiss.write_index(index, str(staging / "index.faiss"))
        report.documents = db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        report.chunks = len(ids)
        (staging / "manifest.json").write_text(json.dumps(self._manifest(report), indent=2))

    def _manifest(self, report: IngestReport) -> dict:
        import bm25s
        import faiss

        return {
            "format": FORMAT, "model": self.settings.embedding_model, "dim": self.embedder.dim,
            "model_max_tokens": self.embedder.max_tokens, "encoding": ENCODING, "lexical": LEXICAL_VERSION,
            "chunk_tokens": self.settings.chunk_tokens, "chunk_overlap": self.settings.chunk_overlap,
            "documents": report.documents, "chunks": report.chunks, "index": report.index,
            "versions": {"qa": __version__, "faiss": faiss.__version__, "bm25s": bm25s.__version__},
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }


def _text_hash(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def build_bm25(texts: list[str]):
    import bm25s

    from qa.lexical import tokenize

    retriever = bm25s.BM25()
    retriever.index(tokenize(texts), show_progress=False)
    return retriever
