"""The store interface: what ingest, retrieval and answering need of an index, whatever holds it.

A backend keeps *versions*: an ingest writes a whole change set into a new version and makes it
live in one atomic step; readers keep the version they opened until they ask for the newer one.
The local folder (FAISS + SQLite + bm25s) is one backend; no module outside a backend touches
its SQL, FAISS or BM25 internals.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict

from qa.types import Chunk, DocFields, Document, Filters, Span


class Manifest(BaseModel):
    """What a version of the index was built with and holds: manifest.json in a folder store, the
    manifest column of qa_meta in PostgreSQL. Keys it does not name are kept (extra)."""

    model_config = ConfigDict(extra="allow", frozen=True, protected_namespaces=())

    model: str  # the embedding model: a store is only opened with it
    dim: int = 0
    format: int | str | None = None  # the folder store's layout ("postgres" in PostgreSQL)
    encoding: str | None = None  # the tokenizer chunks are counted in
    lexical: str | None = None  # how BM25 was built (qa.text.lexical; "postgres-postings")
    chunk_tokens: int | None = None
    chunk_overlap: int | None = None
    sentence_vectors: str | None = None
    stories: int | None = None  # qa.ingest.stories.STORIES_VERSION when near-duplicates were found
    model_max_tokens: int | None = None
    documents: int = 0
    chunks: int = 0
    sentences: int = 0
    index: str | None = None  # the vector index, described
    nprobe: int | None = None  # IVF cells searched per query
    created: str | None = None
    versions: dict[str, str] = {}

    @property
    def chunking(self) -> tuple:
        """What chunks depend on: a version chunked otherwise is re-chunked at the next ingest."""
        return self.chunk_tokens, self.chunk_overlap, self.sentence_vectors

    def updated(self, **changes: Any) -> Manifest:
        return Manifest.model_validate({**self.to_json(), **changes})

    def to_json(self) -> dict:
        return self.model_dump(exclude_none=True)


@dataclass(frozen=True)
class KnownDocument:
    """What a version records of a document's origin: enough to plan the next ingest."""

    doc_id: str
    sha256: str  # of the file's bytes
    root: str


NUM_PERM = 64  # MinHash permutations of a story signature (qa.ingest.stories)


@dataclass(frozen=True)
class StoryRow:
    """A document's story (the label its near-duplicates share) and its MinHash signature."""

    doc_id: str
    story: str
    signature: bytes  # NUM_PERM uint64 hash values
    # read with the row from the document (not stored with it): what tells a story from shared boilerplate
    title: str = field(default="", compare=False)
    date: str | None = field(default=None, compare=False)

    @property
    def hashvalues(self) -> np.ndarray:
        return np.frombuffer(self.signature, dtype=np.uint64)


class DocumentTexts:
    """Each document's text read from the store once per answer, however many steps need it."""

    def __init__(self, store: StoreReader):
        self.store = store
        self._texts: dict[str, str] = {}

    def __call__(self, doc_id: str) -> str:
        """The text ("" for a document removed since it was retrieved: nothing around it is read)."""
        if doc_id not in self._texts:
            doc = self.store.document(doc_id)
            self._texts[doc_id] = doc.text if doc else ""
        return self._texts[doc_id]


@dataclass(frozen=True)
class Sentence:
    """A stored sentence of a document: its span and the row of its vector."""

    row: int
    doc_id: str
    start: int
    end: int


@dataclass
class Batch:
    """Documents to add, with their chunks, sentences and vectors (rows aligned)."""

    documents: list[Document]
    chunks: list[Chunk]
    chunk_vectors: np.ndarray
    sentences: list[tuple[str, Span, str]]  # (doc_id, span in the document, vector key for reuse)
    sentence_vectors: np.ndarray


class StoreReader(Protocol):
    """One version of the index, safe to share between threads."""

    version: str
    manifest: Manifest

    @property
    def broken(self) -> bool:
        """It can no longer read its version (its database connection was lost): open another."""

    @property
    def count_documents(self) -> int: ...

    @property
    def count_chunks(self) -> int: ...

    def dense_search(self, vector: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Nearest chunks by id and score; `allowed` restricts them to those chunk ids."""

    def lexical_search(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]: ...

    def idf(self, term: str) -> float: ...

    def knows(self, term: str) -> bool:
        """The lexical index holds this stemmed term."""
        ...

    def chunks(self, ids: list[int]) -> dict[int, Chunk]: ...

    def sentences_in(self, spans: list[tuple[str, int, int]]) -> list[list[Sentence]]:
        """The stored sentences inside each (doc_id, start, end), in text order: one query for all."""
        ...

    def sentence_vectors(self, rows: list[int]) -> np.ndarray: ...

    def sentence_scores(self, rows: list[int], vector: np.ndarray) -> np.ndarray:
        """Each stored sentence vector's inner product with `vector` (where the vectors live: a
        database computes them rather than sending the vectors)."""
        ...

    def document(self, doc_id: str) -> Document | None: ...

    def doc_fields(self, doc_ids: list[str]) -> dict[str, DocFields]: ...

    def documents(self, limit: int | None = None, offset: int = 0) -> list[DocFields]: ...

    def chunk_ids_matching(self, filters: Filters) -> np.ndarray: ...

    def chunk_dates(self, ids: list[int]) -> dict[int, str | None]:
        """The date of each chunk's document (YYYY-MM-DD or None), by chunk id."""

    def newest_date(self) -> str | None: ...

    def undated_chunk_ids(self) -> np.ndarray:
        """The chunks of documents without a date."""

    def stories_of(self, doc_ids: list[str]) -> dict[str, str]:
        """The story of each document that has one: near-duplicates share it."""

    def story_members(self, stories: list[str]) -> dict[str, list[DocFields]]:
        """The documents of each story, oldest first."""

    def check(self) -> list[str]: ...

    def close(self) -> None: ...


class StoreWriter(Protocol):
    """One change set, applied as one new version on commit (or not at all)."""

    counts: dict  # after commit: documents, chunks, sentences and the index's kind

    def remove(self, doc_ids: list[str]) -> dict[str, np.ndarray]:
        """Drop documents; return their chunk and sentence vectors by key for reuse."""

    def add(self, batch: Batch) -> None: ...

    def story_rows(self) -> list[StoryRow]: ...

    def unstoried(self) -> Iterable[tuple[str, str, str, str | None]]:
        """(doc_id, text, title, date) of the documents without a story yet (added, or stored before
        stories were), oldest first."""

    def set_stories(self, rows: list[StoryRow]) -> None: ...

    def clear_stories(self) -> None:
        """Forget every story (they are found again, as the current STORIES_VERSION finds them)."""

    def commit(self) -> str:
        """Publish the new version atomically; return its name."""


class StoreBackend(Protocol):
    where: str  # the store, as messages name it (never a password)

    def current_version(self) -> str | None: ...

    def check_manifest(self, manifest: Manifest, model: str) -> None:
        """StoreMismatchError when the index was built with another model or format."""

    def current_manifest(self) -> Manifest | None: ...

    def known_documents(self) -> dict[str, KnownDocument]: ...

    def open_reader(self, model: str | None) -> StoreReader: ...

    def lock(self) -> AbstractContextManager[None]: ...

    def writer(self, manifest: Manifest, rebuild: bool) -> AbstractContextManager[StoreWriter]: ...


# -- shared by the backends ---------------------------------------------------------------------

def document_text_hash(text: str) -> str:
    """The hash recorded for a document's stored text, checked by `qa check`."""
    return hashlib.sha256(text.encode()).hexdigest()


def text_hash_problems(rows: Iterable[tuple[str, str, str]]) -> list[str]:
    """(doc_id, recorded hash, stored text) rows whose text no longer matches its hash."""
    return [f"document {doc_id!r}: stored text does not match its recorded hash"
            for doc_id, recorded, text in rows if document_text_hash(text) != recorded]


class LexicalIndex(Protocol):
    """BM25 over a version's chunks: bm25s in memory (qa.store.bm25) or postings in PostgreSQL."""

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]: ...

    def knows(self, term: str) -> bool: ...

    def idf(self, term: str) -> float: ...


class ManifestBm25Reader:
    """What every reader derives from its version's manifest and its lexical index
    (subclasses set `manifest` and `bm25`)."""

    manifest: Manifest
    bm25: LexicalIndex

    @property
    def broken(self) -> bool:
        """A reader that lost its database (PostgreSQL) is replaced by the engine; files are not lost."""
        return False

    @property
    def count_documents(self) -> int:
        return self.manifest.documents

    @property
    def count_chunks(self) -> int:
        return self.manifest.chunks

    def lexical_search(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        return self.bm25.search(query, k, allowed)

    def idf(self, term: str) -> float:
        return self.bm25.idf(term)

    def knows(self, term: str) -> bool:
        return self.bm25.knows(term)
