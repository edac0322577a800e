"""The engine behind every face: one store version and one model per process, shared by all
requests; a newer version written by an ingest is picked up on the next request."""
from __future__ import annotations

import glob
import re
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from qa.answering.base import Answerer, passage_docs
from qa.answering.extractive import ExtractiveAnswerer
from qa.answering.citations import Location, Verdict, check_span, locate
from qa.embedding import Embedder, load_embedder
from qa.errors import ConflictError, InputError, NotFoundError, QAError, StoreLockedError
from qa.ingest.corpus import display_path
from qa.ingest.ingestor import IngestReport, Ingestor, Progress
from qa.ingest.sandbox import bounds_from
from qa.ingest.uploads import StagedUploads, Upload, check_upload, sweep
from qa.retrieval.condense import condense
from qa.retrieval.relevance import PassageSentence, RelevanceScorer
from qa.retrieval.rerank import SentenceReranker
from qa.retrieval.retrieve import Retriever
from qa.settings import Settings
from qa.text.questions import understand
from qa.store import StoreBackend, StoreReader, open_backend
from qa.store.base import DocFields
from qa.types import Answer, Document, Filters, Hit, Turn, page_at

MAX_K = 50
WRITE_WAIT_SECONDS = 60  # an upload waits this long for the writes before it in this process
LOCATE_CANDIDATES = 20  # documents searched for an approximate quote: the ones BM25 ranks highest


@dataclass
class _Loaded:
    store: StoreReader
    retriever: Retriever
    answerer: Answerer
    extractive: ExtractiveAnswerer  # what scores sentences, whatever writes the answer


def make_answerer(settings: Settings, store: StoreReader) -> tuple[Answerer, ExtractiveAnswerer]:
    """The answerer the settings name (QA_ANSWERER), and the extractive one under it."""
    from qa.answering.extractive import Tuning
    from qa.answering.reader import load_reader

    extractive = ExtractiveAnswerer(store, Tuning.from_settings(settings), load_reader(settings.reader))
    if settings.answerer == "llm":
        from qa.answering.llm import LlmAnswerer, LlmClient

        client = LlmClient(settings.llm_url, settings.llm_model, settings.llm_api_key, settings.llm_timeout)
        return LlmAnswerer(store, client, extractive), extractive
    return extractive, extractive


class Engine:
    def __init__(self, settings: Settings, embedder: Embedder | None = None, backend: StoreBackend | None = None):
        self.settings = settings
        self.backend = backend or open_backend(settings)
        self._embedder = embedder
        self._loaded: _Loaded | None = None
        self._lock = threading.Lock()
        self._reload_lock = threading.Lock()  # one thread loads a new version; others keep serving
        self._write_lock = threading.Lock()

    # -- the pieces, loaded once and lazily ---------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                self._embedder = load_embedder(self.settings.embedding_model, self.settings.embed_batch_size)
            return self._embedder

    def _current(self) -> _Loaded:
        version = self.backend.current_version()
        loaded = self._loaded
        if loaded is not None and (version is None or version == loaded.store.version):
            return loaded
        with self._reload_lock:
            if self._loaded is None or self._loaded.store.version != version:
                self._loaded = self._load()
            return self._loaded

    def _load(self) -> _Loaded:
        store = self.backend.open_reader(self.settings.embedding_model)
        s = self.settings
        reranker = SentenceReranker(RelevanceScorer(store)) if s.rerank_candidates else None
        retriever = Retriever(store, s.rrf_k, s.dense_weight, s.bm25_weight, reranker, s.rerank_candidates)
        return _Loaded(store, retriever, *make_answerer(s, store))

    @property
    def store(self) -> StoreReader:
        return self._current().store

    # -- ingestion -----------------------------------------------------------------------------
    def ingest(self, paths: list[Path], rebuild: bool = False, progress: Progress | None = None,
               ray_address: str | None = None) -> IngestReport:
        """Bring the store in line with the files; with `ray_address` ("local" or a cluster's
        address) the passages are embedded on Ray instead of in this process."""
        if ray_address is None:
            return self._ingestor(progress).run(paths, rebuild=rebuild)
        try:
            from qa.embedding.distributed import RayPassageEmbedder
        except ImportError:
            raise InputError("--ray-address needs Ray: pip install 'corpus-qa[ray]'") from None
        remote = RayPassageEmbedder(ray_address, self.settings.embedding_model, self.settings.sentence_vectors)
        try:
            return self._ingestor(progress, remote).run(paths, rebuild=rebuild)
        finally:
            remote.close()

    def _ingestor(self, progress: Progress | None = None, passage_embedder=None) -> Ingestor:
        return Ingestor(self.settings, lambda: self.embedder, progress, self.backend, passage_embedder)

    @property
    def uploads_dir(self) -> Path:
        return (self.settings.uploads_dir or self.settings.store_dir / "uploads").resolve()

    def upload(self, files: list[tuple[str, bytes]]) -> IngestReport:
        """Add files a user sent: all are checked and extracted before any is written; answerable
        on return. Nothing changes when any file is refused or the ingest fails."""
        if not files:
            raise InputError("no file sent (multipart field \"file\")")
        bounds = bounds_from(self.settings)
        uploads = [check_upload(name, data, self.settings.max_upload_bytes, bounds) for name, data in files]
        if len({u.doc_id for u in uploads}) < len(uploads):
            raise InputError("two uploads would get the same document id; rename one")
        with self._writing():
            self._check_ids_free(uploads)
            staged = StagedUploads(self.uploads_dir, uploads)
            try:
                report = self._ingestor().run(staged.paths, staged=staged)
            except BaseException:
                staged.undo()
                raise
            if report.skipped:  # checked above, so only a reader change gets here
                staged.undo()
                raise InputError("; ".join(f"{Path(p).name}: {r}" for p, r in report.skipped))
        return report

    def _check_ids_free(self, uploads: list[Upload]) -> None:
        """An upload may replace the file it came from, never another file with its document id."""
        known = self.backend.known_documents()  # empty for a new store
        for upload in uploads:
            taken = known.get(upload.doc_id)
            if taken is not None and taken.root != str(self.uploads_dir):
                raise ConflictError(f"{upload.name}: document id {upload.doc_id!r} is already taken by a file "
                                    f"ingested from {display_path(Path(taken.root))}/; rename the upload")
            other = [p.name for p in self.uploads_dir.glob(f"{glob.escape(upload.doc_id)}.*")
                     if p.name != upload.name and p.stem == upload.doc_id]
            if other:
                raise ConflictError(f"{upload.name}: document id {upload.doc_id!r} is already taken by the upload "
                                    f"{other[0]}; delete that document first or rename the upload")

    @contextmanager
    def _writing(self):
        """One write (upload or delete) at a time in this process; the others wait their turn
        for a while, then are told to retry. Another process writing is the store lock's matter."""
        if not self._write_lock.acquire(timeout=WRITE_WAIT_SECONDS):
            raise StoreLockedError(f"the index is busy with other writes for over {WRITE_WAIT_SECONDS} s; retry shortly")
        try:
            yield
        finally:
            self._write_lock.release()

    def sweep_uploads(self) -> list[Path]:
        """Remove what killed or refused uploads left in the uploads folder (none when it is fine)."""
        with self._writing():
            return sweep(self.uploads_dir, set(self.backend.known_documents()))

    def delete(self, doc_id: str) -> IngestReport:
        """Remove a document from the index (an uploaded file goes too; a file in an ingested
        folder stays and comes back if that folder is ingested again)."""
        with self._writing():
            known = self.backend.known_documents()  # empty for a new store
            if doc_id not in known:
                raise NotFoundError(f"no document {doc_id!r} in the index")
            report = self._ingestor().delete([doc_id])
            if known[doc_id].root == str(self.uploads_dir):
                for path in self.uploads_dir.glob(f"{glob.escape(doc_id)}.*"):
                    if path.stem == doc_id:
                        path.unlink(missing_ok=True)
        release_memory()
        return report

    def documents(self, limit: int = 50, offset: int = 0) -> tuple[int, list[DocFields]]:
        if not 1 <= limit <= 1000 or not 0 <= offset <= 10**9:
            raise InputError("limit must be 1-1000 and offset 0-1000000000")
        store = self.store
        return store.count_documents, store.documents(limit, offset)

    # -- questions -----------------------------------------------------------------------------
    def search(self, query: str, k: int | None = None, filters: Filters | None = None) -> list[Hit]:
        query = self._valid_text(query, "query")
        k = self._valid_k(k, self.settings.search_k)
        loaded = self._current()
        return loaded.retriever.search(query, self._embed_query(query), k, rerank=self.settings.rerank_search,
                                       filters=valid_filters(filters))

    def ask(self, question: str, history: list[Turn] | None = None, k: int | None = None,
            on_token: Callable[[str], None] | None = None, filters: Filters | None = None) -> Answer:
        """An answer; with an LLM answerer, `on_token` receives its words as they arrive."""
        asked = self._valid_text(question, "question")
        history = [t for t in (history or []) if t.text.strip()][-10:]
        condensed = condense(asked, history)
        loaded = self._current()
        understood = understand(asked, condensed, self._embed_query(condensed), valid_filters(filters))
        passages = loaded.retriever.search(condensed, understood.vector, self._valid_k(k, self.settings.answer_k),
                                           filters=understood.filters)
        return _with_pages(loaded.answerer.answer(understood, passages, on_token=on_token), loaded.store)

    def sentences(self, question: str, hide_doc: str | None = None) -> list[PassageSentence]:
        """The sentences an answer to `question` is chosen from, best first, with their relevance
        and the reader's probability (benches and diagnostics); `hide_doc` leaves one document out."""
        asked = self._valid_text(question, "question")
        loaded = self._current()
        understood = understand(asked, asked, self._embed_query(asked))
        k = self.settings.answer_k
        passages = loaded.retriever.search(asked, understood.vector, MAX_K if hide_doc else k)
        passages = [p for p in passages if p.doc_id != hide_doc][:k]
        return loaded.extractive.scored_sentences(understood, passages)

    def ask_streamed(self, question: str, history: list[Turn] | None = None, k: int | None = None,
                     filters: Filters | None = None):
        """("token", text) while the answer is written, then ("answer", Answer) or ("error", QAError):
        the answer runs in a thread so its words can be handed on as they arrive."""
        import queue

        events: queue.Queue = queue.Queue()

        def work() -> None:
            try:
                events.put(("answer", self.ask(question, history, k, on_token=lambda t: events.put(("token", t)),
                                               filters=filters)))
            except QAError as exc:
                events.put(("error", exc))
            except Exception:  # the caller must never wait forever, nor see a traceback
                events.put(("error", QAError("internal error; see the server log")))
                raise

        threading.Thread(target=work, daemon=True).start()
        while True:
            kind, value = events.get()
            yield kind, value
            if kind != "token":
                return

    def _embed_query(self, text: str):
        return self.embedder.embed([text])[0]

    def _valid_text(self, text, what: str) -> str:
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"the {what} is empty")
        if len(text) > self.settings.max_question_chars:
            raise InputError(f"the {what} is {len(text):,} characters long; "
                             f"the limit is {self.settings.max_question_chars:,}")
        return text.strip()

    @staticmethod
    def _valid_k(k, default: int) -> int:
        if k is None:
            return default
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
            raise InputError(f"k must be a whole number from 1 to {MAX_K}, not {k!r}")
        return k

    # -- sources and citations -----------------------------------------------------------------
    def document(self, doc_id: str) -> Document:
        doc = self.store.document(doc_id)
        if doc is None:
            raise NotFoundError(f"no document {doc_id!r} in the index")
        return doc

    def verify(self, result: dict) -> tuple[bool, list[Verdict]]:
        """Check each citation of an ask result; say where a failing quote really is, if anywhere."""
        citations = result.get("citations") if isinstance(result, dict) else None
        if not isinstance(citations, list):
            raise InputError("expected an object with a \"citations\" list")
        verdicts = [self._verify_one(i, c) for i, c in enumerate(citations, start=1)]
        return all(v.valid for v in verdicts), verdicts

    def _verify_one(self, position: int, citation) -> Verdict:
        if not isinstance(citation, dict):
            return Verdict(position, False, "not a citation object")
        n = citation.get("n", position)
        n = n if isinstance(n, int) else position
        doc_id, quote = citation.get("doc_id"), citation.get("quote")
        doc = self.store.document(doc_id) if isinstance(doc_id, str) else None
        valid, reason = check_span(doc.text if doc else None, citation.get("start"), citation.get("end"), quote)
        if valid or not isinstance(quote, str) or not quote.strip():
            return Verdict(n, valid, reason)
        found = self.locate_quote(quote, doc_id if doc else None)
        if found is None:
            return Verdict(n, False, f"{reason}; the quote is not in the corpus")
        how = "exactly" if found.exact else f"approximately ({found.similarity:.0f}% similar)"
        return Verdict(n, False, f"{reason}; it appears {how} in {found.doc_id} at {found.start}-{found.end}",
                       found)

    def locate_quote(self, quote: str, doc_id: str | None = None) -> Location | None:
        """Where a quote appears: in the named document first, then anywhere in the corpus."""
        quote = self._valid_text(quote, "quote")
        if doc_id is not None:
            doc = self.document(doc_id)
            found = locate(quote, [(doc.doc_id, doc.text)])
            if found:
                return found
        candidates = self._documents_like(quote)
        return locate(quote, [(d.doc_id, d.text) for d in candidates if d])

    def _documents_like(self, quote: str) -> list[Document]:
        store = self.store
        if store.count_documents <= LOCATE_CANDIDATES:
            doc_ids = [d.doc_id for d in store.documents()]
        else:
            hits = self.search(quote, LOCATE_CANDIDATES) if len(quote) <= self.settings.max_question_chars else []
            doc_ids = list(dict.fromkeys(h.doc_id for h in hits))
        return [store.document(d) for d in doc_ids]

    def check(self) -> list[str]:
        """A full integrity check of the live version (beyond what opening it checks)."""
        return self.store.check()

    def stats(self) -> dict:
        store = self.store
        return {"documents": store.count_documents, "chunks": store.count_chunks,
                "model": store.manifest["model"], "generation": store.version}


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def valid_filters(filters: Filters | None) -> Filters | None:
    """Filters with checked dates (YYYY-MM-DD) and no empty entries; None when nothing filters."""
    if not filters:
        return None
    for name in ("date_from", "date_to"):
        value = getattr(filters, name)
        if value is not None and not (_ISO_DATE.fullmatch(value) and _is_date(value)):
            raise InputError(f"{name} must be a date as YYYY-MM-DD, not {value!r}")
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise InputError(f"date_from {filters.date_from} is after date_to {filters.date_to}")
    return replace(filters, outlets=tuple(o.strip() for o in filters.outlets if o.strip()),
                   doc_ids=tuple(d for d in filters.doc_ids if d))


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
        return True
    except ValueError:
        return False


def release_memory() -> None:
    """Hand freed heap back to the system (glibc keeps it otherwise): a server that deleted large
    documents should not stay at its peak size."""
    import ctypes
    import ctypes.util

    try:
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


def _with_pages(answer: Answer, store: StoreReader) -> Answer:
    """Citations into paged documents (PDF) get their page number."""
    docs = passage_docs(answer.passages, store, {c.doc_id for c in answer.citations})
    if not any(d.pages for d in docs.values()):
        return answer
    answer.citations = [replace(c, page=page_at(docs[c.doc_id].pages, c.start)) if c.doc_id in docs else c
                        for c in answer.citations]
    return answer
