"""Where spaCy's entity recogniser runs, by cost: over every stored sentence at ingest, or over the
few sentences an answer reads at question time. Measured in one run on the same news articles:
the ingest of N articles into a fresh store (the default embedder), and NER over all their
sentences (what ingest-time entities would add); then NER at question time over the question and
the sentences one answer reads.

    .venv/bin/python -m bench.ner_cost --articles 300
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bench import news
from bench.heldout import write_corpus
from qa.engine import Engine
from qa.settings import Settings
from qa.text import nlp
from qa.text.sentences import split_sentences


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=300)
    args = parser.parse_args()
    articles, questions = news.load("dev")
    chosen = dict(sorted(articles.items())[:args.articles])
    work = Path(tempfile.mkdtemp(prefix="qa-ner-cost-"))
    write_corpus(chosen, work / "corpus")
    texts = [p.read_text(encoding="utf-8") for p in sorted((work / "corpus").iterdir())]
    sentences = [t[s.start:s.end] for t in texts for s in split_sentences(t)]
    nlp.warm()
    started = time.perf_counter()
    report = Engine(Settings(store_dir=work / "store")).ingest([work / "corpus"])
    ingest = time.perf_counter() - started
    nlp._cache.clear()
    started = time.perf_counter()
    nlp.entities(sentences)
    ner = time.perf_counter() - started
    print(f"{len(texts)} articles, {report.chunks} chunks, {len(sentences)} sentences")
    print(f"ingest {ingest:.1f} s; NER over every sentence {ner:.1f} s = +{ner / ingest:.0%} of the ingest "
          f"({ner / len(sentences) * 1000:.2f} ms a sentence)")
    engine = Engine(Settings(store_dir=work / "store"))
    per_answer = []
    for q in questions[:40]:
        read = [s.text for s in engine.sentences(q["question"])[:6]]
        nlp._cache.clear()
        nlp.parse_question.cache_clear()
        started = time.perf_counter()
        nlp.parse_question(q["question"])
        nlp.entities(read)
        per_answer.append(time.perf_counter() - started)
    print(f"question time: the question and the 6 sentences an answer weighs, median "
          f"{statistics.median(per_answer) * 1000:.1f} ms over {len(per_answer)} questions")


if __name__ == "__main__":
    main()
