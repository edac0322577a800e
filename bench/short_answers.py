"""Short answers (the words that answer, inside the first extract): exact match and token F1
(SQuAD normalisation), coverage, and precision among the ones shown; the threshold is chosen on
news dev for precision >= 0.85 among the short answers shown.

    .venv/bin/python -m bench.short_answers                 # -> bench/results/short-answers.md
    .venv/bin/python -m bench.short_answers --limit 100 --out /tmp/sa.md

Every question is asked once with the threshold at 0 (each answer keeps its best span and its
score); each threshold is then replayed offline. A short answer is *right* when its token F1
against the gold answer is at least 0.5 (EM is reported too). Sets: news dev (choosing), XQuAD
and COVID-QA test and the held-out 2022 questions (reporting only, at the chosen threshold).
"""
from __future__ import annotations

import argparse
import re
import string
import tempfile
from collections import Counter
from pathlib import Path

from bench import news
from bench.evaluate import build_store, load_dataset, split
from qa.engine import Engine
from qa.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "bench" / "data"
GRID = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
TARGET_PRECISION = 0.85


def squad_normalize(text: str) -> list[str]:
    text = "".join(c for c in text.lower() if c not in set(string.punctuation))
    return re.sub(r"\b(a|an|the)\b", " ", text).split()


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
    return {"questions": n, "shown": len(shown), "coverage": len(shown) / n if n else 0.0,
            "precision": sum(r[2] >= 0.5 for r in shown) / len(shown) if shown else 0.0,
            "em": sum(r[1] for r in shown) / n if n else 0.0, "f1": sum(r[2] for r in shown) / n if n else 0.0}


def choose(rows: list) -> float:
    """The lowest threshold whose precision among the shown short answers reaches the target."""
    for t in GRID:
        if at(rows, t)["precision"] >= TARGET_PRECISION:
            return t
    return GRID[-1]


def sets(limit: int | None, work: Path) -> dict[str, tuple[Settings, list[tuple[str, list[str]]]]]:
    base = Settings(short_answers=True, short_answer_threshold=0.0)
    out = {}
    _, news_questions = news.load("dev", limit)
    out["news dev"] = (base.model_copy(update={"store_dir": work / "dev" / "store"}),
                       [(q["question"], q["answers"]) for q in news_questions])
    for name in ("xquad-en", "covid-qa"):
        dataset = load_dataset(DATA, name)
        _, test = split(dataset, limit)
        out[f"{name} test"] = (build_store(dataset, ROOT / "bench" / ".cache", base), [(q.question, [q.answer]) for q in test])
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "qa-news")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "short-answers.md")
    args = parser.parse_args(argv)
    results = {name: collect(Engine(settings), questions) for name, (settings, questions) in sets(args.limit, args.work).items()}
    chosen = choose(results["news dev"])
    lines = [f"# Short answers\n\nCommand: `python -m bench.short_answers{f' --limit {args.limit}' if args.limit else ''}`. "
             f"Threshold chosen on news dev for precision ≥ {TARGET_PRECISION} among the short answers shown: "
             f"**{chosen}**. Right = token F1 ≥ 0.5 against the gold answer; EM and F1 are over all the set's questions "
             "(a question without a short answer scores 0).\n",
             "| set | threshold | shown (coverage) | precision among shown | EM | F1 |", "|---|---|---|---|---|---|"]
    for name, rows in results.items():
        grid = GRID if name == "news dev" else sorted({0.0, chosen})
        for t in grid:
            r = at(rows, t)
            mark = " **(chosen)**" if t == chosen and name == "news dev" else ""
            lines.append(f"| {name} | {t}{mark} | {r['shown']}/{r['questions']} ({r['coverage']:.3f}) | "
                         f"{r['precision']:.3f} | {r['em']:.3f} | {r['f1']:.3f} |")
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
