"""Site furniture left out of the index: how many sentences of the news sets are furniture lines
(qa.text.boilerplate), which lines they are, and whether any sentence that states a dev answer
would be lost.

    .venv/bin/python -m bench.boilerplate      # -> bench/results/boilerplate.md
"""
from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from bench import news
from bench.evaluate import normalize
from qa.ingest.chunking import _on_furniture_line
from qa.text.sentences import split_sentences

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    lines = ["# Site furniture left out of the index", "",
             f"`python -m bench.boilerplate` on {time.strftime('%Y-%m-%d')}: every sentence of the articles, "
             "as ingested (Title/Date head and text), and of the shipped seeds.", "",
             "| set | articles | sentences | furniture lines dropped | answering sentences lost |", "|---|---|---|---|---|"]
    seen: Counter[str] = Counter()
    for split in ("dev", "train"):
        articles, questions = news.load(split)
        answers = {d: [a for q in questions if d in q["stating"] for a in q["answers"]] for d in articles}
        total = dropped = lost = 0
        for doc_id, (title, date, text) in articles.items():
            for span in split_sentences(text):
                total += 1
                if _on_furniture_line(text, span):
                    dropped += 1
                    sentence = text[span.start:span.end]
                    seen[sentence.strip()[:60]] += 1
                    lost += any(a in normalize(sentence) for a in answers.get(doc_id, []))
        lines.append(f"| RealTimeQA {split} | {len(articles):,} | {total:,} | {dropped:,} ({dropped / total:.2%}) | {lost} |")
    seeds = sorted((ROOT / "seeds").glob("*.txt"))
    total = dropped = 0
    for path in seeds:
        text = path.read_text(encoding="utf-8")
        for span in split_sentences(text):
            total += 1
            if _on_furniture_line(text, span):
                dropped += 1
                seen[text[span.start:span.end].strip()[:60]] += 1
    lines.append(f"| shipped seeds | {len(seeds)} | {total} | {dropped} | – |")
    lines += ["", "The most frequent lines dropped:", "", "| line | times |", "|---|---|"]
    lines += [f"| {line.replace('|', '/')} | {n} |" for line, n in seen.most_common(25)]
    text = "\n".join(lines) + "\n"
    (ROOT / "bench" / "results" / "boilerplate.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
