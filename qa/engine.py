"""The engine behind every face: one store version and one model per process, shared by all
requests; a newer version written by an ingest is picked up on the next request."""
from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

from qa import messages
from qa.answering.base import Answerer, passage_docs
from qa.answering.citations import Location, Verdict
from qa.answering.extractive import ExtractiveAnswerer, Tuning
from qa.answering.reader import SentenceReader, load_reader
from qa.answering.span import SpanReader, load_span_reader, with_short_answer
from qa.embedding import Embedder, load_embedder
from qa.errors import InputError, QAError
from qa.ingest.ingestor import Ingestor, IngestReport, Progress
from qa.library import Library
from qa.retrieval import timeprior
from qa.retrieval.digest import Digest, DigestRequest, digest_request, narrowed
from qa.retrieval.outlets import with_named_outlet
from qa.retrieval.relevance import RelevanceScorer
from qa.retrieval.rerank import SentenceReranker
from qa.retrieval.retrieve import Retriever
from qa.retrieval.stories import fold_hits, with_reporters
from qa.retrieval.timeprior import TimePrior, median_date
from qa.settings import Settings
from qa.stages import stage
from qa.store import StoreBackend, StoreReader, open_backend
from qa.store.base import DocFields
from qa.text.condense import Exchange, condensed_from, context_of, exchanges, names_someone_unnamed, no_question_content
from qa.text.questions import understand
from qa.text.timewords import RECENT_DAYS, absolute, iso_day, parse_as_of, parse_day, read_time
from qa.types import (
    Answer,
    Document,
    Filters,
    Hit,
    PassageSentence,
    Question,
    Results,
    Turn,
    page_at,
    plain_name,
)
from qa.verification import Verifier

MAX_K = 50


@dataclass
class _Loaded:
    store: StoreReader
    retriever: Retriever
    answerer: Answerer
    extractive: ExtractiveAnswerer  # what scores sentences, whatever writes the answer
    spans: SpanReader | None = None  # the direct answer's reader (None: short answers off)
    newest: date | None = None  # the newest document's date: the default as_of of an old corpus
    median: date | None = None  # the documents' median date: what an undated one is weighed as


def make_answerer(settings: Settings, store: StoreReader,
                  reader: SentenceReader | None) -> tuple[Answerer, ExtractiveAnswerer]:
    """The answerer the settings name (QA_ANSWERER), and the extractive one under it, reading
    with `reader` (loaded once per process: qa.engine.Models)."""
    extractive = ExtractiveAnswerer(store, Tuning.from_settings(settings), reader)
    if settings.answer.answerer == "llm":
        from qa.answering.llm import LlmAnswerer, LlmClient

        llm = settings.llm
        client = LlmClient(llm.llm_url or "", llm.llm_model, llm.llm_api_key, llm.llm_timeout)
        return LlmAnswerer(store, client, extractive), extractive
    return extractive, extractive


class Models:
    """The learned models, loaded once per process and shared by every store version: an upload
    makes a new version, not new models (a version used to load its own readers, about 0.3 s and
    one more copy each until the old version was collected)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()
        self._readers: tuple[SentenceReader | None, SpanReader | None] | None = None

    def readers(self) -> tuple[SentenceReader | None, SpanReader | None]:
        with self._lock:
            if self._readers is None:
                reader = self.settings.reader
                self._readers = load_reader(reader.reader), load_span_reader(reader.short_answers)
            return self._readers


class Engine:
    def __init__(self, settings: Settings, embedder: Embedder | None = None, backend: StoreBackend | None = None):
        self.settings = settings
        self.backend = backend or open_backend(settings)
        self._embedder = embedder
        self._loaded: _Loaded | None = None
        self.models = Models(settings)
        self._lock = threading.Lock()
        self._reload_lock = threading.Lock()  # one thread loads a new version; others keep serving
        self.library = Library(settings, self.backend, self._ingestor, lambda: self.store)
        self.verifier = Verifier(lambda: self.store, self.library.document, self.search,
                                 lambda text, what: valid_text(settings.answer.max_question_chars, text, what))

    # -- the pieces, loaded once and lazily ---------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                e = self.settings.embedding
                self._embedder = load_embedder(e.embedding_model, e.embed_batch_size, e.embed_threads, e.cache_dir)
            return self._embedder

    def _current(self) -> _Loaded:
        version = self.backend.current_version()
        loaded = self._loaded
        if loaded is not None and not loaded.store.broken and (version is None or version == loaded.store.version):
            return loaded
        with self._reload_lock:
            if self._loaded is None or self._loaded.store.version != version or self._loaded.store.broken:
                replaced, self._loaded = self._loaded, self._load()
                if replaced is not None:
                    del replaced, loaded
                    # the old version's objects refer to each other: collected now, its files
                    # (deleted by the ingest that replaced it) are let go instead of held open
                    gc.collect()
            return self._loaded

    def _load(self) -> _Loaded:
        store = self.backend.open_reader(self.settings.embedding.embedding_model)
        r = self.settings.retrieval
        reranker = SentenceReranker(RelevanceScorer(store, r.term_weights)) if r.rerank_candidates else None
        retriever = Retriever(store, r.rrf_k, r.dense_weight, r.bm25_weight, reranker, r.rerank_candidates)
        reader, spans = self.models.readers()
        return _Loaded(store, retriever, *make_answerer(self.settings, store, reader), spans,
                       iso_day(store.newest_date()),
                       median_date([d.date for d in store.documents()]) if timeprior.UNDATED_AS == "median" else None)

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
        embedding = self.settings.embedding
        remote = RayPassageEmbedder(ray_address, embedding.embedding_model, embedding.sentence_vectors,
                                    cache=embedding.cache_dir)
        try:
            return self._ingestor(progress, remote).run(paths, rebuild=rebuild)
        finally:
            remote.close()

    def _ingestor(self, progress: Progress | None = None, passage_embedder=None) -> Ingestor:
        return Ingestor(self.settings, lambda: self.embedder, progress, self.backend, passage_embedder)

    # -- documents and citations: their own objects ----------------------------------------------
    @property
    def uploads_dir(self) -> Path:
        return self.library.uploads_dir

    def upload(self, files: list[tuple[str, bytes]]) -> IngestReport:
        return self.library.upload(files)

    def delete(self, doc_id: str) -> IngestReport:
        return self.library.delete(doc_id)

    def sweep_uploads(self) -> list[Path]:
        return self.library.sweep_uploads()

    def documents(self, limit: int = 50, offset: int = 0) -> tuple[int, list[DocFields]]:
        return self.library.documents(limit, offset)

    def document(self, doc_id: str) -> Document:
        return self.library.document(doc_id)

    def verify(self, result: dict) -> tuple[bool, list[Verdict]]:
        return self.verifier.verify(result)

    def locate_quote(self, quote: str, doc_id: str | None = None) -> Location | None:
        return self.verifier.locate_quote(quote, doc_id)

    def closest_passage(self, quote: str, doc_id: str | None = None) -> tuple[Document, int, int] | None:
        return self.verifier.closest_passage(quote, doc_id)

    # -- questions -----------------------------------------------------------------------------
    def search(self, query: str, k: int | None = None, filters: Filters | None = None,
               as_of: str | None = None) -> list[Hit]:
        return self.find(query, k, filters, as_of).hits

    def find(self, query: str, k: int | None = None, filters: Filters | None = None,
             as_of: str | None = None) -> Results:
        """The k best passages, one per story, ranked with the query's time as of `as_of`."""
        query = valid_text(self.settings.answer.max_question_chars, query, "query")
        k = valid_k(k, self.settings.retrieval.search_k)
        loaded = self._current()
        with stage("understand"):
            prior = self._prior(query, self.as_of(as_of, loaded), as_of)
        vector = self._embed_query(query)
        with stage("search"):
            hits = loaded.retriever.search(query, vector, min(MAX_K, 2 * k),
                                           rerank=self.settings.retrieval.rerank_search, filters=valid_filters(filters),
                                           prior=prior)
            hits = self._folded(hits, loaded, k)
        return Results(query, hits, prior.reading.as_of.isoformat(), prior.reading.to_json())

    def ask(self, question: str, history: list[Turn] | None = None, k: int | None = None,
            on_token: Callable[[str], None] | None = None, filters: Filters | None = None,
            as_of: str | None = None) -> Answer:
        """An answer; with an LLM answerer, `on_token` receives its words as they arrive."""
        asked = valid_text(self.settings.answer.max_question_chars, question, "question")
        history = [t for t in (history or []) if t.text.strip()][-10:]
        loaded = self._current()
        day = self.as_of(as_of, loaded)
        if no_question_content(asked, loaded.store.knows):  # "ok", "thanks", keyboard noise: no search
            return Answer(asked, True, (), abstention=messages.NOTHING_ASKED, as_of=day.isoformat())
        digest = digest_request(asked, read_time(asked, day))
        if digest is not None:  # "What happened this week?": the window's stories (qa.retrieval.digest)
            return self._digest(asked, digest, day, valid_filters(filters), loaded)
        with stage("understand"):
            read = loaded.spans.choose if loaded.spans else None
            earlier = exchanges(history, read)  # the conversation as data, read once
            condensed = self._condensed(asked, earlier, read, loaded)
            # an unresolved follow-up ("Why not?" nothing could be put in place of) is searched and
            # read together with the question it follows; the question shown stays the user's
            context = context_of(asked, condensed, earlier)
            reading = f"{condensed} {context}" if context else condensed
            # "…, according to X?": X's documents only, and X is not what is searched for
            reading, wanted = with_named_outlet(reading, valid_filters(filters), loaded.store)
            prior = self._prior(condensed, day, as_of)
            understood = replace(understand(asked, reading, self._embed_query(reading), wanted), prior=prior)
        k = valid_k(k, self.settings.retrieval.answer_k)
        with stage("search"):
            passages = loaded.retriever.search(reading, understood.vector, min(MAX_K, 2 * k),
                                               filters=understood.filters, prior=prior)
            passages = self._folded(passages, loaded, k, copies_only=True)
        with stage("compose"):
            answer = loaded.answerer.answer(understood, passages, on_token=on_token)
            if context:
                answer = replace(answer, condensed_question=condensed,
                                 warnings=answer.warnings + (messages.read_with(context),))
            elif not earlier and names_someone_unnamed(asked):
                answer = replace(answer, warnings=answer.warnings + (messages.READ_ALONE,))
        with stage("span"):
            answer = with_short_answer(answer, understood, loaded.spans, self.settings.reader.short_answer_threshold,
                                       self.settings.reader.short_answer_corroborators)
        with stage("render"):
            return self._rendered(answer, understood, prior, day, loaded)

    def _condensed(self, asked: str, earlier: list[Exchange], read, loaded: _Loaded) -> str:
        """The follow-up made self-contained: by the LLM when one answers (its rewrite checked:
        qa.answering.llm.condensed_by_llm), else, or when the check fails, by the rules."""
        client = getattr(loaded.answerer, "client", None)
        if client is not None and earlier:
            from qa.answering.llm import condensed_by_llm

            pairs = [(e.question, " ".join([e.extract, *e.others])) for e in earlier]
            rewrite = condensed_by_llm(client, asked, pairs)
            if rewrite:
                return rewrite
        return condensed_from(asked, earlier, read)

    def _digest(self, asked: str, request: DigestRequest, day: date, filters: Filters | None,
                loaded: _Loaded) -> Answer:
        hits = None
        if request.topic is not None:
            within = narrowed(filters, request.window)
            hits = [] if within is None else loaded.retriever.search(
                request.topic, self._embed_query(request.topic), MAX_K, filters=within)
        answer = Digest(loaded.store).answer(asked, request, filters, hits)
        return replace(answer, as_of=day.isoformat(), time=request.window.to_json())

    def _rendered(self, answer: Answer, understood: Question, prior: TimePrior, day: date, loaded: _Loaded) -> Answer:
        """The answer as every face gives it: the filters named when it abstains (the answer may be
        in what they leave out), its time, a note when nothing dated in the question's window
        answers, the story's other reporters and the pages of its citations."""
        abstention = answer.abstention
        if answer.abstained and understood.filters:
            abstention += messages.only_filtered(understood.filters.describe())
        citations = answer.citations
        if self.settings.ingest.fold_duplicates:
            citations = tuple(with_reporters(list(citations), loaded.store))
        answer = replace(answer, abstention=abstention, as_of=day.isoformat(), time=prior.reading.to_json(),
                         warnings=answer.warnings + _not_placed(prior) + _outside_window(answer, prior),
                         citations=citations)
        return _with_pages(answer, loaded.store)

    def _folded(self, hits: list[Hit], loaded: _Loaded, k: int, copies_only: bool = False) -> list[Hit]:
        """One hit per story (qa.retrieval.stories), unless folding is off."""
        if not self.settings.ingest.fold_duplicates:
            return hits[:k]
        return fold_hits(hits, loaded.store, k, copies_only)

    def as_of(self, value: str | None = None, loaded: _Loaded | None = None) -> date:
        """The date a question is asked as of: `value` (YYYY-MM-DD) when given; else today for a
        corpus with documents from the last 30 days, else the newest document's date."""
        if value is not None:
            try:
                return parse_as_of(value)
            except ValueError as exc:
                raise InputError(str(exc)) from None
        newest = (loaded or self._current()).newest
        today = date.today()
        if newest is None or newest >= today - timedelta(days=RECENT_DAYS):
            return today
        return newest

    def _prior(self, text: str, day: date, given: str | None) -> TimePrior:
        """The question's time as of `day`. Recency only when "now" is known: as_of was given, or
        it is today (a corpus with recent documents). An archive's newest date stands in for now
        when nothing says when; recency against it reordered a corpus of papers spanning years
        (COVID-QA nDCG@10 0.86 -> 0.54) and changed nothing on news dev
        (docs/measurements.md)."""
        recency = given is not None or day == date.today()
        reading = read_time(text, day)
        if given is not None and reading.window is None:
            # a date the user gave places the question in time, whatever its tense: the news dev
            # quizzes asked as of their dates keep their timely answers (0.429; past tense only
            # from the question: 0.395). "Now" only guessed from the folder: the tense decides
            reading = replace(reading, present=True)
        undated = self._current().median if timeprior.UNDATED_AS == "median" else None
        prior = TimePrior.from_settings(reading, self.settings.retrieval, recency, undated)
        if not recency and reading.window is not None and not absolute(reading.window.words):
            # "now" is a guess (the newest document's date): "this week" is not placed in time
            prior = replace(prior, outside=1.0, placed=False)
        return prior

    def sentences(self, question: str, hide_doc: str | None = None, filters: Filters | None = None,
                  as_of: str | None = None) -> list[PassageSentence]:
        """The sentences an answer to `question` is chosen from, best first, with their relevance
        and the reader's probability (benches and diagnostics); `hide_doc` leaves one document out."""
        asked = valid_text(self.settings.answer.max_question_chars, question, "question")
        loaded = self._current()
        prior = self._prior(asked, self.as_of(as_of, loaded), as_of)
        understood = replace(understand(asked, asked, self._embed_query(asked), valid_filters(filters)), prior=prior)
        k = self.settings.retrieval.answer_k
        passages = loaded.retriever.search(asked, understood.vector, MAX_K if hide_doc else k,
                                           filters=understood.filters, prior=prior)
        passages = [p for p in passages if p.doc_id != hide_doc][:k]
        return loaded.extractive.scored_sentences(understood, passages)

    def ask_streamed(self, question: str, history: list[Turn] | None = None, k: int | None = None,
                     filters: Filters | None = None, as_of: str | None = None):
        """("token", text) while the answer is written, then ("answer", Answer) or ("error", QAError)."""
        return answer_events(lambda on_token: self.ask(question, history, k, on_token, filters, as_of))

    def _embed_query(self, text: str):
        with stage("embed"):
            return self.embedder.embed([text])[0]

    def check(self) -> list[str]:
        """A full integrity check of the live version (beyond what opening it checks)."""
        return self.store.check()

    def stats(self) -> dict:
        """The corpus's size and model."""
        return self._stats_of(self.store)

    def loaded_stats(self) -> dict | None:
        """The corpus's size and model, of the version already in memory, without asking the store
        whether a newer one exists (no I/O: a health check under load), or None when nothing is
        loaded yet."""
        loaded = self._loaded
        return None if loaded is None else self._stats_of(loaded.store)

    @staticmethod
    def _stats_of(store: StoreReader) -> dict:
        return {"documents": store.count_documents, "chunks": store.count_chunks,
                "model": store.manifest.model, "generation": store.version}


def valid_text(limit: int, text, what: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"the {what} is empty")
    if len(text) > limit:
        raise InputError(f"the {what} is {len(text):,} characters long; the limit is {limit:,}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"the {what} is not valid Unicode (it holds a lone surrogate)") from None
    return text.strip()


def valid_k(k, default: int) -> int:
    if k is None:
        return default
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise InputError(f"k must be a whole number from 1 to {MAX_K}, not {messages.echo(k)}")
    return k


def answer_events(ask: Callable[[Callable[[str], None]], Answer]):
    """Runs `ask(on_token)` in a thread so its words can be handed on as they arrive: yields
    ("token", text) while the answer is written, then ("answer", Answer) or ("error", QAError)."""
    import queue

    events: queue.Queue = queue.Queue()

    def work() -> None:
        try:
            events.put(("answer", ask(lambda t: events.put(("token", t)))))
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


def valid_filters(filters: Filters | None) -> Filters | None:
    """Filters with checked dates (YYYY-MM-DD) and no empty entries; None when nothing filters."""
    if not filters:
        return None
    for name in ("date_from", "date_to"):
        value = getattr(filters, name)
        if value is not None:
            try:
                parse_day(value, name)
            except ValueError as exc:
                raise InputError(str(exc)) from None
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise InputError(f"date_from {filters.date_from} is after date_to {filters.date_to}")
    return replace(filters, outlets=tuple(plain_name(o, "outlet").strip() for o in filters.outlets if o.strip()),
                   doc_ids=tuple(plain_name(d, "document id") for d in filters.doc_ids if d))


def _not_placed(prior: TimePrior) -> tuple[str, ...]:
    """Relative time words in a corpus whose "now" is a guess: they moved nothing, and a date would place them."""
    window = prior.reading.window
    if prior.placed or window is None:
        return ()
    return (messages.not_placed(window.words, prior.reading.as_of.isoformat()),)


def _outside_window(answer: Answer, prior: TimePrior) -> tuple[str, ...]:
    """When the question's time words point to a window and no cited report is dated in it, the
    answer says so, and says when its reports are from."""
    window = prior.window
    if answer.abstained or window is None or not prior.placed or any(prior.in_window(c.date) for c in answer.citations):
        return ()
    dates = sorted({c.date for c in answer.citations if c.date})
    return (messages.outside_window(window.start.isoformat(), window.end.isoformat(), window.words, dates),)


def _with_pages(answer: Answer, store: StoreReader) -> Answer:
    """Citations into paged documents (PDF) get their page number."""
    docs = passage_docs(answer.passages, store, {c.doc_id for c in answer.citations})
    if not any(d.pages for d in docs.values()):
        return answer
    return replace(answer, citations=tuple(replace(c, page=page_at(docs[c.doc_id].pages, c.start))
                                           if c.doc_id in docs else c for c in answer.citations))
