"""Performance: ingest vs the model's ceiling, ONNX int8, query latency by corpus size, cold start,
and a peer (LangChain) side by side.

    .venv/bin/python -m bench.perf            # full run (about 15-20 min) -> bench/results/perf.md + perf.png
    .venv/bin/python -m bench.perf --quick    # small sizes (about 2 min), checks that it all works

Heavy parts run in child processes so that each gets its own peak-memory figure.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "bench"
RESULTS = ROOT / "bench" / "results"
MODEL = "all-MiniLM-L6-v2"
CEILING_SAMPLE = 2000


# -- helpers ------------------------------------------------------------------------------------

def news_articles(limit: int) -> list[str]:
    """Real news articles (the held-out set's search results, used for timing only, never tuning)."""
    seen, texts = set(), []
    for path in sorted((SHARED / "heldout" / "realtimeqa-2022" / "gcs").glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                for result in json.loads(line)["search_result"]:
                    text = (result.get("text") or "").strip()
                    if result.get("url") not in seen and len(text) >= 800:
                        seen.add(result.get("url"))
                        texts.append(text)
                        if len(texts) >= limit:
                            return texts
    return texts


def write_corpus(texts: list[str], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, text in enumerate(texts):
        (folder / f"article_{i:05d}.txt").write_text(text, encoding="utf-8")
    return folder


def percentiles(values: list[float]) -> dict:
    ordered = sorted(values)
    pick = lambda p: ordered[min(len(ordered) - 1, int(p * (len(ordered) - 1)))] * 1000  # noqa: E731
    return {"p50_ms": pick(0.5), "p95_ms": pick(0.95), "p99_ms": pick(0.99), "n": len(values)}


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def child(task: str, **params) -> dict:
    """Run one measurement in a fresh interpreter; it prints one JSON line."""
    command = [sys.executable, "-m", "bench.perf", "--child", task, "--params", json.dumps(params)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    if result.returncode != 0:
        raise RuntimeError(f"{task} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# -- child tasks --------------------------------------------------------------------------------

def task_ingest(corpus: str, store: str, model: str, sentence_vectors: str = "pooled") -> dict:
    """End-to-end ingest with the model already loaded, then the raw encode ceiling on the same chunks."""
    from qa.embedding import load_embedder
    from qa.ingest.ingestor import Ingestor
    from qa.settings import Settings

    embedder = load_embedder(model)
    embedder.embed(["warm up the model"] * 8)
    settings = Settings(store_dir=Path(store), embedding_model=model, sentence_vectors=sentence_vectors)
    started = time.perf_counter()
    report = Ingestor(settings, lambda: embedder).run([Path(corpus)])
    ingest_s = time.perf_counter() - started
    with sqlite3.connect(Path(store) / report.generation / "meta.sqlite") as db:
        texts = [r[0] for r in db.execute("SELECT text FROM chunks ORDER BY id")]
    if len(texts) > CEILING_SAMPLE:  # a seeded sample of the same chunks: same length mix, half the time
        picks = np.random.default_rng(0).choice(len(texts), CEILING_SAMPLE, replace=False)
        texts = [texts[i] for i in sorted(picks)]
    started = time.perf_counter()
    embedder.embed(texts)
    ceiling_s = time.perf_counter() - started
    return {"model": model, "sentence_vectors": sentence_vectors, "sentences": report.sentences,
            "documents": report.documents, "chunks": report.chunks, "ingest_s": ingest_s,
            "ceiling_s": ceiling_s, "ceiling_chunks": len(texts), "e2e_chunks_per_s": report.chunks / ingest_s,
            "ceiling_chunks_per_s": len(texts) / ceiling_s,
            "ratio": (report.chunks / ingest_s) / (len(texts) / ceiling_s),
            "peak_rss_mb": peak_mb()}


def task_quality(model: str, work: str, limit: int | None = None) -> dict:
    """nDCG@10 and recall@10 of dense-only search on XQuAD (all questions unless limited) with this model."""
    from bench.evaluate import build_store, load_dataset, ranking_metrics, subset
    from qa.embedding import load_embedder
    from qa.engine import Engine
    from qa.settings import Settings

    dataset = load_dataset(SHARED / "data", "xquad-en")
    if limit:  # quick runs: fewer paragraphs to embed, the questions about them
        dataset = subset(dataset, 40)
    settings = build_store(dataset, Path(work), Settings(embedding_model=model))
    engine = Engine(settings.updated(**{"bm25_weight": 0.0}), load_embedder(model))
    scores = [ranking_metrics(list(dict.fromkeys(h.doc_id for h in engine.search(q.question, 10))), q.gold_doc)
              for q in dataset.questions[:limit]]
    return {"model": model, "ndcg@10": statistics.mean(s["ndcg@10"] for s in scores),
            "recall@10": statistics.mean(s["recall@10"] for s in scores), "questions": len(scores)}


def task_synthetic(size: int, store: str, source_store: str, questions: int = 200) -> dict:
    """A store of `size` synthetic chunks (real vectors plus noise, real vocabulary), then query latency."""
    from bench.synthetic import build_synthetic_store

    build_s = build_synthetic_store(size, Path(store), Path(source_store))
    before = rss_mb()
    from qa.embedding import load_embedder
    from qa.engine import Engine
    from qa.settings import Settings
    from qa.store.local import LocalReader

    embedder = load_embedder(MODEL)
    after_model = rss_mb()
    store_obj = LocalReader.open(Path(store), MODEL)
    after_store = rss_mb()
    del store_obj
    engine = Engine(Settings(store_dir=Path(store), embedding_model=MODEL), embedder)
    questions = _questions()[:questions]
    engine.search(questions[0], 10)
    search = _timed(lambda q: engine.search(q, 10), questions)
    ask = _timed(lambda q: engine.ask(q), questions[: max(10, len(questions) // 3)])
    recall = _ivf_recall(engine, questions) if size > engine.settings.store.exact_search_max else None
    return {"size": size, "build_s": build_s, "search": search, "ask": ask, "recall@10_vs_exact": recall,
            "index": engine.store.manifest.index, "model_mb": after_model - before,
            "index_mb": after_store - after_model, "bytes_per_chunk": (after_store - after_model) * 2**20 / size,
            "peak_rss_mb": peak_mb()}


def _questions() -> list[str]:
    from bench.evaluate import load_dataset

    return [q.question for q in load_dataset(SHARED / "data", "xquad-en").questions[:200]]


def _timed(fn, items) -> dict:
    values = []
    for item in items:
        started = time.perf_counter()
        fn(item)
        values.append(time.perf_counter() - started)
    return percentiles(values)


def _ivf_recall(engine, questions) -> float:
    """recall@10 of the IVF index against exact search over the same vectors."""
    import faiss

    store = engine.store
    ivf = faiss.extract_index_ivf(store.index)
    vectors = engine.embedder.embed(questions)
    _, approx = store.index.search(vectors, 10)
    ivf.nprobe = ivf.nlist  # probing every list is exact
    _, exact = store.index.search(vectors, 10)
    ivf.nprobe = store.manifest.nprobe or 48
    return float(np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx, exact)]))


def task_cold_start(store: str) -> dict:
    """Process start to first answer, split into its parts (this child is a fresh interpreter)."""
    started = time.perf_counter()
    import qa.faces.cli  # noqa: F401

    imported = time.perf_counter()
    from qa.engine import Engine
    from qa.settings import Settings

    engine = Engine(Settings(store_dir=Path(store)))
    _ = engine.embedder  # loads the model
    model_loaded = time.perf_counter()
    _ = engine.store  # opens the store
    store_loaded = time.perf_counter()
    engine.ask("Why didn't Putin meet Qalibaf?")
    answered = time.perf_counter()
    return {"import_s": imported - started, "model_load_s": model_loaded - imported,
            "store_open_s": store_loaded - model_loaded, "first_ask_s": answered - store_loaded}


def batch_cost(store: Path, questions: list[str], work: Path, repeats: int = 3) -> dict:
    """Per-question cost of `qa ask --batch` and `qa search --batch` on the same store, as
    (T(101 requests) - T(1 request)) / 100 so that start-up cancels; medians of `repeats` runs."""
    files = {}
    for kind, key in (("ask", "question"), ("search", "query")):
        for n in (1, 101):
            path = work / f"{kind}-{n}.jsonl"
            path.write_text("\n".join(json.dumps({key: q}) for q in questions[:n]) + "\n")
            files[kind, n] = path
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}  # the default path, reader included
    times: dict = {}
    for _ in range(repeats):
        for (kind, n), path in files.items():
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "qa", kind, "--batch", str(path), "--store", str(store)], cwd=ROOT,
                           env=env, check=True, capture_output=True)
            times.setdefault((kind, n), []).append(time.perf_counter() - started)
    per = {kind: (statistics.median(times[kind, 101]) - statistics.median(times[kind, 1])) / 100
           for kind in ("ask", "search")}
    return {"ask_ms": per["ask"] * 1000, "search_ms": per["search"] * 1000, "ratio": per["ask"] / per["search"],
            "questions": min(101, len(questions)), "repeats": repeats}


def news_questions(limit: int) -> list[str]:
    """Questions a reader of the news corpus would ask: built from its article titles (timing only)."""
    titles, seen = [], set()
    for path in sorted((SHARED / "heldout" / "realtimeqa-2022" / "gcs").glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                for result in json.loads(line)["search_result"]:
                    title = (result.get("title") or "").split(" - ")[0].split(" | ")[0].strip()
                    if len(title.split()) >= 4 and title not in seen:
                        seen.add(title)
                        titles.append(f"What happened: {title}?")
                        if len(titles) >= limit:
                            return titles
    return titles


def task_peer(corpus: str, store: str, questions: int = 300) -> dict:
    """LangChain (RecursiveCharacterTextSplitter + HuggingFaceEmbeddings + FAISS) vs us, same docs, same model."""
    from bench.peer import compare

    return compare(Path(corpus), Path(store), SHARED / "data", questions)


TASKS = {"ingest": task_ingest, "quality": task_quality, "synthetic": task_synthetic,
         "cold_start": task_cold_start, "peer": task_peer}


# -- the report ---------------------------------------------------------------------------------

def run(quick: bool) -> dict:
    with tempfile.TemporaryDirectory(prefix="qa-perf-") as scratch:
        return _run(quick, Path(scratch))


def _run(quick: bool, work: Path) -> dict:
    sizes = [1_000, 5_000] if quick else [1_000, 100_000, 1_000_000]
    articles = 8 if quick else 500
    results: dict = {"quick": quick, "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                     "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                 "platform": platform.platform()}}
    corpus = write_corpus(news_articles(articles), work / "news")
    results["ingest_torch"] = child("ingest", corpus=str(corpus), store=str(work / "s-torch"), model=MODEL)
    small = write_corpus(news_articles(articles)[: max(10, articles // 4)], work / "news-small")
    results["ingest_small_torch"] = child("ingest", corpus=str(small), store=str(work / "s-small-t"), model=MODEL)
    results["ingest_small_onnx"] = child("ingest", corpus=str(small), store=str(work / "s-small-o"),
                                         model=MODEL + "-onnx-int8")
    results["ingest_small_onnx_separate"] = child("ingest", corpus=str(small), store=str(work / "s-small-sep"),
                                                  model=MODEL + "-onnx-int8", sentence_vectors="separate")
    results["batch_cost"] = batch_cost(work / "s-small-o", news_questions(101), work)
    limit = 30 if quick else None
    results["quality_torch"] = child("quality", model=MODEL, work=str(work / "q-torch"), limit=limit)
    results["quality_onnx"] = child("quality", model=MODEL + "-onnx-int8", work=str(work / "q-onnx"), limit=limit)
    results["latency"] = [child("synthetic", size=n, store=str(work / f"syn-{n}"), source_store=str(work / "s-torch"),
                                questions=20 if quick else 200) for n in sizes]
    seeds_store = work / "seeds-store"
    subprocess.run([sys.executable, "-m", "qa", "ingest", "seeds", "--store", str(seeds_store)], cwd=ROOT,
                   check=True, capture_output=True)
    results["cold_start"] = child("cold_start", store=str(seeds_store))
    results["peer"] = child("peer", corpus=str(small), store=str(work / "peer"), questions=20 if quick else 300)
    return results


PARTS = ("batch_cost", "cold_start")  # what --only can rerun on its own (the rest needs the full corpus pipeline)


def rerun_parts(parts: list[str], results: dict) -> dict:
    """Rerun some measurements into an earlier full run's results, saying which and when."""
    with tempfile.TemporaryDirectory(prefix="qa-perf-") as scratch:
        work = Path(scratch)
        if "batch_cost" in parts:
            small = write_corpus(news_articles(500)[:125], work / "news-small")
            child("ingest", corpus=str(small), store=str(work / "s-small-o"), model=MODEL + "-onnx-int8")
            results["batch_cost"] = batch_cost(work / "s-small-o", news_questions(101), work)
        if "cold_start" in parts:
            seeds_store = work / "seeds-store"
            subprocess.run([sys.executable, "-m", "qa", "ingest", "seeds", "--store", str(seeds_store)], cwd=ROOT,
                           check=True, capture_output=True)
            results["cold_start"] = child("cold_start", store=str(seeds_store))
    results.setdefault("reruns", []).append({"at": time.strftime("%Y-%m-%d %H:%M:%S"), "parts": parts})
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--child")
    parser.add_argument("--params", default="{}")
    parser.add_argument("--render-only", action="store_true", help="rewrite the report from the saved JSON")
    parser.add_argument("--only", nargs="+", choices=PARTS, help="rerun these parts into the saved JSON (after a "
                        "change that touches only them); the report says which parts were rerun and when")
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(TASKS[args.child](**json.loads(args.params))))
        return
    from bench.perf_report import render

    name = "perf-quick" if args.quick else "perf"
    if args.render_only or args.only:
        results = json.loads((args.out / f"{name}.json").read_text())
        if args.only:
            results = rerun_parts(args.only, results)
            (args.out / f"{name}.json").write_text(json.dumps(results, indent=2))
    else:
        results = run(args.quick)
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / f"{name}.json").write_text(json.dumps(results, indent=2))
    text = render(results, "python -m bench.perf" + (" --quick" if args.quick else ""), args.out, name)
    (args.out / f"{name}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
