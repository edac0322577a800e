"""Answers from agreement (issue 42), measured before building it into the answerer: for each
news dev question of a typed kind (who, where, which official...), every entity of the asked-for
kind in the best sentences of the passages an answer reads is a candidate; candidates that are
one answer are merged (SQuAD-normalised words, numbers as digits, a name inside a longer one);
each is described by its support (span-reader probability of it in each sentence, summed over
stories; how many sentences state it; the best sentence's relevance, score and rank). A logistic
model over those, fitted on one half of dev and judged on the other (both ways), chooses the
answer; its best sentence would lead, and it would be the short answer above a threshold.

    .venv/bin/python -m bench.agreement          # -> bench/results/agreement.md (needs bench.news's store)

Reported: how often the chosen candidate is right (token F1 >= 0.5, as bench.short_answers),
how often its best sentence holds the answer against today's first extract, and the short
answers it would add at each threshold, with their precision.
"""
from __future__ import annotations

import argparse
import math
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench import news
from bench.evaluate import normalize
from bench.short_answers import f1
from qa.answering.extractive import answer_entities
from qa.answering.span import SpanReader, _log_softmax
from qa.engine import Engine
from qa.settings import Settings
from qa.text.lexical import squad_words
from qa.text.nlp import entities
from qa.text.questions import understand

ROOT = Path(__file__).resolve().parent.parent
NUMBERS = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve".split())}


@dataclass
class Mention:
    rank: int
    story: str
    relevance: float
    score: float
    probability: float  # the span reader's, of this entity in this sentence
    holds: bool  # the sentence holds a gold answer
    text: str


def key(text: str) -> tuple[str, ...]:
    return tuple(NUMBERS.get(w, w) for w in squad_words(text))


def merged(found: dict[tuple[str, ...], list[Mention]]) -> dict[tuple[str, ...], list[Mention]]:
    out: dict[tuple[str, ...], list[Mention]] = {}
    for k in sorted(found, key=lambda k: (-len(k), k)):
        holder = next((m for m in out if len(k) < len(m) and any(m[i:i + len(k)] == k for i in range(len(m)))), None)
        out.setdefault(holder or k, []).extend(found[k])
    return out


def candidates(engine: Engine, reader: SpanReader, q: dict, depth: int) -> tuple[dict, bool] | None:
    """The question's merged candidates, and whether today's first extract holds the answer."""
    question = understand(q["question"], q["question"], None)
    if not question.expects:
        return None
    answer = engine.ask(q["question"])
    ranked = list(answer.scored)[:depth]
    stories = engine._current().store.stories_of(list({s.doc_id for s in ranked}))
    entities([s.text for s in ranked])
    found: dict[tuple[str, ...], list[Mention]] = {}
    for rank, s in enumerate(ranked):
        spans = answer_entities(question, s.text)
        if not spans:
            continue
        encoding = reader.tokenizer.encode(q["question"], s.text)
        starts, ends = (_log_softmax(o.reshape(-1)) for o in reader.run(encoding))
        tokens = [(i, a, b) for i, (seq, (a, b)) in enumerate(zip(encoding.sequence_ids, encoding.offsets))
                  if seq == 1 and b > a]
        holds = any(a in normalize(s.text) for a in q["answers"])
        for e in spans:
            inside = [i for i, a, b in tokens if a >= e.start and b <= e.end]
            p = float(np.exp(starts[inside[0]] + ends[inside[-1]])) if inside else 0.0
            if key(e.text):
                found.setdefault(key(e.text), []).append(
                    Mention(rank, stories.get(s.doc_id, s.doc_id), s.relevance, s.score, p, holds, e.text))
    first = bool(answer.citations) and any(a in normalize(answer.citations[0].quote) for a in q["answers"])
    return merged(found), first


def features(mentions: list[Mention]) -> list[float]:
    per_story: dict[str, float] = {}
    for m in mentions:
        per_story[m.story] = max(per_story.get(m.story, 0.0), m.probability)
    return [sum(per_story.values()), max(m.probability for m in mentions), math.log1p(len(per_story)),
            max(m.score for m in mentions), max(m.relevance for m in mentions),
            1 / (1 + min(m.rank for m in mentions)), math.log1p(len(mentions))]


def lead(mentions: list[Mention]) -> Mention:
    return max(mentions, key=lambda m: m.probability * m.score)


def main(argv: list[str] | None = None) -> None:
    from sklearn.linear_model import LogisticRegression

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--depth", type=int, default=10, help="best sentences whose entities are candidates")
    parser.add_argument("--work", type=Path, default=Path("/tmp/qa-news"))
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "agreement.md")
    args = parser.parse_args(argv)
    _, questions = news.load("dev")
    engine = Engine(Settings(store_dir=args.work / "dev" / "store"))
    reader = SpanReader()
    rows = []
    for q in questions:
        found = candidates(engine, reader, q, args.depth)
        if found is not None:
            groups, first = found
            cands = [(features(ms), max(f1(lead(ms).text, a) for a in q["answers"]) >= 0.5, lead(ms).holds)
                     for ms in groups.values()]
            rows.append((cands, first))
    order = list(range(len(rows)))
    random.Random(0).shuffle(order)
    halves = [order[::2], order[1::2]]
    chosen: dict[int, tuple[float, bool, bool]] = {}
    for half in (0, 1):
        train = [c for i in halves[1 - half] for c in rows[i][0]]
        model = LogisticRegression(max_iter=2000).fit(np.array([c[0] for c in train]), np.array([c[1] for c in train]))
        for i in halves[half]:
            if rows[i][0]:
                probs = model.predict_proba(np.array([c[0] for c in rows[i][0]]))[:, 1]
                j = int(np.argmax(probs))
                chosen[i] = (float(probs[j]), rows[i][0][j][1], rows[i][0][j][2])
    n = len(rows)
    today = sum(first for _, first in rows)
    lines = ["# Answers from agreement: measured on news dev, not built in", "",
             f"Command: `python -m bench.agreement --depth {args.depth}`. {n} typed questions of the 375 of news dev "
             f"(bench/results/news.md); candidates from the {args.depth} best sentences of each answer's passages; "
             "the chooser is fitted on one half and judged on the other, both ways.", "",
             f"- questions with a candidate: {len(chosen)}; the chosen candidate right (F1 >= 0.5): "
             f"{sum(c[1] for c in chosen.values())}",
             f"- any candidate right (the ceiling of choosing): "
             f"{sum(any(c[1] for c in cands) for cands, _ in rows)}",
             f"- today's first extract holds the answer: {today}", "",
             "| threshold | first extract holds the answer (agreement's lead above it, today's below) | "
             "short answers from agreement | right | precision |", "|---|---|---|---|---|"]
    for t in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        above = [i for i in chosen if chosen[i][0] >= t]
        holds = sum(chosen[i][2] if i in above else rows[i][1] for i in range(n))
        good = sum(chosen[i][1] for i in above)
        lines.append(f"| {t} | {holds} | {len(above)} | {good} | {good / len(above) if above else 0:.2f} |")
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
