"""Best-sentence relevance of our own answerable / unanswerable questions about the seeds.

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
        ranked = engine._current().answerer.scored_sentences(answer.condensed_question, answer.passages)
        rows.append((item["answerable"], ranked[0].relevance if ranked else 0.0, item["question"]))
    threshold = engine.settings.abstain_threshold
    for answerable, best, question in sorted(rows, key=lambda r: r[1]):
        verdict = "answers" if best >= threshold else "abstains"
        print(f"{'A' if answerable else 'U'} {best:.3f} {verdict:8s} {question}")
    answered = sum(a and b >= threshold for a, b, _ in rows)
    abstained = sum(not a and b < threshold for a, b, _ in rows)
    print(f"threshold {threshold}: answers {answered}/{sum(a for a, _, _ in rows)} answerable, "
          f"abstains on {abstained}/{sum(not a for a, _, _ in rows)} unanswerable")


if __name__ == "__main__":
    main()
