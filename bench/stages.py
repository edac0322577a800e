"""The cost of an answer in CPU-ms per stage, and answer against search, in one run.

    .venv/bin/python -m bench.stages                 # -> bench/results/stages.md
    .venv/bin/python -m bench.stages --limit 40      # a quick look

Store: the 200 news dev articles of `bench.load --news` (built once under --work), questions: the
distinct news dev questions. Each question is asked once per configuration and searched once, the
configurations taking turns question by question in one process, so machine noise falls on all
alike. Caches filled by earlier questions are emptied before each call: every figure is a
question's cold cost (a server keeps sentence entities, so it pays less). CPU time is the
process's, per stage (qa/stages.py), one question at a time; "render" is the answer's last
touches plus its JSON. Configurations: the shipped settings; without the
sentence reader; and any given with --config NAME KEY=VALUE ... .
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from bench.load import news_corpus
from qa.engine import Engine
from qa.settings import Settings
from qa.stages import measuring, stage

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("understand", "embed", "search", "rerank", "read", "compose", "span", "render")


def _cold() -> None:
    """Forget what earlier questions left cached (sentence entities, question parses, time
    readings, word lists), so that every configuration pays for its own reading."""
    from qa.text import lexical, nlp, timewords

    nlp._cache.clear()
    nlp.parse_question.cache_clear()
    timewords._read_time.cache_clear()
    lexical._terms.cache_clear()


def _timed(run) -> tuple[dict[str, float], float]:
    """CPU-ms per stage of one call from cold caches, and its CPU-ms in all."""
    _cold()
    with measuring() as clock:
        started = time.process_time()
        with stage("render"):
            run()
        total = (time.process_time() - started) * 1000
    return dict(clock.cpu_ms), total


def measure(engines: dict[str, Engine], questions: list[str]) -> dict[str, dict]:
    """Per configuration: each question's CPU-ms per stage and in all; "search" is the search call."""
    runs: dict[str, list] = {name: [] for name in [*engines, "search"]}
    search_engine = next(iter(engines.values()))
    for question in questions:
        for name, engine in engines.items():
            runs[name].append(_timed(lambda e=engine, q=question: e.ask(q).to_json()))
        runs["search"].append(_timed(lambda q=question: [h.to_json() for h in search_engine.find(q).hits]))
    return runs


def summarize(runs: list) -> dict:
    per_stage = {s: statistics.mean(r[0].get(s, 0.0) for r in runs) for s in STAGES}
    totals = [r[1] for r in runs]
    return {"stages": per_stage, "mean": statistics.mean(totals), "median": statistics.median(totals),
            "read_share": sum(r[0].get("read", 0.0) > 0 for r in runs) / len(runs)}


def render(summaries: dict[str, dict], questions: int, command: str, overrides: dict[str, dict]) -> str:
    names = list(summaries)
    lines = ["# The cost of an answer, per stage", "",
             f"Command: `{command}` on {time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} cores, "
             f"one question at a time in one process. Store: 200 news dev articles; {questions} distinct news dev "
             "questions, each asked once per configuration, the configurations taking turns question by question. "
             "CPU-ms of the process per stage (mean over the questions; a stage excludes the stages inside it).", "",
             "Configurations: " + "; ".join(
                 f"**{n}**: {', '.join(f'{k}={v}' for k, v in o.items()) or 'shipped settings'}"
                 for n, o in overrides.items()) + "; **search**: `find()` with the shipped settings.", "",
             "| stage | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for s in STAGES:
        lines.append(f"| {s} | " + " | ".join(f"{summaries[n]['stages'][s]:.1f}" for n in names) + " |")
    lines.append("| **all (mean)** | " + " | ".join(f"**{summaries[n]['mean']:.1f}**" for n in names) + " |")
    lines.append("| all (median) | " + " | ".join(f"{summaries[n]['median']:.1f}" for n in names) + " |")
    lines.append("| questions the reader read | "
                 + " | ".join(f"{summaries[n]['read_share']:.0%}" for n in names) + " |")
    lines += ["", "Answer against search, CPU per question (means, each against the search of its own run):", ""]
    for n in names:
        if not n.endswith("search"):
            search = summaries["before: search" if n.startswith("before: ") else "search"]["mean"]
            lines.append(f"- {n}: **{summaries[n]['mean'] / search:.1f}×** a search")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None, help="only the first N questions")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "qa-stages")
    parser.add_argument("--config", nargs="+", action="append", default=[], metavar="NAME KEY=VALUE",
                        help="a configuration to add: a name, then settings (reader_sentences=4 ...)")
    parser.add_argument("--no-defaults", action="store_true", help="only the --config configurations")
    parser.add_argument("--out", type=Path, default=None, help="default: bench/results/stages.md (full runs)")
    parser.add_argument("--save", type=Path, default=None, help="the summaries as JSON")
    parser.add_argument("--before", type=Path, default=None,
                        help="a --save file from an earlier version of the code: its configurations come first")
    parser.add_argument("--before-note", default="", help="what that earlier version was (printed under the table)")
    args = parser.parse_args(argv)
    questions = news_corpus(args.work / "corpus")[:args.limit]
    base = Settings(store_dir=args.work / "store")
    overrides: dict[str, dict] = {} if args.no_defaults else {
        "shipped": {}, "reader off": {"reader": "none"}}
    for name, *pairs in args.config:
        overrides[name] = {k: json.loads(v) if v[:1].isdigit() or v in ("true", "false") else v
                           for k, v in (p.split("=", 1) for p in pairs)}
    engines = {name: Engine(base.updated(**o)) for name, o in overrides.items()}
    next(iter(engines.values())).ingest([args.work / "corpus"])
    for engine in engines.values():  # models and store loaded before anything is timed
        engine.ask(questions[0])
    runs = measure(engines, questions)
    summaries = {name: summarize(r) for name, r in runs.items()}
    if args.save:
        args.save.write_text(json.dumps(summaries, indent=1))
    if args.before:
        earlier = json.loads(args.before.read_text())
        summaries = {**{f"before: {n}": v for n, v in earlier.items()}, **summaries}
    command = ("python -m bench.stages" + (f" --limit {args.limit}" if args.limit else "")
               + "".join(" --config " + " ".join(f'"{w}"' if " " in w else w for w in c) for c in args.config)
               + (" --no-defaults" if args.no_defaults else "") + (f" --before {args.before}" if args.before else ""))
    text = render(summaries, len(questions), command, overrides)
    if args.before:
        text += f"\nThe before columns (`{args.before}`): {args.before_note}\n"
    out = args.out or (ROOT / "bench" / "results" / "stages.md" if not args.limit else None)
    if out:
        out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
