"""Time words in news questions (issue 34): how many train-split questions carry one, and how
often each library resolves it to the right window, checked by hand on 50 of them.

    .venv/bin/python -m bench.timewords extract        # -> /tmp/timewords.json (50 sampled, with our windows)
    /path/to/venv-with-ctparse/bin/python bench/timewords_ctparse.py /tmp/timewords.json   # adds ctparse's
    .venv/bin/python -m bench.timewords score          # + bench/timewords_gold.json -> bench/results/time.md

ctparse cannot share the product's environment (it pins python-dateutil < 3; the lock has 4.0.0),
so it runs in a side venv on the same expressions. The gold windows in bench/timewords_gold.json
were written by hand from each question's date and wording (question ids only: the data is not
copied into the repository). A window is right when both ends match the hand-written one.
"""
from __future__ import annotations

import json
import random
import sys
from datetime import date
from pathlib import Path

from qa.text.nlp import parse_question
from qa.text.timewords import _PRESENT, is_time, read_time

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "bench" / "data" / "realtimeqa-news" / "questions.jsonl"
GOLD = ROOT / "bench" / "timewords_gold.json"
SAMPLES = Path("/tmp/timewords.json")
SAMPLE_SIZE, SEED = 50, 2026  # a sample the rules were not written on (34 was)


def time_expression(question: str) -> str | None:
    """The words a question is placed in time by (spaCy's DATE/TIME entities, present-tense
    words), whether or not they resolve."""
    for entity in parse_question(question).entities:
        if is_time(entity):
            return entity.text
    match = _PRESENT.search(question)
    return match.group(0) if match else None


def extract() -> None:
    questions = [q for q in map(json.loads, DATA.read_text(encoding="utf-8").splitlines()) if q["split"] == "train"]
    timed = [(q, time_expression(q["question"])) for q in questions]
    timed = [(q, words) for q, words in timed if words]
    sample = random.Random(SEED).sample(timed, SAMPLE_SIZE)
    rows = []
    for q, words in sample:
        reading = read_time(q["question"], date.fromisoformat(q["date"]))
        rows.append({"id": q["id"], "as_of": q["date"], "question": q["question"], "words": words,
                     "dateparser": reading.to_json()})
    SAMPLES.write_text(json.dumps({"train_questions": len(questions), "with_time_words": len(timed),
                                   "rows": rows}, indent=1))
    print(f"{len(timed)} of {len(questions)} train questions have time words; 50 sampled -> {SAMPLES}")


def _right(window: dict | None, gold: dict) -> bool:
    if gold.get("from") is None:
        return window is None
    return bool(window) and window["from"] == gold["from"] and window["to"] == gold["to"]


def score() -> None:
    data = json.loads(SAMPLES.read_text())
    gold = json.loads(GOLD.read_text())["windows"]
    rows = [r for r in data["rows"] if r["id"] in gold]
    ours = sum(_right(r["dateparser"], gold[r["id"]]) for r in rows)
    theirs = sum(_right(r.get("ctparse"), gold[r["id"]]) for r in rows)
    share = data["with_time_words"] / data["train_questions"]
    dated = [r for r in rows if not _PRESENT.fullmatch(r["words"])]  # what a date library is asked to read
    ours_dated = sum(_right(r["dateparser"], gold[r["id"]]) for r in dated)
    theirs_dated = sum(_right(r.get("ctparse"), gold[r["id"]]) for r in dated)
    lines = [
        "# Time words in news questions", "",
        "`python -m bench.timewords extract`, `bench/timewords_ctparse.py` (ctparse 0.3.6 in a side venv), "
        "`python -m bench.timewords score`.", "",
        f"Train-split questions with a time expression: **{data['with_time_words']} of {data['train_questions']} "
        f"({share:.2f})** (spaCy DATE/TIME entities that are not ages or durations, and the present-tense words "
        "\"recently\", \"latest\", \"current\", \"now\" ...).", "",
        f"Resolution on {len(rows)} of them sampled (seed {SEED}) and checked by hand against each question's date "
        "(the gold windows: `bench/timewords_gold.json`):", "",
        "| resolver | right window |", "|---|---|",
        f"| spaCy finds, dateparser 1.5.0 resolves (shipped) | {ours}/{len(rows)} ({ours / len(rows):.2f}) |",
        f"| ctparse 0.3.6 on the same expressions | {theirs}/{len(rows)} ({theirs / len(rows):.2f}) |",
        f"| dateparser, date expressions only (no \"recently\", \"now\" ...) | {ours_dated}/{len(dated)} |",
        f"| ctparse, date expressions only | {theirs_dated}/{len(dated)} |", "",
        "ctparse reads weekdays as the next one (\"on Tuesday\" asked on a Thursday gives the coming Tuesday), "
        "does not read \"this week\", \"this year\" or \"last weekend\", and its parse of a bare \"the Year\" is "
        "a date; it does read a range (\"August 15th to August 18th, 2024\"), the one expression dateparser "
        "misses here. dateparser ships.", "",
        "| id | words | as of | hand | dateparser | ctparse |", "|---|---|---|---|---|---|"]
    for r in rows:
        g = gold[r["id"]]
        lines.append(f"| {r['id']} | {r['words']} | {r['as_of']} | {_span(g)} | {_span(r['dateparser'])}"
                     f"{'' if _right(r['dateparser'], g) else ' ✗'} | {_span(r.get('ctparse'))}"
                     f"{'' if _right(r.get('ctparse'), g) else ' ✗'} |")
    if len(sys.argv) > 2:
        lines += ["", sys.argv[2]]
    out = ROOT / "bench" / "results" / "time.md"
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines[:14]))


def _span(window: dict | None) -> str:
    if not window or window.get("from") is None:
        return "none"
    return window["from"] if window["from"] == window["to"] else f"{window['from']} – {window['to']}"


if __name__ == "__main__":
    {"extract": extract, "score": score}[sys.argv[1] if len(sys.argv) > 1 else "extract"]()
