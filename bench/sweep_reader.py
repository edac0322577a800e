"""Choose the reader's weight and abstention threshold on the dev splits (never on test).

    .venv/bin/python -m bench.sweep_reader      # prints the grid; the chosen pair goes in Settings

For every dev question of XQuAD-en and COVID-QA the candidate sentences are scored once
(relevance and reader probability); then each (weight, threshold) pair is replayed offline:
the best sentence by weight·p + (1−weight)·relevance is the first citation, and the answer
abstains when p of that sentence is below the threshold. Measured: first citation contains the
gold answer (answerable), and abstention precision/recall on the same questions with their
article hidden (the corpus is then silent about them, while similar articles stay).
"""
from __future__ import annotations

import argparse
import itertools
from pathlib import Path

from bench.evaluate import build_store, load_dataset, normalize, split
from qa.engine import Engine
from qa.settings import Settings

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "bench" / "data"
WEIGHTS = [0.0, 0.3, 0.5, 0.7, 0.9, 1.0]
THRESHOLDS = [0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6]


def candidates(engine: Engine, question: str, hide: str | None = None) -> list[tuple[float, float | None, str]]:
    loaded = engine._current()
    vector = engine.embedder.embed([question])[0]
    hits = [h for h in loaded.retriever.search(question, vector, 50 if hide else engine.settings.answer_k)
            if h.doc_id != hide][:engine.settings.answer_k]
    ranked = loaded.answerer.scored_sentences(question, vector, hits)
    return [(s.relevance, s.answer_prob, s.text) for s in ranked]


def collect(work: Path, limit: int | None) -> list[dict]:
    cases = []
    for name in ("xquad-en", "covid-qa"):
        dataset = load_dataset(DATA, name)
        dev, _ = split(dataset, limit)
        engine = Engine(build_store(dataset, work, Settings()))
        for q in dev:
            gold = normalize(q.answer)
            for hide in (None, q.gold_doc):
                cands = candidates(engine, q.question, hide)
                cases.append({"set": name, "answerable": hide is None,
                              "cands": [(r, p, gold in normalize(t)) for r, p, t in cands]})
    return cases


def replay(cases: list[dict], weight: float, threshold: float, relevance_min: float) -> dict:
    out = {}
    for name in sorted({c["set"] for c in cases}):
        tp = fp = fn = contained = answerable = 0
        for case in (c for c in cases if c["set"] == name):
            read = [c for c in case["cands"] if c[1] is not None]
            best = max(read, key=lambda c: weight * c[1] + (1 - weight) * c[0], default=None)
            abstain = (best is None or max(c[0] for c in case["cands"]) < relevance_min or best[1] < threshold)
            if case["answerable"]:
                answerable += 1
                contained += (not abstain) and best[2]
                fp += abstain
            else:
                tp += abstain
                fn += not abstain
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        out[name] = {"first_contained": contained / answerable, "abstain_p": precision, "abstain_r": recall,
                     "abstain_f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0}
    out["objective"] = sum(0.5 * m["first_contained"] + 0.5 * m["abstain_f1"] for m in out.values()) / len(out)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--work", type=Path, default=Path(__file__).resolve().parent / ".cache")
    args = parser.parse_args(argv)
    relevance_min = Settings().abstain_threshold
    cases = collect(args.work, args.limit)
    rows = []
    for weight, threshold in itertools.product(WEIGHTS, THRESHOLDS):
        rows.append((weight, threshold, replay(cases, weight, threshold, relevance_min)))
    print("| weight | threshold | objective | " + " | ".join(
        f"{s} first_contained | {s} abstain P/R" for s in ("xquad-en", "covid-qa")) + " |")
    print("|---|---|---|" + "---|---|" * 2)
    for weight, threshold, m in rows:
        print(f"| {weight} | {threshold} | {m['objective']:.3f} | " + " | ".join(
            f"{m[s]['first_contained']:.3f} | {m[s]['abstain_p']:.2f}/{m[s]['abstain_r']:.2f}" for s in ("xquad-en", "covid-qa")) + " |")
    weight, threshold, best = max(rows, key=lambda r: r[2]["objective"])
    print(f"\nchosen (dev, objective = mean of first_contained and abstention F1): reader_weight={weight} "
          f"reader_threshold={threshold} (objective {best['objective']:.3f}); relevance floor {relevance_min}")


if __name__ == "__main__":
    main()
