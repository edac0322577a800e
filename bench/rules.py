"""Does each hand rule of the extractive answerer pay? Each rule is switched off on its own
(Settings.answer_rules) and the dev sets are asked again, paired against all rules on.

    .venv/bin/python -m bench.rules                      # -> bench/results/rules.md
    QA_READER=news-reader .venv/bin/python -m bench.rules --rules kinds which --limit 100 --out /tmp/r.md

Dev sets only (choosing is done here): news dev (RealTimeQA 2025, bench/news.py's store and
measures: answer inside the cited extracts, inside the first, abstention on the answer-removed
pairs), the dev questions of XQuAD-en and COVID-QA (first extract holds the answer), and our own
seed questions. Changes come with paired 95% intervals: a rule pays when switching it off loses
something whose interval excludes zero, or costs nothing and buys a seed-question or abstention gain.
"""
from __future__ import annotations

import argparse
import math
import tempfile
from pathlib import Path

from bench import news, seed_questions
from bench.evaluate import build_store, load_dataset, normalize, split
from qa.engine import Engine
from qa.settings import ANSWER_RULES, Settings

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "bench" / "data"


def outcomes(settings: Settings, news_store: Path, sets: dict, news_questions: list[dict]) -> dict[str, dict]:
    """Per measure, per question: right or not (one run of every dev set with these settings)."""
    result: dict[str, dict] = {}
    engine = Engine(settings.updated(**{"store_dir": news_store}))
    per_question = news.evaluate(engine, news_questions)["outcomes"]
    for name in ("all_contained", "all_first", "removed_abstained", "own_answered"):
        result[f"news {name}"] = {i: r[name] for i, r in per_question.items() if name in r}
    for name, (store, questions) in sets.items():
        engine = Engine(settings.updated(**{"store_dir": store}))
        first = {}
        for q in questions:
            cited = engine.ask(q.question).citations
            first[q.qid] = bool(cited) and normalize(q.answer) in normalize(cited[0].quote)
        result[f"{name} first"] = first
    seeds = Engine(settings.updated(**{"store_dir": news_store.parent / "seeds-store"}))
    seeds.ingest([ROOT / "seeds"])
    summary = seed_questions.evaluate(seeds)
    result["seed turns"] = {"right": summary["turns_right"], "of": summary["turns"]}
    return result


def change(now: dict, before: dict) -> str:
    """Difference of two paired shares, with a 95% interval (Wald on per-question differences)."""
    common = [i for i in now if i in before]
    n = len(common)
    gained = sum(1 for i in common if now[i] and not before[i])
    lost = sum(1 for i in common if before[i] and not now[i])
    delta = (gained - lost) / n
    half = 1.96 * math.sqrt(max(0.0, (gained + lost) / n - delta * delta) / n)
    return f"{delta:+.3f} [{delta - half:+.3f}, {delta + half:+.3f}]"


def table(runs: dict[str, dict]) -> str:
    base = runs["all rules"]
    measures = [m for m in base if m != "seed turns"]
    lines = ["| rules | " + " | ".join(measures) + " | seed turns |", "|---" * (len(measures) + 2) + "|"]
    for label, run in runs.items():
        cells = []
        for m in measures:
            share = sum(run[m].values()) / len(run[m])
            cells.append(f"{share:.3f}" if run is base else f"{share:.3f} ({change(run[m], base[m])})")
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {run['seed turns']['right']}/{run['seed turns']['of']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rules", nargs="+", default=list(ANSWER_RULES), choices=list(ANSWER_RULES),
                        help="the rules to switch off, one at a time")
    parser.add_argument("--limit", type=int, default=None, help="at most this many questions of each set")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "qa-news")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "rules.md")
    args = parser.parse_args(argv)
    base = Settings()
    _, news_questions = news.load("dev", args.limit)
    news_store = args.work / "dev" / "store"
    if not news_store.exists():
        raise SystemExit(f"no news dev store at {news_store}: build it first with python -m bench.news")
    sets = {}
    for name in ("xquad-en", "covid-qa"):
        dataset = load_dataset(DATA, name)
        dev, _ = split(dataset, args.limit)
        sets[name] = (build_store(dataset, ROOT / "bench" / ".cache", base).store_dir, dev)
    runs = {"all rules": outcomes(base, news_store, sets, news_questions)}
    for rule in args.rules:
        kept = ",".join(r for r in base.answer.rules if r != rule)
        runs[f"without {rule}"] = outcomes(base.updated(**{"answer_rules": kept}), news_store, sets,
                                           news_questions)
        print(table(runs))
    command = "python -m bench.rules" + (f" --limit {args.limit}" if args.limit else "")
    header = (f"# Hand rules: what each is worth on the dev sets\n\nCommand: `{command}`; reader `{base.reader.reader}` "
              f"(weight {base.reader.reader_weight}, {base.reader.reader_sentences} sentences read). Each row switches one rule off; "
              "cells give the share and, in brackets, the paired change against all rules on with its 95% interval. "
              "news: RealTimeQA dev 2025 (all_contained / all_first: the answer inside the cited extracts / the "
              "first, all articles; removed_abstained: abstained with the answer-stating articles filtered out; "
              "own_answered: answered with its own results). xquad-en / covid-qa first: dev questions whose "
              "first extract holds the answer.\n\n")
    rules = "\n".join(f"- `{k}`: {v}" for k, v in ANSWER_RULES.items())
    args.out.write_text(header + table(runs) + "\nThe rules:\n\n" + rules + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
