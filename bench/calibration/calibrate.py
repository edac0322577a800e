"""Best-sentence relevance of our own answerable / unanswerable questions about the seeds, and
whether the product answers or abstains (the relevance floor, then the answer-type checks).

Run: .venv/bin/python bench/calibration/calibrate.py [--store vectorstore]
The abstention threshold (Settings.abstain_threshold) sits between the two groups.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from qa.engine import Engine
from qa.settings import load_settings


def main() -> None:
    store = sys.argv[sys.argv.index("--store") + 1] if "--store" in sys.argv else None
    engine = Engine(load_settings(store_dir=store))
    rows = []
    for line in (Path(__file__).parent / "seeds.jsonl").read_text().splitlines():
        item = json.loads(line)
        answer = engine.ask(item["question"])
        ranked = engine.sentences(answer.condensed_question)
        best = max((s.relevance for s in ranked), default=0.0)
        rows.append((item["answerable"], best, item["question"], answer.abstained))
    threshold = engine.settings.answer.abstain_threshold
    for answerable, best, question, abstained in sorted(rows, key=lambda r: r[1]):
        verdict = "abstains" if abstained else "answers"
        print(f"{'A' if answerable else 'U'} {best:.3f} {verdict:8s} {question}")
    answered = sum(a and not d for a, _, _, d in rows)
    abstained = sum(not a and d for a, _, _, d in rows)
    print(f"threshold {threshold}: answers {answered}/{sum(a for a, *_ in rows)} answerable, "
          f"abstains on {abstained}/{sum(not a for a, *_ in rows)} unanswerable")


if __name__ == "__main__":
    main()
