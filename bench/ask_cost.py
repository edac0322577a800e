"""The cost of answering, two versions of the code on the same store and questions, in one run:
`qa ask --batch` of the first N news dev questions from each checkout, alternately (A B A B ...),
timing each whole batch; the per-answer figure is the median batch time over N, minus the model
loading measured by a one-question batch.

    .venv/bin/python -m bench.ask_cost --before c86f299 --rounds 3 --limit 100
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import news

ROOT = Path(__file__).resolve().parent.parent


def _batch(code: Path, store: Path, questions: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(code), "HF_HUB_OFFLINE": "1", "QA_SETTINGS_FILE": "/nonexistent.toml"}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "qa", "ask", "--batch", str(questions), "--store", str(store)],
                   cwd=code, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--store", type=Path, default=Path(tempfile.gettempdir()) / "qa-news" / "dev" / "store")
    args = parser.parse_args()
    _, questions = news.load("dev", args.limit)
    work = Path(tempfile.mkdtemp(prefix="qa-cost-"))
    many, one = work / "many.jsonl", work / "one.jsonl"
    many.write_text("".join(json.dumps({"question": q["question"]}) + "\n" for q in questions))
    one.write_text(json.dumps({"question": questions[0]["question"]}) + "\n")
    checkout = work / "before"
    subprocess.run(["git", "worktree", "add", "--detach", str(checkout), args.before], cwd=ROOT, check=True,
                   capture_output=True)
    times: dict[str, dict[str, list[float]]] = {"before": {"many": [], "one": []}, "after": {"many": [], "one": []}}
    try:
        for _ in range(args.rounds):
            for label, code in (("before", checkout), ("after", ROOT)):
                times[label]["one"].append(_batch(code, args.store, one))
                times[label]["many"].append(_batch(code, args.store, many))
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(checkout)], cwd=ROOT, capture_output=True)
    per = {}
    for label, t in times.items():
        per[label] = (statistics.median(t["many"]) - statistics.median(t["one"])) / (len(questions) - 1) * 1000
        print(f"{label}: batch of {len(questions)} median {statistics.median(t['many']):.1f} s, one question "
              f"{statistics.median(t['one']):.1f} s -> {per[label]:.1f} ms per answer")
    print(f"change: {per['after'] - per['before']:+.1f} ms per answer ({per['after'] / per['before']:.2f}x)")


if __name__ == "__main__":
    main()
