"""Our own questions about the seed articles (bench/seedqa/questions.jsonl, written before any
tuning): single questions, unanswerable questions about people and events the corpus names, and
multi-turn dialogues whose follow-ups lean on the assistant's earlier answers.

    .venv/bin/python -m bench.seed_questions [--store DIR] [--verbose]

A turn is right when the answer cites an extract containing one of its expected strings (for
an unanswerable question: when it abstains). History is the real conversation: each follow-up is
asked after the product's own earlier answers, as in the chat.
"""
from __future__ import annotations

import argparse
import json
import unicodedata
from pathlib import Path

from qa.engine import Engine
from qa.settings import load_settings
from qa.types import Turn

QUESTIONS = Path(__file__).resolve().parent / "seedqa" / "questions.jsonl"


def load_items() -> list[dict]:
    return [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("’", "'").replace("‘", "'")
    return " ".join(text.lower().split())


def turn_right(answer, expect: list[str] | None) -> bool:
    if expect is None:
        return answer.abstained
    cited = _plain(" ".join(c.quote for c in answer.citations))
    return not answer.abstained and any(_plain(e) in cited for e in expect)


def evaluate(engine: Engine, verbose: bool = False) -> dict:
    rows = []
    for item in load_items():
        history: list[Turn] = []
        verdicts = []
        for turn in item["turns"]:
            answer = engine.ask(turn["q"], history)
            verdicts.append(turn_right(answer, turn["expect"]))
            # as the chat keeps it: each answer with its result (the question as understood, the
            # short answer, the citations), what follow-ups are understood from
            history += [Turn("user", turn["q"]), Turn("assistant", answer.answer, answer)]
            if verbose:
                mark = "ok " if verdicts[-1] else "BAD"
                print(f"{mark} {item['id']} {turn['q']!r} -> {answer.condensed_question!r}: "
                      f"{'(abstained)' if answer.abstained else answer.answer[:160]!r}")
        rows.append((item, verdicts))
    return summarize(rows)


def summarize(rows: list[tuple[dict, list[bool]]]) -> dict:
    single = [v[0] for item, v in rows if len(item["turns"]) == 1 and item["turns"][0]["expect"] is not None]
    unanswerable = [(item, v[0]) for item, v in rows if item["turns"][0]["expect"] is None]
    dialogues = [all(v) for item, v in rows if len(item["turns"]) > 1]
    follow_ups = [x for item, v in rows if len(item["turns"]) > 1 for x in v[1:]]
    abstained_right = sum(ok for _, ok in unanswerable)
    answerable_abstained = 0  # answerable turns abstained on are wrong answers; counted for precision
    return {
        "answerable_right": sum(single), "answerable": len(single),
        "unanswerable_abstained": abstained_right, "unanswerable": len(unanswerable),
        "dialogues_right": sum(dialogues), "dialogues": len(dialogues),
        "follow_ups_right": sum(follow_ups), "follow_ups": len(follow_ups),
        "turns_right": sum(sum(v) for _, v in rows), "turns": sum(len(v) for _, v in rows),
        "answerable_abstained": answerable_abstained,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    engine = Engine(load_settings(store_dir=args.store))
    engine.ingest([engine.settings.store.seeds_dir])
    s = evaluate(engine, args.verbose)
    print(f"answerable {s['answerable_right']}/{s['answerable']}, unanswerable abstained "
          f"{s['unanswerable_abstained']}/{s['unanswerable']}, dialogues fully right "
          f"{s['dialogues_right']}/{s['dialogues']} (follow-ups {s['follow_ups_right']}/{s['follow_ups']}), "
          f"turns {s['turns_right']}/{s['turns']}")


if __name__ == "__main__":
    main()
