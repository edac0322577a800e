"""The engine behind every face: one store version and one model per process, shared by all
requests; a newer version written by an ingest is picked up on the next request.

Every face hands it a request (qa.requests: AskRequest, SearchRequest); what the request leaves
unset (k, as_of) is resolved here from the settings, once. Documents and citations are their own
objects: `engine.library` (list, read, upload, delete) and `engine.verifier` (verify, locate).
"""
from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from qa import messages
from qa.answering.base import Answerer
from qa.answering.extractive import ExtractiveAnswerer, Tuning
from qa.answering.finish import finished
from qa.answering.reader import SentenceReader, load_reader
from qa.answering.span import SpanReader, load_span_reader, with_short_answer
from qa.embedding import Embedder, load_embedder
from qa.errors import InputError, QAError
from qa.ingest.ingestor import Ingestor, IngestReport, Progress
from qa.library import Library
from qa.requests import MAX_K, AskRequest, SearchRequest, as_of_day, valid_text
from qa.retrieval import timeprior
from qa.retrieval.digest import Digest, DigestRequest, digest_request, narrowed
from qa.retrieval.outlets import with_named_outlet
from qa.retrieval.relevance import RelevanceScorer, quoted_documents, support_within
from qa.retrieval.rerank import SentenceReranker
from qa.retrieval.retrieve import Retriever
from qa.retrieval.stories import fold_hits
from qa.retrieval.timeprior import TimePrior, median_date
from qa.settings import RetrievalSettings, Settings
from qa.stages import stage
from qa.store import StoreBackend, StoreReader, open_backend
from qa.text.condense import (
    Exchange,
    condensed_from,
    context_of,
    conversation_documents,
    exchanges,
    names_someone_unnamed,
    no_question_content,
)
from qa.text.questions import understand
from qa.text.timewords import RECENT_DAYS, absolute, iso_day, read_time
from qa.types import Answer, Filters, Hit, PassageSentence, Results, Turn
from qa.verification import Verifier

__all__ = ["MAX_K", "Engine", "Models", "answer_events", "make_answerer"]


@dataclass
class _Loaded:
    store: StoreReader
    retriever: Retriever
    answerer: Answerer
    extractive: ExtractiveAnswerer  # what scores sentences, whatever writes the answer
    spans: SpanReader | None = None  # the direct answer's reader (None: short answers off)
    newest: date | None = None  # the newest document's date: the default as_of of an old corpus
    median: date | None = None  # the documents' median date: what an undated one is weighed as


def make_answerer(settings: Settings, store: StoreReader, reader: SentenceReader | None,
                  spans: SpanReader | None = None) -> tuple[Answerer, ExtractiveAnswerer]:
    """The answerer the settings name (QA_ANSWERER), and the extractive one under it, reading
    with `reader` and checking its best sentences with `spans` (both loaded once per process:
    qa.engine.Models)."""
    extractive = ExtractiveAnswerer(store, Tuning.from_settings(settings), reader,
                                    spans if settings.reader.span_checks else None)
    if settings.answer.answerer == "llm":
        from qa.answering.llm import LlmAnswerer, LlmClient

        llm = settings.llm
        client = LlmClient(llm.llm_url or "", llm.llm_model, llm.llm_api_key, llm.llm_timeout)
        return LlmAnswerer(store, client, extractive), extractive
    return extractive, extractive


class Models:
    """The learned models (the embedder, the readers), loaded once per process and shared by every
    store version: an upload makes a new version, not new models (a version used to load its own
    readers, about 0.3 s and one more copy each until the old version was collected)."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None):
        self.settings = settings
        self._lock = threading.Lock()
        self._embedder = embedder
        self._readers: tuple[SentenceReader | None, SpanReader | None] | None = None

    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                e = self.settings.embedding
                self._embedder = load_embedder(e.embedding_model, e.embed_batch_size, e.embed_threads, e.cache_dir)
            return self._embedder

    def readers(self) -> tuple[SentenceReader | None, SpanReader | None]:
        with self._lock:
            if self._readers is None:
                reader = self.settings.reader
                self._readers = load_reader(reader.reader), load_span_reader(reader.short_answers or reader.span_checks)
            return self._readers


class _Versions:
    """The store version requests are served from, and what is built on it; a newer version
    written by an ingest is loaded by one thread while the others keep serving the old one."""

    def __init__(self, settings: Settings, backend: StoreBackend, models: Models):
        self.settings, self.backend, self.models = settings, backend, models
        self.loaded: _Loaded | None = None
        self._reload_lock = threading.Lock()

    def current(self) -> _Loaded:
        version = self.backend.current_version()
        loaded = self.loaded
        if loaded is not None and not loaded.store.broken and (version is None or version == loaded.store.version):
            return loaded
        with self._reload_lock:
            if self.loaded is None or self.loaded.store.version != version or self.loaded.store.broken:
                replaced, self.loaded = self.loaded, self._load()
                if replaced is not None:
                    del replaced, loaded
                    # the old version's objects refer to each other: collected now, its files
                    # (deleted by the ingest that replaced it) are let go instead of held open
                    gc.collect()
            return self.loaded

    def _load(self) -> _Loaded:
        store = self.backend.open_reader(self.settings.embedding.embedding_model)
        r = self.settings.retrieval
        reranker = SentenceReranker(RelevanceScorer(store, r.term_weights)) if r.rerank_candidates else None
        retriever = Retriever(store, r.rrf_k, r.dense_weight, r.bm25_weight, reranker, r.rerank_candidates)
        reader, spans = self.models.readers()
        short = spans if self.settings.reader.short_answers else None
        return _Loaded(store, retriever, *make_answerer(self.settings, store, reader, spans), short,
                       iso_day(store.newest_date()),
                       median_date([d.date for d in store.documents()]) if timeprior.UNDATED_AS == "median" else None)


class Engine:
    library_type: type[Library] = Library  # a server's logs its changes (qa.faces.server)

    def __init__(self, settings: Settings, embedder: Embedder | None = None, backend: StoreBackend | None = None):
        self.settings = settings
        self.backend = backend or open_backend(settings)
        self.models = Models(settings, embedder)
        self._versions = _Versions(settings, self.backend, self.models)
        self.library = self.library_type(settings, self.backend, self.ingestor, lambda: self.store)
        self.verifier = Verifier(lambda: self.store, self.library.document,
                                 lambda text, k: self.retrieve(SearchRequest(text, k)).hits,
                                 partial(valid_text, settings.answer.max_question_chars))

    @property
    def embedder(self) -> Embedder:
        return self.models.embedder()

    def _current(self) -> _Loaded:
        return self._versions.current()

    @property
    def store(self) -> StoreReader:
        return self._current().store

    def ingest(self, paths: list[Path], rebuild: bool = False, progress: Progress | None = None,
               ray_address: str | None = None) -> IngestReport:
        """Bring the store in line with the files; with `ray_address` ("local" or a cluster's
        address) the passages are embedded on Ray instead of in this process."""
        remote = None if ray_address is None else _ray_embedder(self.settings, ray_address)
        try:
            return self.ingestor(progress, remote).run(paths, rebuild=rebuild)
        finally:
            if remote is not None:
                remote.close()

    def ingestor(self, progress: Progress | None = None, passage_embedder=None) -> Ingestor:
        return Ingestor(self.settings, lambda: self.embedder, progress, self.backend, passage_embedder)

    def retrieve(self, request: SearchRequest) -> Results:
        """The k best passages, one per story, ranked with the query's time as of the request's."""
        query = valid_text(self.settings.answer.max_question_chars, request.query, "query")
        k = request.k or self.settings.retrieval.search_k
        loaded = self._current()
        with stage("understand"):
            prior = self._prior(query, request.as_of, loaded)
        vector = self._embed_query(query)
        with stage("search"):
            hits = loaded.retriever.search(query, vector, min(MAX_K, 2 * k), filters=request.filters, prior=prior,
                                           rerank=self.settings.retrieval.rerank_search)
            hits = _folded(hits, loaded.store, k, self.settings.ingest.fold_duplicates)
        return Results(query, hits, prior.reading.as_of.isoformat(), prior.reading.to_json())

    def answer(self, request: AskRequest, on_token: Callable[[str], None] | None = None) -> Answer:
        """An answer; with an LLM answerer, `on_token` receives its words as they arrive."""
        asked = valid_text(self.settings.answer.max_question_chars, request.question, "question")
        history = [t for t in request.history if t.text.strip()][-10:]
        loaded = self._current()
        day = self.as_of(request.as_of, loaded)
        if no_question_content(asked, loaded.store.knows):  # "ok", "thanks", keyboard noise: no search
            return Answer(asked, True, (), abstention=messages.NOTHING_ASKED, as_of=day.isoformat())
        digest = digest_request(asked, read_time(asked, day))
        if digest is not None:  # "What happened this week?": the window's stories (qa.retrieval.digest)
            return _digest(asked, digest, day, request.filters, loaded, self._embed_query)
        with stage("understand"):
            read = loaded.spans.choose if loaded.spans else None
            earlier = exchanges(history, read)  # the conversation as data, read once
            condensed = _condensed(asked, earlier, read, loaded)
            # an unresolved follow-up ("Why not?" nothing could be put in place of) is searched and
            # read together with the question it follows; the question shown stays the user's
            context = context_of(asked, condensed, earlier)
            reading = f"{condensed} {context}" if context else condensed
            # "…, according to X?": X's documents only, and X is not what is searched for
            reading, wanted = with_named_outlet(reading, _within_conversation(request.filters, context, earlier),
                                                loaded.store)
            prior = self._prior(condensed, request.as_of, loaded)
            understood = replace(understand(asked, reading, self._embed_query(reading), wanted), prior=prior)
        k = request.k or self.settings.retrieval.answer_k
        with stage("search"):
            passages = loaded.retriever.search(reading, understood.vector, min(MAX_K, 2 * k),
                                               filters=understood.filters, prior=prior)
            passages = _folded(passages, loaded.store, k, self.settings.ingest.fold_duplicates, copies_only=True)
        with stage("compose"):
            answer = loaded.answerer.answer(understood, passages, on_token=on_token)
            if context:
                answer = replace(answer, condensed_question=condensed,
                                 warnings=answer.warnings + (messages.read_with(context),))
            elif not earlier and names_someone_unnamed(asked):
                answer = replace(answer, warnings=answer.warnings + (messages.READ_ALONE,))
        with stage("span"):
            reader = self.settings.reader
            answer = with_short_answer(answer, understood, loaded.spans, reader.short_answer_threshold,
                                       reader.short_answer_corroborators)
        with stage("render"):
            return finished(answer, understood, prior, day, loaded.store, self.settings.ingest.fold_duplicates)

    def ask(self, question: str, history: list[Turn] | None = None, k: int | None = None,
            on_token: Callable[[str], None] | None = None, filters: Filters | None = None,
            as_of: str | None = None) -> Answer:
        """answer() asked in words (scripts, benches, tests): the request made of them."""
        return self.answer(AskRequest(question, tuple(history or ()), k, filters, as_of_day(as_of)), on_token)

    def find(self, query: str, k: int | None = None, filters: Filters | None = None,
             as_of: str | None = None) -> Results:
        """retrieve() asked in words (scripts, benches, tests, the LangChain retriever)."""
        return self.retrieve(SearchRequest(query, k, filters, as_of_day(as_of)))

    def search(self, query: str, k: int | None = None, filters: Filters | None = None, as_of: str | None = None):
        return self.find(query, k, filters, as_of).hits

    def ask_streamed(self, request: AskRequest):
        """("token", text) while the answer is written, then ("answer", Answer) or ("error", QAError)."""
        return answer_events(lambda on_token: self.answer(request, on_token))

    def as_of(self, given: date | None = None, loaded: _Loaded | None = None) -> date:
        """The date a request is read as of: the one given, else default_as_of."""
        return given or default_as_of((loaded or self._current()).newest)

    def _prior(self, text: str, given: date | None, loaded: _Loaded) -> TimePrior:
        return time_prior(text, self.as_of(given, loaded), given is not None, self.settings.retrieval,
                          loaded.median if timeprior.UNDATED_AS == "median" else None)

    def sentences(self, question: str, hide_doc: str | None = None, filters: Filters | None = None,
                  as_of: str | None = None) -> list[PassageSentence]:
        """The sentences an answer to `question` is chosen from, best first, with their relevance
        and the reader's probability (benches and diagnostics); `hide_doc` leaves one document out."""
        request = AskRequest(question, (), None, filters, as_of_day(as_of))
        asked = valid_text(self.settings.answer.max_question_chars, question, "question")
        loaded = self._current()
        prior = self._prior(asked, request.as_of, loaded)
        understood = replace(understand(asked, asked, self._embed_query(asked), request.filters), prior=prior)
        k = self.settings.retrieval.answer_k
        passages = loaded.retriever.search(asked, understood.vector, MAX_K if hide_doc else k,
                                           filters=understood.filters, prior=prior)
        passages = [p for p in passages if p.doc_id != hide_doc][:k]
        return loaded.extractive.scored_sentences(understood, passages)

    def _embed_query(self, text: str):
        with stage("embed"):
            return self.embedder.embed([text])[0]

    def stats(self) -> dict:
        """The corpus's size and model."""
        return _stats_of(self.store)

    def loaded_stats(self) -> dict | None:
        """stats() of the version in memory, without asking the store for a newer one (no I/O: a
        health check under load); None when nothing is loaded yet."""
        loaded = self._versions.loaded
        return None if loaded is None else _stats_of(loaded.store)


def _ray_embedder(settings: Settings, ray_address: str):
    try:
        from qa.embedding.distributed import RayPassageEmbedder
    except ImportError:
        raise InputError("--ray-address needs Ray: pip install 'corpus-qa[ray]'") from None
    embedding = settings.embedding
    return RayPassageEmbedder(ray_address, embedding.embedding_model, embedding.sentence_vectors,
                              cache=embedding.cache_dir)


def _stats_of(store: StoreReader) -> dict:
    return {"documents": store.count_documents, "chunks": store.count_chunks,
            "model": store.manifest.model, "generation": store.version}


def default_as_of(newest: date | None) -> date:
    """What "now" is when no as_of is given: today for a corpus with documents from the last 30
    days, else its newest document's date."""
    today = date.today()
    return today if newest is None or newest >= today - timedelta(days=RECENT_DAYS) else newest


def time_prior(text: str, day: date, given: bool, settings: RetrievalSettings, undated: date | None) -> TimePrior:
    """The question's time as of `day`. Recency only when "now" is known: as_of was given, or
    it is today (a corpus with recent documents). An archive's newest date stands in for now
    when nothing says when; recency against it reordered a corpus of papers spanning years
    (COVID-QA nDCG@10 0.86 -> 0.54) and changed nothing on news dev
    (docs/measurements.md)."""
    recency = given or day == date.today()
    reading = read_time(text, day)
    if given and reading.window is None:
        # a date the user gave places the question in time, whatever its tense: the news dev
        # quizzes asked as of their dates keep their timely answers (0.429; past tense only
        # from the question: 0.395). "Now" only guessed from the folder: the tense decides
        reading = replace(reading, present=True)
    prior = TimePrior.from_settings(reading, settings, recency, undated)
    if not recency and reading.window is not None and not absolute(reading.window.words):
        # "now" is a guess (the newest document's date): "this week" is not placed in time
        prior = replace(prior, outside=1.0, placed=False)
    return prior


def _digest(asked: str, request: DigestRequest, day: date, filters: Filters | None, loaded: _Loaded,
            embed: Callable[[str], Any]) -> Answer:
    """The window's stories (qa.retrieval.digest); about a topic, those its passages are in."""
    hits = None
    if request.topic is not None:
        within = narrowed(filters, request.window)
        hits = [] if within is None else loaded.retriever.search(request.topic, embed(request.topic), MAX_K,
                                                                 filters=within)
    answer = Digest(loaded.store).answer(asked, request, filters, hits)
    return replace(answer, as_of=day.isoformat(), time=request.window.to_json())


def _condensed(asked: str, earlier: list[Exchange], read, loaded: _Loaded) -> str:
    """The follow-up made self-contained: by the LLM when one answers (its rewrite checked:
    qa.answering.llm.condensed_by_llm), else, or when the check fails, by the rules, a pronoun
    going to the referent the conversation's documents speak of as the follow-up asks."""
    client = getattr(loaded.answerer, "client", None)
    if client is not None and earlier:
        from qa.answering.llm import condensed_by_llm

        pairs = [(e.question, " ".join([e.extract, *e.others])) for e in earlier]
        rewrite = condensed_by_llm(client, asked, pairs)
        if rewrite:
            return rewrite
    recent = earlier[-3:]  # the last answers' documents: a long conversation's first ones are not what "her" is about

    def documents() -> tuple[str, ...]:  # answers known only by their text (/v1): found by their quotes
        return conversation_documents(recent) or quoted_documents(
            loaded.store, [x for e in recent for x in (e.extract, *e.others) if x])

    return condensed_from(asked, earlier, read, support_within(loaded.store, documents))


def _folded(hits: list[Hit], store: StoreReader, k: int, fold: bool, copies_only: bool = False) -> list[Hit]:
    """One hit per story (qa.retrieval.stories), unless folding is off."""
    return fold_hits(hits, store, k, copies_only) if fold else hits[:k]


def _within_conversation(filters: Filters | None, context: str | None, earlier: list[Exchange]) -> Filters | None:
    """An unresolved follow-up (read with the previous question) is answered from the documents the
    conversation cited, when their ids are known and no documents were asked for: a reference
    nothing could resolve is to what was being discussed, so documents added to the corpus about
    something else never answer it (bench/results/growth.md)."""
    docs = conversation_documents(earlier) if context else ()
    if not docs or (filters is not None and filters.doc_ids):
        return filters
    return replace(filters or Filters(), doc_ids=docs)


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
