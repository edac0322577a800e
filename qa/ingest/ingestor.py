"""Ingestion: files -> plan (content hashes) -> documents -> chunks and sentences -> vectors ->
one new store version, embedding only text the store has not seen."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from qa import __version__
from qa.embedding import Embedder, embed_passages
from qa.errors import InputError, NotFoundError
from qa.ingest.chunking import ENCODING, Chunker
from qa.ingest.corpus import Candidate, SkipFile, discover, file_hash, load_document, read_bytes, supported
from qa.ingest.plan import FileState, Plan, plan_changes, same_files, within
from qa.ingest.readers import Extracted
from qa.ingest.sandbox import bounds_from
from qa.ingest.stories import STORIES_VERSION, assign_stories, signature
from qa.settings import Settings
from qa.store import StoreBackend, open_backend
from qa.store.base import Batch, Manifest, StoreWriter, StoryRow
from qa.store.local import text_hash
from qa.text.lexical import LEXICAL_VERSION
from qa.text.sentences import split_sentences
from qa.types import Chunk, Document

Progress = Callable[[int, int], None]  # (documents done, documents to process)
DOC_BATCH = 64  # documents chunked and embedded together: big enough for full batches


class Staged(Protocol):
    """Files that come with the ingest (uploads): written once the store lock is held, already
    extracted (a file is extracted once), shown under a source name of their own."""

    def write(self) -> None: ...

    def extracted(self, path: Path, sha256: str) -> Extracted | None: ...

    def source(self, path: Path) -> str | None: ...


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    chunks: int = 0
    sentences: int = 0
    documents: int = 0
    embedded: int = 0
    reused: int = 0
    seconds: float = 0.0
    generation: str | None = None
    index: str = ""
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (new document, the stored one it copies)

    def with_counts(self, counts: dict) -> IngestReport:
        """The size of the version just written, as its writer counted it."""
        self.documents, self.chunks = counts["documents"], counts["chunks"]
        self.sentences, self.index = counts["sentences"], counts["index"]
        return self

    def to_json(self) -> dict:
        data = dict(self.__dict__)
        data["skipped"] = [{"path": p, "reason": r} for p, r in self.skipped]
        data["duplicates"] = [{"doc_id": d, "copy_of": c} for d, c in self.duplicates]
        return data


class Ingestor:
    """Brings a store in line with a set of files."""

    def __init__(self, settings: Settings, embedder: Callable[[], Embedder], progress: Progress | None = None,
                 backend: StoreBackend | None = None, passage_embedder=None):
        """`passage_embedder`, when given, embeds the passages instead of the in-process model
        (an object with embed_passages(texts, spans), e.g. RayPassageEmbedder)."""
        self.settings = settings
        self.passage_embedder = passage_embedder
        self._embedder_factory = embedder
        self._embedder: Embedder | None = None
        self.progress = progress or (lambda done, total: None)
        self.backend = backend or open_backend(settings)
        self.bounds = bounds_from(settings)

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:  # loaded only when something must be embedded
            self._embedder = self._embedder_factory()
        return self._embedder

    def run(self, paths: list[Path], rebuild: bool = False, staged: Staged | None = None) -> IngestReport:
        started = time.perf_counter()
        with self.backend.lock():
            if staged is not None:
                staged.write()
            found = discover(paths)
            # a folder emptied of its files (the last one deleted) empties its documents from the index
            if not found.candidates and not self._holds_documents_from(found.roots):
                where = ", ".join(str(p) for p in paths)
                detail = "; ".join(f"{p}: {r}" for p, r in found.skipped[:3])
                raise InputError(f"no supported files ({supported()}) in {where}"
                                 f"{' (' + detail + ')' if detail else ''}; nothing changed")
            report = self._run_locked(found, rebuild, staged)
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    def _holds_documents_from(self, roots) -> bool:
        """Whether the index holds documents ingested from one of these folders or a folder inside one."""
        if self.backend.current_manifest() is None:
            return False
        names = {str(r) for r in roots}
        return any(within(known.root, names) for known in self.backend.known_documents().values())

    def delete(self, doc_ids: list[str]) -> IngestReport:
        """Remove documents in one new version (their files are not touched)."""
        with self.backend.lock():
            manifest = self.backend.current_manifest()
            known = self.backend.known_documents() if manifest else {}
            missing = [d for d in doc_ids if d not in known]
            if missing or manifest is None:
                raise NotFoundError(f"no document {(missing or doc_ids or [''])[0]!r} in the index")
            report = IngestReport(removed=len(doc_ids))
            with self.backend.writer(manifest, False) as writer:
                writer.remove(doc_ids)
                report.generation = writer.commit()
        return report.with_counts(writer.counts)

    def _run_locked(self, found, rebuild: bool, staged: Staged | None = None) -> IngestReport:
        manifest = None if rebuild else self.backend.current_manifest()
        if manifest:
            self.backend.check_manifest(manifest, self.settings.embedding.embedding_model)
        known = self.backend.known_documents() if manifest else {}
        report = IngestReport(skipped=list(found.skipped))
        states, unreadable = hash_files(found.candidates, self.settings.ingest.max_file_bytes, report)
        # a file the index holds from another folder (a parent ingested after its subfolder) keeps its id
        states, unreadable = same_files(states, known), same_files(unreadable, known)
        plan = plan_changes(states, known, {str(r) for r in found.roots},
                            rechunk_all=manifest is not None
                            and manifest.chunking != manifest_base(self.settings).chunking,
                            unreadable=frozenset(s.doc_id for s in unreadable))
        report.added, report.updated = plan.added, plan.updated
        report.unchanged, report.removed = plan.unchanged, plan.removed
        report.skipped += [(s.path, f"document id {s.doc_id!r} already taken by another file") for s in plan.duplicates]
        if not manifest and not plan.to_index:
            raise _nothing_readable(report)
        stories_done = manifest is not None and (manifest.stories == STORIES_VERSION
                                                 or not self.settings.ingest.fold_duplicates)
        if manifest is not None and stories_done and not plan.changes:  # older versions get stories now
            report.documents, report.chunks = manifest.documents, manifest.chunks
            report.sentences, report.generation = manifest.sentences, self.backend.current_version()
            return report
        with self.backend.writer(manifest_base(self.settings, self.embedder), rebuild) as writer:
            self._apply(writer, plan, set(known), report, staged)
            if not manifest and not report.added:
                raise _nothing_readable(report)
            stale = manifest is not None and manifest.stories != STORIES_VERSION  # found another way before
            self._find_stories(writer, {d.doc_id for d in plan.to_index}, report, stale)
            report.generation = writer.commit()
        return report.with_counts(writer.counts)

    def _apply(self, writer: StoreWriter, plan: Plan, known: set[str], report: IngestReport,
               staged: Staged | None = None) -> None:
        reusable = writer.remove(plan.to_remove)
        total = len(plan.to_index)
        for first in range(0, total, DOC_BATCH):
            documents = self._load(plan.to_index[first:first + DOC_BATCH], known, report, staged)
            reusable.update(writer.remove([d.doc_id for d in documents if d.doc_id in known]))
            writer.add(self._batch(documents, reusable, report))
            self.progress(min(first + DOC_BATCH, total), total)

    def _find_stories(self, writer: StoreWriter, indexed: set[str], report: IngestReport, stale: bool) -> None:
        """Near-duplicates of the documents without a story yet (those just added, and all of a
        version written before stories were kept, or kept another way) among every stored document."""
        if not self.settings.ingest.fold_duplicates:
            return
        if stale:
            writer.clear_stories()
        new = [StoryRow(doc_id, doc_id, signature(text), title, day) for doc_id, text, title, day in writer.unstoried()]
        if not new:
            return
        assigned = assign_stories(writer.story_rows(), new, self.settings.ingest.duplicate_similarity)
        writer.set_stories([row for row, _ in assigned])
        report.duplicates += [(row.doc_id, copied) for row, copied in assigned
                              if copied is not None and row.doc_id in indexed]

    def _load(self, states: list[FileState], known: set[str], report: IngestReport,
              staged: Staged | None = None) -> list[Document]:
        """The planned documents that really load; a file that cannot be read keeps its old version."""
        documents = []
        for state in states:
            path = Path(state.path)
            try:
                data = read_bytes(path, self.settings.ingest.max_file_bytes, state.found)
                # planned by its hash: an upload whose bytes are still those it was extracted from
                extracted = staged.extracted(path, state.sha256) if staged else None
                source = staged.source(path) if staged else None
                documents.append(load_document(Candidate(Path(state.root), path), data, self.bounds, extracted, source))
            except SkipFile as skip:
                report.skipped.append((state.path, str(skip)))
                if state.doc_id in known:
                    report.updated -= 1
                else:
                    report.added -= 1
        return documents

    def _batch(self, documents: list[Document], reusable: dict[str, np.ndarray], report: IngestReport) -> Batch:
        chunker = chunker_for(self.settings, self.embedder)
        chunks = [c for doc in documents for c in chunker.chunk(doc.doc_id, doc.text)]
        texts = {d.doc_id: d.text for d in documents}
        spans = [sentence_spans(c, texts[c.doc_id]) for c in chunks]
        chunk_vectors, sentence_vectors = self._vectors(chunks, spans, reusable, report)
        sentences, rows, seen = [], [], set()
        for chunk, chunk_spans, vectors in zip(chunks, spans, sentence_vectors):
            key_base = text_hash(chunk.text)
            for span, vector in zip(chunk_spans, vectors):
                if (chunk.doc_id, span.start) in seen:  # overlapping chunks share sentences: keep the first
                    continue
                seen.add((chunk.doc_id, span.start))
                key = f"{key_base}:{span.start - chunk.start}:{span.end - chunk.start}"
                sentences.append((chunk.doc_id, span, key))
                rows.append(vector)
        dim = chunk_vectors.shape[1] if len(chunk_vectors) else self.embedder.dim
        return Batch(documents, chunks, chunk_vectors, sentences,
                     np.vstack(rows) if rows else np.zeros((0, dim), dtype=np.float32))

    def _vectors(self, chunks: list[Chunk], spans: list[list], reusable: dict, report: IngestReport):
        """Chunk and sentence vectors, reused when the chunk's text was embedded before."""
        keys = [text_hash(c.text) for c in chunks]
        sentence_keys = [[f"{k}:{s.start - c.start}:{s.end - c.start}" for s in ss]
                         for k, c, ss in zip(keys, chunks, spans)]
        missing = [i for i, (k, sk) in enumerate(zip(keys, sentence_keys))
                   if k not in reusable or any(x not in reusable for x in sk)]
        texts = [chunks[i].text for i in missing]
        offsets = [[(s.start - chunks[i].start, s.end - chunks[i].start) for s in spans[i]] for i in missing]
        if self.passage_embedder is not None and texts:
            fresh, fresh_spans = self.passage_embedder.embed_passages(texts, offsets)
        else:
            fresh, fresh_spans = embed_passages(self.embedder, texts, offsets, self.settings.embedding.sentence_vectors)
        for i, vector, span_vectors in zip(missing, fresh, fresh_spans):
            reusable[keys[i]] = vector
            reusable.update(zip(sentence_keys[i], span_vectors))
        report.embedded += len(missing)
        report.reused += len(chunks) - len(missing)
        dim = self.embedder.dim if not chunks else len(reusable[keys[0]])
        chunk_vectors = np.array([reusable[k] for k in keys], dtype=np.float32).reshape(len(chunks), dim)
        return chunk_vectors, [[reusable[x] for x in sk] for sk in sentence_keys]


def chunker_for(settings: Settings, embedder: Embedder) -> Chunker:
    return Chunker(settings.ingest.chunk_tokens, settings.ingest.chunk_overlap,
                   model_tokens=embedder.count_tokens if embedder.max_tokens else None,
                   model_limit=embedder.max_tokens)


def manifest_base(settings: Settings, embedder: Embedder | None = None) -> Manifest:
    """What built the store: a store opened with anything else is refused or re-chunked."""
    return Manifest(
        model=settings.embedding.embedding_model, encoding=ENCODING, lexical=LEXICAL_VERSION,
        chunk_tokens=settings.ingest.chunk_tokens, chunk_overlap=settings.ingest.chunk_overlap,
        sentence_vectors=settings.embedding.sentence_vectors, versions={"qa": __version__},
        # a version written without stories gets them at its next ingest
        stories=STORIES_VERSION if settings.ingest.fold_duplicates else None,
        dim=embedder.dim if embedder is not None else 0,
        model_max_tokens=embedder.max_tokens if embedder is not None else None)


def hash_files(candidates: list[Candidate], max_bytes: int,
               report: IngestReport) -> tuple[list[FileState], list[FileState]]:
    """Each readable file's content hash; unreadable ones (no hash) are reported (and keep their
    old version)."""
    states, unreadable = [], []
    for candidate in candidates:
        try:
            data = read_bytes(candidate.path, max_bytes, candidate.found)
        except SkipFile as skip:
            report.skipped.append((str(candidate.path), str(skip)))
            unreadable.append(FileState(candidate.doc_id, "", str(candidate.root), str(candidate.path)))
            continue
        states.append(FileState(candidate.doc_id, file_hash(data), str(candidate.root), str(candidate.path),
                                candidate.found))
    return states, unreadable


def _nothing_readable(report: IngestReport) -> InputError:
    reasons = "; ".join(f"{p}: {r}" for p, r in report.skipped[:3])
    return InputError(f"no readable documents ({reasons}); nothing changed")


def sentence_spans(chunk: Chunk, text: str) -> list:
    """The sentences of a chunk, in document offsets: what answers are made of."""
    return split_sentences(text, chunk.start, chunk.end)
