"""What a setting costs per answer: CPU time of the same news dev questions asked with the defaults
and with the setting changed, alternating in one process (the machines are noisy: the ratio of
two medians measured side by side is what carries, not either figure).

    .venv/bin/python -m bench.setting_cost --set reader_sentences=16 --set typed_sentences=8

Store: bench.news's dev store (built by `python -m bench.news`), opened read-only.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from bench.news import DATA
from qa.engine import Engine
from qa.settings import Settings


def cpu_per_answer(engines: list[Engine], questions: list[str]) -> list[float]:
    """Median CPU seconds per answer for each engine, the engines taking turns on each question."""
    times: list[list[float]] = [[] for _ in engines]
    for question in questions:
        for engine, spent in zip(engines, times):
            started = time.process_time()
            engine.ask(question)
            spent.append(time.process_time() - started)
    return [statistics.median(t) for t in times]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a setting to change")
    parser.add_argument("--questions", type=int, default=80, help="the first N dev questions")
    parser.add_argument("--work", type=Path, default=Path("/tmp/qa-news"))
    args = parser.parse_args(argv)
    changed = dict(item.split("=", 1) for item in args.set)
    rows = map(json.loads, (DATA / "questions.jsonl").read_text(encoding="utf-8").splitlines())
    questions = [q["question"] for q in rows if q["split"] == "dev"][:args.questions]
    store = args.work / "dev" / "store"
    engines = [Engine(Settings(store_dir=store)), Engine(Settings(store_dir=store, **changed))]
    for engine in engines:
        engine.ask("Who won the election?")  # models loaded before anything is timed
    base, other = cpu_per_answer(engines, questions)
    print(f"median CPU per answer over {len(questions)} news dev questions: defaults {base * 1000:.0f} ms, "
          f"{', '.join(args.set)} {other * 1000:.0f} ms ({other / base:.2f}x)")


if __name__ == "__main__":
    main()
