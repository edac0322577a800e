"""The PostgreSQL + pgvector store (QA_STORE_URL=postgresql://...): several servers and machines
share one index.

Versions are transactions: an ingest writes its whole change set, the BM25 index it rebuilt and
the new manifest in ONE transaction, so readers see the previous version until the commit and
the new one after it; a killed ingest is rolled back by the server. One ingest at a time holds
an advisory lock. Both searches run in the database: dense search over HNSW (halfvec, inner
product), lexical search as one SQL sum over BM25 postings that the writer computes with bm25s,
as the local store does, so rankings match the local store's and a server holds no copy of the
index. The schema is created and migrated by the product.
"""
from __future__ import annotations

import io
import json
import queue
import re
import tarfile
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import QAError, StoreLockedError, StoreMismatchError, StoreMissingError
from qa.store.base import (
    Batch,
    KnownDocument,
    Manifest,
    ManifestBm25Reader,
    StoryRow,
    document_text_hash,
    text_hash_problems,
)
from qa.store.bm25 import Bm25Index, bm25_idf, build_bm25
from qa.store.generations import write_step
from qa.store.local import text_hash
from qa.store.sql import POSTGRES, SqlReader
from qa.text.lexical import terms

SCHEMA_VERSION = 1
LEXICAL = "postgres-postings"  # the manifest's mark of a version whose BM25 index is rows (PostgresLexical)
LOCK_KEY = 0x51A_C0DE  # the advisory lock one ingest holds
EF_SEARCH = 400  # HNSW candidates per query (Settings.pg_ef_search; bench/results/scale.md has the trade-off)
EXACT_FILTERED_MAX = 50_000  # a filter leaving at most this many chunks is searched exactly
POOL_SIZE = 4


def redacted(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(//[^:/@]+):[^@]*@", r"\1:***@", url)


def connect(url: str, autocommit: bool = False):
    import psycopg
    from pgvector.psycopg import register_vector

    try:
        conn = psycopg.connect(url, autocommit=autocommit, connect_timeout=10)
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise QAError(f"cannot reach PostgreSQL at {redacted(url)} ({first[:160]})") from None
    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        if not autocommit:
            conn.commit()
        register_vector(conn)
    except psycopg.Error as exc:
        conn.close()
        raise QAError(f"PostgreSQL at {redacted(url)} lacks the pgvector extension "
                      f"({_first_line(exc, type(exc).__name__)}); install pgvector there") from None
    return conn


def _schema(dim: int) -> str:
    return f"""
CREATE TABLE IF NOT EXISTS qa_meta (id INT PRIMARY KEY CHECK (id = 1), schema_version INT NOT NULL,
    version BIGINT NOT NULL, manifest JSONB NOT NULL);
CREATE TABLE IF NOT EXISTS qa_documents (doc_id TEXT PRIMARY KEY, source TEXT NOT NULL, root TEXT NOT NULL,
    title TEXT NOT NULL, outlet TEXT, date TEXT, sha256 TEXT NOT NULL, origin TEXT NOT NULL,
    text_sha256 TEXT NOT NULL, text TEXT NOT NULL, pages JSONB);
CREATE TABLE IF NOT EXISTS qa_chunks (id BIGINT PRIMARY KEY, doc_id TEXT NOT NULL, ordinal INT NOT NULL,
    start INT NOT NULL, "end" INT NOT NULL, text TEXT NOT NULL, text_hash TEXT NOT NULL,
    embedding halfvec({dim}) NOT NULL);
CREATE TABLE IF NOT EXISTS qa_sentences (id BIGINT PRIMARY KEY, doc_id TEXT NOT NULL, start INT NOT NULL,
    "end" INT NOT NULL, vector_key TEXT NOT NULL, embedding halfvec({dim}) NOT NULL);
CREATE TABLE IF NOT EXISTS qa_bm25 (id INT PRIMARY KEY CHECK (id = 1), ids BYTEA NOT NULL, index BYTEA);
CREATE TABLE IF NOT EXISTS qa_terms (id INT PRIMARY KEY, term TEXT NOT NULL, df INT NOT NULL);
CREATE TABLE IF NOT EXISTS qa_postings (term INT NOT NULL, chunk_id BIGINT NOT NULL, score REAL NOT NULL);
CREATE INDEX IF NOT EXISTS qa_postings_term ON qa_postings (term);
CREATE TABLE IF NOT EXISTS qa_stories (doc_id TEXT PRIMARY KEY, story TEXT NOT NULL, signature BYTEA NOT NULL);
CREATE INDEX IF NOT EXISTS qa_stories_story ON qa_stories (story);
CREATE INDEX IF NOT EXISTS qa_chunks_doc ON qa_chunks (doc_id);
CREATE INDEX IF NOT EXISTS qa_sentences_doc ON qa_sentences (doc_id, start);
"""


# Built once after the first load (much faster than growing it row by row), then maintained by
# every insert; several cores build it in parallel.
HNSW_INDEX = "CREATE INDEX IF NOT EXISTS qa_chunks_hnsw ON qa_chunks USING hnsw (embedding halfvec_ip_ops)"


class PostgresBackend:
    def __init__(self, url: str, ef_search: int = EF_SEARCH):
        self.url, self.ef_search = url, ef_search
        self.where = redacted(url)  # for messages: never the password
        # The engine asks for the live version on every request: one kept connection answers it
        # (a new connection per request costs more than the request).
        self._meta_conn: Any = None  # a psycopg connection, made when first needed
        self._meta_lock = threading.Lock()

    def _meta(self) -> tuple[int, dict] | None:
        import psycopg

        with self._meta_lock:
            for attempt in (1, 2):
                if self._meta_conn is None or self._meta_conn.closed:
                    self._meta_conn = connect(self.url, autocommit=True)
                try:
                    row = self._meta_conn.execute(
                        "SELECT schema_version, version, manifest FROM qa_meta WHERE id = 1").fetchone()
                    break
                except psycopg.errors.UndefinedTable:
                    return None
                except psycopg.OperationalError as exc:  # the server restarted: reconnect once
                    self._meta_conn.close()
                    self._meta_conn = None
                    if attempt == 2:
                        raise QAError(f"lost the connection to PostgreSQL at {self.where} "
                                      f"({_first_line(exc, 'closed')})") from None
        return _published(row, self.where)

    def check_manifest(self, manifest: Manifest, model: str) -> None:
        if manifest.model != model:
            raise StoreMismatchError(f"the index in {self.where} was built with embedding model "
                                     f"{manifest.model!r}, not {model!r}; use QA_EMBEDDING_MODEL="
                                     f"{manifest.model} or rebuild it: qa ingest --rebuild <folders>")

    def current_version(self) -> str | None:
        meta = self._meta()
        return version_name(meta[0]) if meta else None

    def current_manifest(self) -> Manifest | None:
        meta = self._meta()
        return Manifest.model_validate(meta[1]) if meta else None

    def known_documents(self) -> dict[str, KnownDocument]:
        if self._meta() is None:
            return {}
        with connect(self.url, autocommit=True) as conn:
            return {r[0]: KnownDocument(*r) for r in conn.execute("SELECT doc_id, sha256, root FROM qa_documents")}

    def open_reader(self, model: str | None) -> PostgresReader:
        reader = PostgresReader(self.url, self.ef_search)  # the version of its snapshot
        if model is not None:
            try:
                self.check_manifest(reader.manifest, model)
            except StoreMismatchError:
                reader.close()
                raise
        return reader

    @contextmanager
    def lock(self) -> Iterator[None]:
        """One ingest at a time: a session-level advisory lock, released if the process dies."""
        conn = connect(self.url, autocommit=True)
        try:
            if not conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()[0]:
                raise StoreLockedError(f"the index in {self.where} is being written by another ingest; "
                                       "retry when it finishes")
            yield
        finally:
            conn.close()

    @contextmanager
    def writer(self, manifest: Manifest, rebuild: bool) -> Iterator[PostgresWriter]:
        writer = PostgresWriter(self.url, manifest, rebuild)
        try:
            yield writer
        finally:
            writer.discard()


class _Snapshot:
    """One version, as the database held it when a reader opened: a REPEATABLE READ transaction
    kept open for the reader's life, whose snapshot every connection of the reader imports. An
    ingest that commits a newer version changes nothing such a reader sees."""

    def __init__(self, url: str):
        import psycopg

        self.conn = connect(url)
        self.conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        self.id = self.conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        try:
            row = self.conn.execute("SELECT schema_version, version, manifest FROM qa_meta WHERE id = 1").fetchone()
        except psycopg.errors.UndefinedTable:
            row = None
        try:
            self.meta = _published(row, redacted(url))  # the version this snapshot holds
        except StoreMismatchError:
            self.close()
            raise

    def join(self, conn) -> None:
        """`conn` (not in a transaction) enters this snapshot until it is rolled back."""
        import psycopg
        from psycopg import sql

        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(self.id)))

    def close(self) -> None:
        self.conn.close()


class _Pool:
    """A few connections shared by a server's threads (each query borrows one), each inside the
    reader's snapshot. A query that fails rolls its connection back into the snapshot; a lost
    connection (the server restarted, the session was ended) breaks the reader, whose engine then
    opens a new one."""

    def __init__(self, url: str, size: int, snapshot: _Snapshot, settings: str = ""):
        self.free: queue.Queue = queue.Queue()
        self.url, self.made, self.size, self.snapshot = url, 0, size, snapshot
        self.settings = settings  # SET statements each connection runs in the snapshot's transaction
        self.lock = threading.Lock()
        self.broken = False

    @contextmanager
    def connection(self):
        try:
            conn = self.free.get_nowait()
        except queue.Empty:
            with self.lock:
                grow = self.made < self.size
                self.made += grow
            conn = self._joined(connect(self.url)) if grow else self.free.get()
        try:
            yield conn
        except BaseException as exc:
            if conn.broken or self.snapshot.conn.broken:
                self.broken = True
                raise QAError(f"lost the connection to PostgreSQL at {redacted(self.url)} "
                              f"({_first_line(exc, 'closed')}); retry") from None
            conn.rollback()  # a failed statement ends the transaction (and its SETs): enter the snapshot again
            self._joined(conn)
            raise
        finally:
            self.free.put(conn)

    def _joined(self, conn):
        self.snapshot.join(conn)
        if self.settings:
            conn.execute(self.settings)
        return conn

    def close(self) -> None:
        while not self.free.empty():
            self.free.get_nowait().close()
        self.snapshot.close()


class PostgresReader(ManifestBm25Reader, SqlReader):
    """One version, read through one snapshot of the database (_Snapshot): rows an ingest adds or
    removes after it opened are not seen. Closed when closed or no longer referenced (an engine
    drops the reader of a replaced version): its connections and its transaction end."""

    dialect = POSTGRES

    @property
    def broken(self) -> bool:
        """A connection was lost: this reader cannot read its version any more."""
        return self.pool.broken

    def __init__(self, url: str, ef_search: int = EF_SEARCH):
        snapshot = _Snapshot(url)
        if snapshot.meta is None:
            snapshot.close()
            raise StoreMissingError(f"no index in {redacted(url)}; build it with: qa ingest seeds/ "
                                    f"--store-url {redacted(url)}")
        self.url, self.ef_search = url, ef_search
        self.version, self.manifest = version_name(snapshot.meta[0]), Manifest.model_validate(snapshot.meta[1])
        self.pool = _Pool(url, POOL_SIZE, snapshot, f"SET hnsw.ef_search = {int(ef_search)}")
        self._closer = weakref.finalize(self, self.pool.close)
        # BM25 postings in the database (what this code writes); a database written before them
        # keeps its bm25s archive until its next ingest
        self.bm25 = (PostgresLexical(self.pool, self.manifest.chunks)
                     if self.manifest.lexical == LEXICAL else self._load_bm25())
        # a database last written before stories were kept has no such table until its next ingest
        self._has_stories = self._query("SELECT to_regclass('qa_stories') IS NOT NULL")[0][0]

    def _load_bm25(self) -> Bm25Index:
        with self.pool.connection() as conn:
            row = conn.execute("SELECT ids, index FROM qa_bm25 WHERE id = 1").fetchone()
        ids = np.frombuffer(row[0], dtype=np.int64) if row else np.zeros(0, dtype=np.int64)
        if row is None or row[1] is None or not len(ids):
            return Bm25Index(None, ids)
        with tempfile.TemporaryDirectory(prefix="qa-bm25-") as folder:
            with tarfile.open(fileobj=io.BytesIO(row[1])) as archive:
                archive.extractall(folder, filter="data")
            return Bm25Index.load(Path(folder) / "bm25", ids.copy())

    def _query(self, sql: str, params: tuple = ()) -> list[Any]:
        with self.pool.connection() as conn:
            return conn.execute(sql, params).fetchall()

    def dense_search(self, vector: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        from pgvector import HalfVector

        query = HalfVector(np.asarray(vector, dtype=np.float32))
        plain = int(k) <= self.ef_search and (allowed is None or len(allowed) <= EXACT_FILTERED_MAX)
        # one statement when the connection's own settings do (ef_search is set as it joins the
        # snapshot); else a savepoint rolled back at its end, so that what it sets lasts this query
        with self.pool.connection() as conn, nullcontext() if plain else conn.transaction(force_rollback=True):
            if not plain:
                conn.execute(f"SET LOCAL hnsw.ef_search = {max(self.ef_search, int(k))}")
            if allowed is None:
                rows = conn.execute("SELECT id, -(embedding <#> %s) FROM qa_chunks ORDER BY embedding <#> %s "
                                    "LIMIT %s", (query, query, k)).fetchall()
            elif len(allowed) <= EXACT_FILTERED_MAX:  # exact over the few that pass the filters
                rows = conn.execute("WITH c AS MATERIALIZED (SELECT id, embedding FROM qa_chunks WHERE id = ANY(%s)) "
                                    "SELECT id, -(embedding <#> %s) FROM c ORDER BY embedding <#> %s LIMIT %s",
                                    (allowed.tolist(), query, query, k)).fetchall()
            else:
                conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
                rows = conn.execute("SELECT id, -(embedding <#> %s) AS s FROM qa_chunks WHERE id = ANY(%s) "
                                    "ORDER BY embedding <#> %s LIMIT %s",
                                    (query, allowed.tolist(), query, k)).fetchall()
        return [(int(i), float(s)) for i, s in rows]

    def sentence_vectors(self, rows: list[int]) -> np.ndarray:
        wanted = [int(r) for r in rows]
        found = dict(self._query("SELECT id, embedding FROM qa_sentences WHERE id = ANY(%s)", (wanted,)))
        dim = self.manifest.dim
        return np.array([found[r].to_numpy() if r in found else np.zeros(dim) for r in wanted],
                        dtype=np.float32).reshape(len(wanted), dim)

    def sentence_scores(self, rows: list[int], vector: np.ndarray) -> np.ndarray:
        """Inner products computed in the database: 200 sentences' scores instead of their vectors
        (sending and decoding the vectors cost 24 ms an answer)."""
        from pgvector import Vector

        wanted = [int(r) for r in rows]
        found = dict(self._query("SELECT id, -(embedding::vector <#> %s) FROM qa_sentences WHERE id = ANY(%s)",
                                 (Vector(np.asarray(vector, dtype=np.float32)), wanted)))
        return np.array([found.get(r, 0.0) for r in wanted], dtype=np.float32)

    def _pages(self, doc_ids: list[str]) -> dict[str, tuple[int, ...]]:
        if not doc_ids:
            return {}
        rows = self._query("SELECT doc_id, pages FROM qa_documents WHERE doc_id = ANY(%s) AND pages IS NOT NULL",
                           (list(doc_ids),))
        return {doc_id: tuple(pages) for doc_id, pages in rows}

    def check(self) -> list[str]:
        return text_hash_problems(self._query("SELECT doc_id, text_sha256, text FROM qa_documents ORDER BY doc_id"))

    def close(self) -> None:
        self._closer()


class PostgresLexical:
    """BM25 over the postings the writer stored (qa_terms, qa_postings): the server holds only the
    vocabulary's document frequencies, and a search is one query summing the question's postings.
    The scores are bm25s's own, so rankings match the folder store's."""

    def __init__(self, pool: _Pool, chunks: int):
        self.pool, self.chunks = pool, chunks
        with pool.connection() as conn:
            self._terms = {term: (t, df) for t, term, df in conn.execute("SELECT id, term, df FROM qa_terms")}

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        term_ids = sorted({self._terms[t][0] for t in terms(query) if t in self._terms})
        if not term_ids or (allowed is not None and not len(allowed)):
            return []
        where, params = "p.term = ANY(%s)", [term_ids]
        if allowed is not None:
            where += " AND p.chunk_id = ANY(%s)"
            params.append(allowed.tolist())
        with self.pool.connection() as conn:
            rows = conn.execute(f"SELECT p.chunk_id, SUM(p.score::float8) AS s FROM qa_postings p WHERE {where} "
                                "GROUP BY p.chunk_id ORDER BY s DESC, p.chunk_id LIMIT %s", (*params, k)).fetchall()
        return [(int(i), float(s)) for i, s in rows]

    def knows(self, term: str) -> bool:
        return term in self._terms

    def idf(self, term: str) -> float:
        """Words the corpus lacks weigh most."""
        return bm25_idf(self._terms.get(term, (0, 0))[1], self.chunks)


class PostgresWriter:
    """One transaction: everything an ingest changes, committed at once (or rolled back)."""

    def __init__(self, url: str, manifest: Manifest, rebuild: bool):
        self.manifest = manifest
        self.conn = connect(url)
        self._done = False
        self.conn.execute(_schema(manifest.dim))
        meta = self.conn.execute("SELECT version, manifest FROM qa_meta WHERE id = 1 FOR UPDATE").fetchone()
        self.previous = meta[0] if meta else 0
        if meta and meta[1].get("dim") != manifest.dim and not rebuild:
            raise StoreMismatchError("the index holds vectors of another dimension; rebuild it (qa ingest --rebuild)")
        if rebuild:  # DELETE, not TRUNCATE: readers keep the previous version until the commit
            if meta and meta[1].get("dim") != manifest.dim:
                self.conn.execute("DROP TABLE qa_chunks, qa_sentences")  # another model: a new table shape
                self.conn.execute(_schema(manifest.dim))
            for table in ("qa_documents", "qa_chunks", "qa_sentences", "qa_bm25", "qa_terms", "qa_postings",
                          "qa_stories"):
                self.conn.execute(f"DELETE FROM {table}")
        self.next_chunk = self.conn.execute("SELECT COALESCE(MAX(id), -1) + 1 FROM qa_chunks").fetchone()[0]
        self.next_sentence = self.conn.execute("SELECT COALESCE(MAX(id), -1) + 1 FROM qa_sentences").fetchone()[0]
        write_step("after-copy")

    def remove(self, doc_ids: list[str]) -> dict[str, np.ndarray]:
        reusable: dict[str, np.ndarray] = {}
        if not doc_ids:
            return reusable
        ids = list(doc_ids)
        for key, vector in self.conn.execute("SELECT text_hash, embedding FROM qa_chunks WHERE doc_id = ANY(%s)",
                                             (ids,)):
            reusable[key] = vector.to_numpy().astype(np.float32)
        for key, vector in self.conn.execute("SELECT vector_key, embedding FROM qa_sentences WHERE doc_id = ANY(%s)",
                                             (ids,)):
            reusable[key] = vector.to_numpy().astype(np.float32)
        for table in ("qa_chunks", "qa_sentences", "qa_stories", "qa_documents"):
            self.conn.execute(f"DELETE FROM {table} WHERE doc_id = ANY(%s)", (ids,))
        return reusable

    def story_rows(self) -> list[StoryRow]:
        return [StoryRow(d, s, bytes(sig), title, date) for d, s, sig, title, date in self.conn.execute(
            "SELECT s.doc_id, s.story, s.signature, d.title, d.date FROM qa_stories s "
            "JOIN qa_documents d USING (doc_id)").fetchall()]

    def unstoried(self) -> list[tuple[str, str, str, str | None]]:
        return self.conn.execute("SELECT doc_id, text, title, date FROM qa_documents WHERE doc_id NOT IN "
                                 "(SELECT doc_id FROM qa_stories) ORDER BY date, doc_id").fetchall()

    def clear_stories(self) -> None:
        self.conn.execute("DELETE FROM qa_stories")

    def set_stories(self, rows: list[StoryRow]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany("INSERT INTO qa_stories VALUES (%s, %s, %s) ON CONFLICT (doc_id) DO UPDATE SET "
                            "story = EXCLUDED.story, signature = EXCLUDED.signature",
                            [(r.doc_id, r.story, r.signature) for r in rows])

    def add(self, batch: Batch) -> None:
        from pgvector import HalfVector

        with self.conn.cursor() as cur:
            with cur.copy("COPY qa_documents (doc_id, source, root, title, outlet, date, sha256, origin, "
                          "text_sha256, text, pages) FROM STDIN") as copy:
                for d in batch.documents:
                    copy.write_row((d.doc_id, d.source, d.root, d.title, d.outlet, d.date, d.sha256, d.origin,
                                    document_text_hash(d.text), d.text,
                                    json.dumps(list(d.pages)) if d.pages else None))
            with cur.copy('COPY qa_chunks (id, doc_id, ordinal, start, "end", text, text_hash, embedding) '
                          "FROM STDIN") as copy:
                for chunk, vector in zip(batch.chunks, batch.chunk_vectors):
                    copy.write_row((self.next_chunk, chunk.doc_id, chunk.ordinal, chunk.start, chunk.end, chunk.text,
                                    text_hash(chunk.text), HalfVector(vector).to_text()))
                    self.next_chunk += 1
            with cur.copy('COPY qa_sentences (id, doc_id, start, "end", vector_key, embedding) FROM STDIN') as copy:
                for (doc_id, span, key), vector in zip(batch.sentences, batch.sentence_vectors):
                    copy.write_row((self.next_sentence, doc_id, span.start, span.end, key,
                                    HalfVector(vector).to_text()))
                    self.next_sentence += 1

    def commit(self) -> str:
        import bm25s

        write_step("after-embed")
        self.conn.execute("SET LOCAL maintenance_work_mem = '1GB'")
        self.conn.execute("SET LOCAL max_parallel_maintenance_workers = 7")
        self.conn.execute(HNSW_INDEX)
        rows = self.conn.execute("SELECT id, text FROM qa_chunks ORDER BY id").fetchall()
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        self._write_postings(ids, [r[1] for r in rows])
        documents = self.conn.execute("SELECT COUNT(*) FROM qa_documents").fetchone()[0]
        sentences = self.conn.execute("SELECT COUNT(*) FROM qa_sentences").fetchone()[0]
        version = self.previous + 1
        self.manifest = self.manifest.updated(
            format="postgres", documents=documents, chunks=len(ids), sentences=sentences,
            index="pgvector HNSW (halfvec, inner product)", created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            lexical=LEXICAL, versions={**self.manifest.versions, "bm25s": bm25s.__version__})
        self.conn.execute("INSERT INTO qa_meta VALUES (1, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET "
                          "schema_version = EXCLUDED.schema_version, version = EXCLUDED.version, "
                          "manifest = EXCLUDED.manifest",
                          (SCHEMA_VERSION, version, json.dumps(self.manifest.to_json())))
        write_step("before-publish")
        self.conn.commit()
        self._done = True
        self.counts = {"documents": documents, "chunks": len(ids), "sentences": sentences,
                       "index": self.manifest.index}
        write_step("after-publish")
        return version_name(version)

    def _write_postings(self, ids: np.ndarray, texts: list[str]) -> None:
        """The BM25 index as rows: each term's document frequency, and each (term, chunk) pair's
        score as bm25s computes it, so a search is one SQL sum and ranks as the folder store does."""
        for table in ("qa_bm25", "qa_terms", "qa_postings"):
            self.conn.execute(f"DELETE FROM {table}")
        if not texts:
            return
        bm25 = build_bm25(texts)
        data, indices, indptr = (np.asarray(bm25.scores[key]) for key in ("data", "indices", "indptr"))
        with self.conn.cursor() as cur:
            with cur.copy("COPY qa_terms (id, term, df) FROM STDIN") as copy:
                for term, t in bm25.vocab_dict.items():
                    if t + 1 < len(indptr):  # bm25s also lists a padding token that has no postings
                        copy.write_row((int(t), term, int(indptr[t + 1] - indptr[t])))
            term_of = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
            with cur.copy("COPY qa_postings (term, chunk_id, score) FROM STDIN") as copy:
                for row in zip(term_of.tolist(), ids[indices].tolist(), data.tolist()):
                    copy.write_row(row)

    def discard(self) -> None:
        if not self._done:
            try:
                self.conn.rollback()
            except Exception:  # the connection may already be gone; the server rolls back anyway
                pass
        self.conn.close()


def version_name(version: int) -> str:
    """A version as readers and `current_version` name it: the engine compares the two."""
    return f"pg-{version:08d}"


def _published(row: tuple | None, where: str) -> tuple[int, dict] | None:
    """(version, manifest) of a qa_meta row, None when nothing is published yet; a schema newer
    than this code reads is an error."""
    if row and row[0] > SCHEMA_VERSION:
        raise StoreMismatchError(f"the index in {where} has schema {row[0]}; this version reads "
                                 f"{SCHEMA_VERSION}: upgrade corpus-qa")
    return (row[1], row[2]) if row else None


def _first_line(exc: Exception, default: str) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:120] if text else default
