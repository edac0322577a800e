"""The peer a user would otherwise pick: LangChain's text splitter + HuggingFace embeddings + FAISS,
with the same model, on the same documents, in the same process."""
from __future__ import annotations

import statistics
import time
from pathlib import Path

from bench.evaluate import build_store, load_dataset, ranking_metrics, subset
from qa.embedding import DEFAULT_EMBEDDING, load_embedder
from qa.embedding.transformer import SentenceTransformerEmbedder
from qa.embedding.transformer import model_location as _model_location
from qa.ingest.ingestor import Ingestor
from qa.settings import Settings

MODEL = "all-MiniLM-L6-v2"
QUESTIONS = 300


def _langchain_ingest(folder: Path):
    from langchain_community.vectorstores import FAISS
    from langchain_core.documents import Document
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    embeddings = HuggingFaceEmbeddings(model_name=_model_location(MODEL), model_kwargs={"device": "cpu"},
                                       encode_kwargs={"normalize_embeddings": True, "batch_size": 32})
    embeddings.embed_documents(["warm up"] * 8)
    started = time.perf_counter()
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)  # ~ our 200 tokens
    docs = [Document(page_content=p.read_text(encoding="utf-8"), metadata={"doc_id": p.stem})
            for p in sorted(folder.glob("*.txt"))]
    chunks = splitter.split_documents(docs)
    store = FAISS.from_documents(chunks, embeddings)
    return store, time.perf_counter() - started, len(chunks)


def _ours_ingest(folder: Path, store_dir: Path, embedder):
    started = time.perf_counter()
    report = Ingestor(Settings(store_dir=store_dir, embedding_model=MODEL), lambda: embedder).run([folder])
    return time.perf_counter() - started, report.chunks


def _search_quality(search, questions) -> tuple[dict, float]:
    latencies, scores = [], []
    for q in questions:
        started = time.perf_counter()
        ranked = search(q.question)
        latencies.append(time.perf_counter() - started)
        scores.append(ranking_metrics(list(dict.fromkeys(ranked)), q.gold_doc))
    p50 = statistics.median(latencies) * 1000
    return {k: statistics.mean(s[k] for s in scores) for k in ("recall@10", "ndcg@10")}, p50


def compare(news: Path, work: Path, data_dir: Path, questions_limit: int = QUESTIONS) -> dict:
    from qa.engine import Engine

    embedder = SentenceTransformerEmbedder(MODEL)
    embedder.embed(["warm up"] * 8)
    ours_s, ours_chunks = _ours_ingest(news, work / "ours-news", embedder)
    _, peer_s, peer_chunks = _langchain_ingest(news)
    dataset = load_dataset(data_dir, "xquad-en")
    if questions_limit < QUESTIONS:  # quick runs: fewer paragraphs to embed
        dataset = subset(dataset, 40)
    questions = dataset.questions[:questions_limit]
    settings = build_store(dataset, work / "xquad", Settings(embedding_model=MODEL))
    engine = Engine(settings, embedder)
    ours_quality, ours_p50 = _search_quality(lambda q: [h.doc_id for h in engine.search(q, 10)], questions)
    default = load_embedder(DEFAULT_EMBEDDING)
    default_settings = build_store(dataset, work / "xquad", Settings(embedding_model=DEFAULT_EMBEDDING))
    default_engine = Engine(default_settings, default)
    default_engine.search("warm up", 10)
    default_quality, default_p50 = _search_quality(lambda q: [h.doc_id for h in default_engine.search(q, 10)],
                                                   questions)
    peer_store, _, _ = _langchain_ingest(work / "xquad" / "xquad-en" / "corpus")
    peer_quality, peer_p50 = _search_quality(
        lambda q: [d.metadata["doc_id"] for d in peer_store.similarity_search(q, k=10)], questions)
    return {"news_documents": len(list(news.glob('*.txt'))),
            "ours": {"ingest_s": ours_s, "chunks": ours_chunks, "search_p50_ms": ours_p50, **ours_quality},
            "ours_default": {"search_p50_ms": default_p50, **default_quality},
            "langchain": {"ingest_s": peer_s, "chunks": peer_chunks, "search_p50_ms": peer_p50, **peer_quality},
            "questions": len(questions)}
