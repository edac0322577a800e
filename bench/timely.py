"""Answers as of a date (issue 34): each news question asked with `as_of` = its own date and no
filter, against the same questions asked without time (no window prior, no recency prior).

    .venv/bin/python -m bench.timely                    # news dev (2025) -> bench/results/timely.md
    .venv/bin/python -m bench.timely --sweep --every 2  # choose the prior's weights on half of dev
    .venv/bin/python -m bench.timely --set heldout --out bench/results/timely-heldout.md   # report only

Measured over the questions whose search results state the answer text:
- timely answers: the answer text inside a cited extract of an article dated within
  [as_of - 10 days, as_of + 3 days];
- answers from any date: the answer text inside any cited extract;
with paired 95% intervals (bench.news.paired) for the change. The store is bench.news's (dev) or
bench.heldout's, built once under --work; its stories are added by the ingest if missing.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from bench.news import _contains, paired
from qa.engine import Engine
from qa.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
BEFORE, AFTER = 10, 3  # days around as_of that count as the question's own time
NO_TIME = {"time_window_weight": 1.0, "recency_weight": 0.0}


def dev_questions(limit: int | None) -> tuple[list[dict], Path, dict]:
    from bench.heldout import write_corpus
    from bench.news import load

    articles, questions = load("dev", limit)
    folder = Path(tempfile.gettempdir()) / "qa-news" / "dev"
    if not (folder / "corpus").exists():
        write_corpus(articles, folder / "corpus")
    dates = {d: a[1].replace("/", "-") or None for d, a in articles.items()}
    return questions, folder, dates


def heldout_questions(limit: int | None) -> tuple[list[dict], Path, dict]:
    from bench.evaluate import normalize
    from bench.heldout import load, write_corpus

    articles, questions = load()
    folder = Path(tempfile.gettempdir()) / "qa-heldout"
    if not (folder / "corpus").exists():
        write_corpus(articles, folder / "corpus")
    kept = [{"id": q["id"], "question": q["question"], "answers": [normalize(q["answer"])], "date": q["date"],
             "stating": {d for d in q["gold"] if normalize(q["answer"]) in normalize(articles[d][2])}}
            for q in questions if q["stated"] and q["date"]]
    dates = {d: a[1].replace("/", "-")[:10] or None for d, a in articles.items()}
    return kept[:limit] if limit else kept, folder, dates


def timely(answers: list[str], citations, as_of: str, dates: dict) -> bool:
    day = date.fromisoformat(as_of)
    low, high = (day - timedelta(days=BEFORE)).isoformat(), (day + timedelta(days=AFTER)).isoformat()
    return _contains(answers, [c.quote for c in citations if c.date and low <= c.date <= high])


def run(engine: Engine, questions: list[dict], dates: dict, with_time: bool) -> tuple[dict, list[float]]:
    outcomes, seconds = {}, []
    for q in questions:
        started = time.perf_counter()
        answer = engine.ask(q["question"], as_of=q["date"] if with_time else None)
        seconds.append(time.perf_counter() - started)
        outcomes[q["id"]] = {"timely": timely(q["answers"], answer.citations, q["date"], dates),
                             "any_date": _contains(q["answers"], [c.quote for c in answer.citations]),
                             "window": bool(answer.time), "abstained": answer.abstained}
    return outcomes, seconds


def _ceiling(questions: list[dict], dates: dict) -> int:
    """Questions with at least one article stating the answer dated within the timely range."""
    count = 0
    for q in questions:
        day = date.fromisoformat(q["date"])
        low, high = (day - timedelta(days=BEFORE)).isoformat(), (day + timedelta(days=AFTER)).isoformat()
        count += any(dates.get(d) and low <= dates[d] <= high for d in q.get("stating", ()))
    return count


def shares(outcomes: dict) -> str:
    n = len(outcomes)
    return " | ".join(f"{sum(r[k] for r in outcomes.values()) / n:.3f} ({sum(r[k] for r in outcomes.values())})"
                      for k in ("timely", "any_date"))


def sweep(settings: Settings, questions: list[dict], dates: dict) -> str:
    lines = ["| time_window_weight | recency_weight | half-life (days) | timely | any date |", "|---|---|---|---|---|"]
    grid = [(1.0, 0.0, 14.0), (0.7, 0.5, 14.0), (0.6, 0.5, 14.0), (0.5, 0.5, 14.0), (0.7, 0.5, 10.0),
            (0.7, 0.6, 10.0), (0.6, 0.6, 14.0)]
    for outside, recency, half in grid:
        engine = Engine(settings.updated(**{"time_window_weight": outside, "recency_weight": recency,
                                                    "recency_half_life_days": half}))
        outcomes, _ = run(engine, questions, dates, with_time=True)
        lines.append(f"| {outside} | {recency} | {half:g} | {shares(outcomes)} |")
        print(lines[-1], flush=True)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", choices=["dev", "heldout"], default="dev")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--every", type=int, default=1, help="every n-th question (sweeps on part of dev)")
    parser.add_argument("--sweep", action="store_true", help="the prior's weights, on dev")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    questions, folder, dates = (dev_questions if args.set == "dev" else heldout_questions)(args.limit)
    questions = questions[::args.every]
    settings = Settings(store_dir=folder / "store")
    ingested = Engine(settings).ingest([folder / "corpus"])
    if args.sweep:
        text = f"# Time prior sweep: news {args.set}, 1 question in {args.every} ({len(questions)})\n\n"
        text += sweep(settings, questions, dates)
    else:
        without, slow_before = run(Engine(settings.updated(**NO_TIME)), questions, dates, with_time=False)
        with_time, slow_after = run(Engine(settings), questions, dates, with_time=True)
        n = len(questions)
        ratio = (sum(r["timely"] for r in with_time.values()) / max(1, sum(r["timely"] for r in without.values())))
        median = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
        text = (f"# As of a date: news {args.set}\n\n"
                f"`python -m bench.timely --set {args.set}` — {n} questions whose search results state the answer, "
                f"asked with `as_of` = the question's date and no filter, against the same questions without time "
                f"(time_window_weight 1, recency_weight 0). Corpus: {ingested.documents} articles, "
                f"{ingested.chunks} chunks. A timely answer: the answer text in a cited extract of an article "
                f"dated within [as_of − {BEFORE} days, as_of + {AFTER} days].\n\n"
                f"| run | timely answers | answers from any date |\n|---|---|---|\n"
                f"| without time | {shares(without)} |\n| as_of = question date | {shares(with_time)} |\n\n"
                f"Timely answers: **{ratio:.2f}×** the run without time. The ceiling: {_ceiling(questions, dates)} "
                f"of {n} questions have an article that states the answer dated in that range at all. "
                f"Questions whose time words gave a window: "
                f"{sum(r['window'] for r in with_time.values())} of {n}. Median seconds per answer: "
                f"{median(slow_before):.3f} without, {median(slow_after):.3f} with.\n\n"
                f"Paired (with time against without, same questions, same store):\n\n"
                + paired(with_time, without, ("timely", "any_date", "abstained")))
    out = args.out or (ROOT / "bench" / "results" / ("timely.md" if not args.sweep else "timely-sweep.md")
                       if args.set == "dev" and not args.limit else None)
    if out:
        out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
