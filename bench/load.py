"""Load test on loopback: 32 clients asking and searching for 60 s, then a 200-client burst.

    .venv/bin/python -m bench.load            # full run -> bench/results/load.md
    .venv/bin/python -m bench.load --quick    # 5 s + 3 s, to check it works
    .venv/bin/python -m bench.load --news     # 300+ distinct news questions over 200 articles -> load-news.md

Starts `python app.py` on a free port with its own store (built from seeds/, or with --news from
200 articles of the news dev split, outside the repository), drives it with bounded
asyncio/httpx loops that stop by themselves, and samples the server's memory (RSS). --news first
measures searches alone (one client searching, nothing else), then the mixed load, in the same run.
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from server_fixture import start_server, stop_server  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ["Why didn't Putin meet Qalibaf?", "Who received the letter instead?", "Who is Mojtaba Tavangar?",
             "What did Qalibaf tweet after the visit?", "What is the capital of France?",
             "Where does Putin live during the pandemic?"]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def client_loop(client: httpx.AsyncClient, url: str, stop_at: float, results: list, seed: int,
                      questions: list[str] = QUESTIONS, only: str | None = None) -> None:
    """Asks and searches in turn (or `only` "ask" or "search") until stop_at."""
    step = 7919  # a prime: each client walks the questions in its own order, all of them distinct
    order = (questions[(seed * 37 + i * step) % len(questions)] for i in itertools.count())
    for n in itertools.count():
        if time.monotonic() >= stop_at:
            return
        question = next(order)
        started = time.perf_counter()
        kind = only or ("search" if n % 2 else "ask")
        try:
            if kind == "ask":
                response = await client.post(url + "/api/ask", json={"question": question})
            else:
                response = await client.get(url + "/api/search", params={"q": question, "k": 5})
            status = response.status_code
        except httpx.HTTPError as exc:
            status = type(exc).__name__
        results.append((time.monotonic(), kind, status, time.perf_counter() - started))
        if status == 503:
            await asyncio.sleep(1.0)  # the server said Retry-After: 1


async def phase(url: str, clients: int, seconds: float, pid: int, questions: list[str] = QUESTIONS,
                only: str | None = None) -> dict:
    results: list = []
    memory: list[tuple[float, float]] = []
    stop_at = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        async def sample():
            while time.monotonic() < stop_at:
                memory.append((time.monotonic(), rss_mb(pid)))
                await asyncio.sleep(1)

        started = time.monotonic()
        await asyncio.gather(sample(), *(client_loop(client, url, stop_at, results, i, questions, only)
                                         for i in range(clients)))
        elapsed = time.monotonic() - started
    return summarize(results, memory, elapsed, clients, seconds)


def summarize(results, memory, elapsed, clients, seconds) -> dict:
    ok = [r for r in results if r[2] == 200]
    latencies = sorted(r[3] for r in ok)

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p * (len(latencies) - 1)))] * 1000 if latencies else 0.0

    statuses: dict = {}
    for r in results:
        statuses[str(r[2])] = statuses.get(str(r[2]), 0) + 1
    t0 = memory[0][0] if memory else 0
    first = [m for t, m in memory if t - t0 <= 20]
    last = [m for t, m in memory if t - t0 >= seconds - 20]
    return {"clients": clients, "seconds": round(elapsed, 1), "requests": len(results), "ok": len(ok),
            "throughput_rps": len(ok) / elapsed, "p50_ms": pct(0.5), "p95_ms": pct(0.95), "p99_ms": pct(0.99),
            "statuses": statuses,
            "ask_p50_ms": 1000 * statistics.median([r[3] for r in ok if r[1] == "ask"] or [0]),
            "search_p50_ms": 1000 * statistics.median([r[3] for r in ok if r[1] == "search"] or [0]),
            "ask_p99_ms": _p99([r[3] for r in ok if r[1] == "ask"]),
            "search_p99_ms": _p99([r[3] for r in ok if r[1] == "search"]),
            "rss_first_mb": statistics.median(first) if first else 0.0,
            "rss_last_mb": statistics.median(last) if last else 0.0,
            "rss_max_mb": max((m for _, m in memory), default=0.0)}


def _p99(seconds: list[float]) -> float:
    ordered = sorted(seconds)
    return 1000 * ordered[min(len(ordered) - 1, int(0.99 * (len(ordered) - 1)))] if ordered else 0.0


def news_corpus(folder: Path, articles_wanted: int = 200, questions_wanted: int = 300) -> list[str]:
    """200 articles of the news dev split (the search results of its first questions) written
    as a corpus, and every distinct dev question (at least `questions_wanted`): a question whose
    articles were not chosen is still a real question asked of this corpus."""
    from bench.heldout import write_corpus
    from bench.news import load

    articles, questions = load("dev")
    chosen: dict[str, tuple] = {}
    for q in questions:
        for doc_id in q["results"]:
            if len(chosen) < articles_wanted:
                chosen.setdefault(doc_id, articles[doc_id])
    write_corpus(chosen, folder)
    asked = list(dict.fromkeys(q["question"] for q in questions))
    return asked[:max(questions_wanted, len(asked))]


def news_main(args) -> None:
    """Searches alone, then 32 mixed clients, then the 200-client burst, in one run."""
    steady_s, burst_s, alone_s = (5, 3, 5) if args.quick else (60, 30, 20)
    with tempfile.TemporaryDirectory(prefix="qa-load-news-") as scratch:
        work = Path(scratch)
        questions = news_corpus(work / "corpus")
        process, url = start_server(work / "store", work / "server.log", timeout=1200,
                                    extra_env={"QA_SEEDS_DIR": str(work / "corpus")})
        try:
            alone = asyncio.run(phase(url, 1, alone_s, process.pid, questions, only="search"))
            steady = asyncio.run(phase(url, 32, steady_s, process.pid, questions))
            burst = asyncio.run(phase(url, 200, burst_s, process.pid, questions))
            ok_after = recovered(url) and process.poll() is None
        finally:
            stop_server(process)
    ratio = steady["search_p99_ms"] / max(alone["search_p99_ms"], 1e-9)
    lines = [
        "# Load test: distinct news questions", "",
        f"Command: `python -m bench.load --news{' --quick' if args.quick else ''}`  ",
        f"Machine: {platform.machine()}, Python {platform.python_version()}, {os.cpu_count()} cores; server and "
        f"clients on the same machine. Store: 200 news dev articles; {len(questions)} distinct questions, each "
        "client walking them in its own order. Searches alone: one client searching, nothing else; steady: 32 clients "
        "alternating `POST /api/ask` and `GET /api/search`; burst: 200 clients.", "",
        "| phase | clients | s | requests | 200 | req/s | ask p50 | ask p99 | search p50 | search p99 | statuses "
        "| RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in (("searches alone", alone), ("steady", steady), ("burst", burst)):
        lines.append(f"| {name} | {r['clients']} | {r['seconds']} | {r['requests']} | {r['ok']} | "
                     f"{r['throughput_rps']:.1f} | {r['ask_p50_ms']:.0f} | {r['ask_p99_ms']:.0f} | "
                     f"{r['search_p50_ms']:.0f} | {r['search_p99_ms']:.0f} | {r['statuses']} | "
                     f"{r['rss_first_mb']:.0f} → {r['rss_last_mb']:.0f} (max {r['rss_max_mb']:.0f}) |")
    lines += ["", f"Search p99 under the steady load: **{ratio:.1f}×** its p99 alone (same run). "
              f"Answer p99 under load: **{steady['ask_p99_ms']:.0f} ms**. After the burst the server answered "
              f"normally again: **{'yes' if ok_after else 'NO'}**.", ""]
    text = "\n".join(lines)
    recorded = ROOT / "bench" / "results"
    out = args.out if args.out != recorded / "load.md" else recorded / "load-news.md"
    out.write_text(text)
    print(text)


def recovered(url: str) -> bool:
    with httpx.Client(timeout=60) as client:
        return all(client.post(url + "/api/ask", json={"question": q}).status_code == 200 for q in QUESTIONS[:3])


# The same benchmark before sentence vectors were stored at ingest (commit 2d27157, 2026-11-24): every
# answer re-embedded the sentences of its passages, so answers were CPU-bound.
BEFORE = ("| steady, before | 32 | 60.4 | 2520 | 2520 | 41.7 | 414 | 1739 | 11323 | 1202 | 43 | {'200': 2520} | "
          "1716 → 1717 (max 1717) |\n| burst, before | 200 | 34.2 | 1727 | 1056 | 30.9 | 2989 | 7086 | 9798 | 2920 | "
          "3076 | {'503': 670, '200': 1056, 'ReadError': 1} | 1719 → 1719 (max 1719) |")


def render(steady: dict, burst: dict, ok_after: bool, command: str) -> str:
    def row(name, r):
        return (f"| {name} | {r['clients']} | {r['seconds']} | {r['requests']} | {r['ok']} | "
                f"{r['throughput_rps']:.1f} | {r['p50_ms']:.0f} | {r['p95_ms']:.0f} | {r['p99_ms']:.0f} | "
                f"{r['ask_p50_ms']:.0f} | {r['search_p50_ms']:.0f} | {r['statuses']} | "
                f"{r['rss_first_mb']:.0f} → {r['rss_last_mb']:.0f} (max {r['rss_max_mb']:.0f}) |")

    return "\n".join([
        "# Load test", "", f"Command: `{command}`  ",
        f"Machine: {platform.machine()}, Python {platform.python_version()}, 2 cores; server and clients on the "
        "same machine (loopback), so clients take CPU from the server. Requests alternate `POST /api/ask` and "
        "`GET /api/search` over six questions; memory is the server's RSS, median of the first 20 s → median of "
        "the last 20 s.", "",
        "| phase | clients | s | requests | 200 | req/s | p50 ms | p95 ms | p99 ms | ask p50 | search p50 | statuses "
        "| RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        row("steady", steady), row("burst", burst),
        BEFORE, "",
        f"After the burst the server answered normally again: **{'yes' if ok_after else 'NO'}**.", "",
        "Load beyond what the server can hold is shed at once with `503` + `Retry-After: 1` "
        "(`qa/faces/api.py`, MAX_IN_FLIGHT) rather than queued without bound; clients that get 503 wait 1 s.", ""])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short phases, to check the benchmark works")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "load.md")
    parser.add_argument("--news", action="store_true", help="distinct news questions over 200 news articles")
    args = parser.parse_args(argv)
    if args.news:
        news_main(args)
        return
    steady_s, burst_s = (5, 3) if args.quick else (60, 30)
    with tempfile.TemporaryDirectory(prefix="qa-load-") as scratch:
        work = Path(scratch)
        process, url = start_server(work / "store", work / "server.log")
        try:
            steady = asyncio.run(phase(url, 32, steady_s, process.pid))
            burst = asyncio.run(phase(url, 200, burst_s, process.pid))
            ok_after = recovered(url) and process.poll() is None
        finally:
            stop_server(process)
    command = "python -m bench.load" + (" --quick" if args.quick else "")
    text = render(steady, burst, ok_after, command)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    if steady["ok"] != steady["requests"] or not ok_after:
        sys.exit(1)


if __name__ == "__main__":
    main()
