"""Does the answer-type cue list need words from the seed articles? Answers with the generic
cause cues (the product's) against the same list plus the seed article's own words
("protocols", "requirements", "refus…"), which an earlier version carried.

    .venv/bin/python -m bench.cue_words        # dev splits of XQuAD-en and COVID-QA + our seed questions

Prints, for each list: first citation contains the answer (dev, all questions), and our seed
question score (bench/seed_questions.py).
"""
from __future__ import annotations

from pathlib import Path

from bench import seed_questions
from bench.evaluate import build_store, evaluate_config, load_dataset, split
from qa.engine import Engine
from qa.settings import Settings

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "bench" / "data"
GENERIC = Settings.model_fields["cause_words"].default  # the shipped words, whatever the environment says
WITH_SEED_WORDS = GENERIC + "|protocols?|requirements?|refus\\w*"


def measure(work: Path) -> dict:
    results = {}
    for label, cues in (("generic (shipped)", GENERIC), ("generic + seed words", WITH_SEED_WORDS)):
        settings = Settings(cause_words=cues)
        row = {}
        for name in ("xquad-en", "covid-qa"):
            dataset = load_dataset(DATA, name)
            dev, _ = split(dataset)
            row[name] = evaluate_config(Engine(build_store(dataset, work, settings)), dev)["first_contained"]
        seeds = Engine(Settings(store_dir=work / "seeds-store", cause_words=cues))
        seeds.ingest([Path(__file__).resolve().parent.parent / "seeds"])
        s = seed_questions.evaluate(seeds)
        row["seed turns"] = f"{s['turns_right']}/{s['turns']}"
        results[label] = row
    return results


def main() -> None:
    results = measure(Path(__file__).resolve().parent / ".cache")
    print("| cause cues | XQuAD dev first_contained | COVID-QA dev first_contained | seed questions (turns right) |")
    print("|---|---|---|---|")
    for label, row in results.items():
        print(f"| {label} | {row['xquad-en']:.3f} | {row['covid-qa']:.3f} | {row['seed turns']} |")


if __name__ == "__main__":
    main()
