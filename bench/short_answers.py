"""Short answers (the words of a cited extract that answer): exact match and token F1 (SQuAD
normalisation), coverage, and precision among the ones shown; the threshold is chosen on news
dev for precision >= 0.85 among the short answers shown; the cost is timed in the same run.

    .venv/bin/python -m bench.short_answers                  # -> bench/results/short-answers.md
    .venv/bin/python -m bench.short_answers --limit 100 --sets "news dev" --out /tmp/sa.md

Every question is asked once with the threshold at 0 (each answer keeps its best span and its
score); each threshold is then replayed offline. A short answer is *right* when its token F1
against a gold answer is at least 0.5 (EM is reported too). Sets: news dev (choosing), XQuAD and
COVID-QA test and the held-out 2022 questions over all their articles (reporting only; the store
is built under --heldout-work on first use, about half an hour; later runs reuse it). Cost: the same questions asked
with short answers on and off, alternately, on one store; the median of the per-question
differences.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench import news
from bench.evaluate import build_store, load_dataset, split, wilson
from qa.engine import Engine
from qa.settings import Settings
from qa.text.lexical import squad_words

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "bench" / "data"
GRID = [0.0, 0.3, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]
TARGET_PRECISION = 0.85
MIN_SHOWN = 20  # a threshold that shows fewer answers than this is not judged on its precision
# RealTimeQA's published predictions on the same 639 held-out questions (exact match, F1)
ANCHORS = {"GPT-3 (text-davinci-002) with Google search results": (0.391, 0.484),
           "RAG with the same results": (0.260, 0.321)}
SETS = ("news dev", "xquad-en test", "covid-qa test", "held-out 2022")


def squad_normalize(text: str) -> list[str]:
    return list(squad_words(text))


def f1(prediction: str, gold: str) -> float:
    p, g = squad_normalize(prediction), squad_normalize(gold)
    common = sum((Counter(p) & Counter(g)).values())
    if not common:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def collect(engine: Engine, questions: list[tuple[str, list[str]]]) -> list[tuple[float, float, float] | None]:
    """Per question: (score, EM, F1) of its short answer at threshold 0, or None when it has none."""
    rows = []
    for question, golds in questions:
        short = engine.ask(question).short_answer
        if short is None:
            rows.append(None)
            continue
        em = max(float(squad_normalize(short.text) == squad_normalize(g)) for g in golds)
        rows.append((short.score, em, max(f1(short.text, g) for g in golds)))
    return rows


def at(rows: list, threshold: float) -> dict:
    shown = [r for r in rows if r is not None and r[0] >= threshold]
    n = len(rows)
    right = sum(r[2] >= 0.5 for r in shown)
    return {"questions": n, "shown": len(shown), "coverage": len(shown) / n if n else 0.0, "right": right,
            "precision": right / len(shown) if shown else 0.0,
            "em": sum(r[1] for r in shown) / n if n else 0.0, "f1": sum(r[2] for r in shown) / n if n else 0.0}


def choose(rows: list) -> float | None:
    """The lowest threshold whose precision among at least MIN_SHOWN short answers reaches the target."""
    for t in GRID:
        r = at(rows, t)
        if r["shown"] >= MIN_SHOWN and r["precision"] >= TARGET_PRECISION:
            return t
    return None


def sets(names: list[str], limit: int | None, work: Path, heldout_work: Path) -> dict:
    base = Settings(short_answers=True, short_answer_threshold=0.0)
    out = {}
    if "news dev" in names:
        _, news_questions = news.load("dev", limit)
        out["news dev"] = (base.updated(**{"store_dir": work / "dev" / "store"}),
                           [(q["question"], q["answers"]) for q in news_questions])
    for name in ("xquad-en", "covid-qa"):
        if f"{name} test" in names:
            dataset = load_dataset(DATA, name)
            _, test = split(dataset, limit)
            out[f"{name} test"] = (build_store(dataset, ROOT / "bench" / ".cache", base),
                                   [(q.question, [q.answer]) for q in test])
    if "held-out 2022" in names:
        from bench import heldout

        articles, questions = heldout.load()
        engine, _ = heldout.open_store(articles, heldout_work, base)
        asked = [(q["question"], [q["answer"]]) for q in questions if q["answer"]][:limit]
        out["held-out 2022"] = (engine.settings, asked)
    return out


def cost(settings: Settings, questions: list[str]) -> tuple[float, float, float]:
    """Median ms per question without and with short answers, and the median paired difference;
    asked alternately on one store so that load from other processes hits both alike."""
    without = Engine(settings.updated(**{"short_answers": False}))
    with_ = Engine(settings)
    for engine in (without, with_):
        engine.ask(questions[0])  # loads models and store
    off, on = [], []
    for question in questions:
        for engine, times in ((without, off), (with_, on)):
            started = time.perf_counter()
            engine.ask(question)
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(off), statistics.median(on), statistics.median(b - a for a, b in zip(off, on))


def row(name: str, t: float, rows: list, mark: str = "") -> str:
    r = at(rows, t)
    lo, hi = wilson(r["right"], r["shown"])
    return (f"| {name} | {t}{mark} | {r['shown']}/{r['questions']} ({r['coverage']:.3f}) | "
            f"{r['precision']:.3f} [{lo:.2f}, {hi:.2f}] | {r['em']:.3f} | {r['f1']:.3f} |")


def report(results: dict, chosen: float | None, timing: tuple[float, float, float] | None, command: str) -> str:
    shown_at = chosen if chosen is not None else GRID[-1]
    lines = [f"# Short answers\n\nCommand: `{command}`. Right = token F1 ≥ 0.5 against a gold answer; EM and F1 are "
             "over all the set's questions (a question without a short answer shown scores 0). Precision among the "
             "shown with its 95% interval (Wilson).\n",
             f"Threshold chosen on news dev for precision ≥ {TARGET_PRECISION} among at least {MIN_SHOWN} short "
             f"answers shown: **{chosen if chosen is not None else 'none reaches it'}**.\n"]
    if timing:
        lines.append(f"Cost (news dev, asked alternately with short answers off and on, same store): median "
                     f"{timing[0]:.0f} ms off, {timing[1]:.0f} ms on; median per-question difference "
                     f"**{timing[2]:+.1f} ms**.\n")
    lines += ["| set | threshold | shown (coverage) | precision among shown | EM | F1 |", "|---|---|---|---|---|---|"]
    for name, rows in results.items():
        grid = GRID if name == "news dev" else sorted({0.0, shown_at})
        lines += [row(name, t, rows, " **(chosen)**" if t == chosen else "") for t in grid]
    if "held-out 2022" in results:
        lines += ["", "Anchors on the same held-out questions (RealTimeQA's published predictions, no threshold: "
                  "every question answered):", "", "| system | EM | F1 |", "|---|---|---|"]
        lines += [f"| {name} | {em:.3f} | {f:.3f} |" for name, (em, f) in ANCHORS.items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--sets", nargs="+", choices=SETS, default=list(SETS))
    parser.add_argument("--cost", type=int, default=100, help="news dev questions timed off and on (0: none)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "qa-news")
    parser.add_argument("--heldout-work", type=Path, default=Path(tempfile.gettempdir()) / "qa-heldout")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "short-answers.md")
    args = parser.parse_args(argv)
    chosen_sets = sets(args.sets, args.limit, args.work, args.heldout_work)
    results = {name: collect(Engine(settings), questions) for name, (settings, questions) in chosen_sets.items()}
    chosen = choose(results["news dev"]) if "news dev" in results else Settings().reader.short_answer_threshold
    timing = None
    if args.cost and "news dev" in chosen_sets:
        settings, questions = chosen_sets["news dev"]
        timing = cost(settings.updated(**{"short_answer_threshold": chosen or 0.0}),
                      [q for q, _ in questions[:args.cost]])
    given = sys.argv[1:] if argv is None else argv
    command = " ".join(["python -m bench.short_answers", *given])
    text = report(results, chosen, timing, command)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
