"""Follow-ups nobody on the team wrote (issue 43): made by a script from the news dev questions.

For a question naming a person, organisation or place X, the first turn is "What is the latest
news about X?" and the follow-up is the question with X replaced by the pronoun a person would
use (he/she/him/her/his for a person, it/its for an organisation or a thing, "there" for "in X"
when X is a place, else it/its). Each conversation is asked with `as_of` = the question's date,
through the same engine every face uses, and so is the question asked in full.

    .venv/bin/python -m bench.followups                 # -> bench/results/followups.md
    .venv/bin/python -m bench.followups --limit 80 --out /tmp/f.md
    .venv/bin/python -m bench.followups --dialogues bench/seedqa/followups.jsonl --store vectorstore

`--dialogues` runs hand-written conversations instead (bench/seedqa/followups.jsonl: written from a
fresh reading of the seeds by someone who had not seen the code): each follow-up must be
understood naming its referent ("names") and cite one of its expected phrases ("expect").

Reported: **resolved**, the share of follow-ups whose understood question names X (the words
of X, in any order of case); **parity**, the answer text inside the cited extracts for the
follow-ups divided by the same for the questions asked in full; and the CPU time of a
follow-up against its full question.
"""
from __future__ import annotations

import argparse
import random
import re
import time
from pathlib import Path

from bench import news
from bench.evaluate import normalize
from qa.engine import Engine
from qa.settings import Settings
from qa.text.nlp import parse_question
from qa.types import Turn

ROOT = Path(__file__).resolve().parent.parent
LABELS = {"PERSON": "person", "ORG": "thing", "GPE": "place", "LOC": "place", "FAC": "place"}
_PREPOSITIONS = {"in", "at", "to", "from", "into"}
_VERB_BEFORE = re.compile(r"\b(?:\w+ed|meet|met|see|saw|named|called|elected|told|asked|interviewed|replace[sd]?|"
                          r"beat|defeated|sued|fired|hired|pardoned|endorsed|joined|by|with|for|against|about|"
                          r"of|on|to|from|as)\s*$", re.I)


def pronoun_form(question: str, start: int, end: int, kind: str, rng: random.Random,
                 he: bool | None = None) -> tuple[int, int, str] | None:
    """The span to replace and the pronoun a person would put there, or None (nothing natural)."""
    before, after = question[:start], question[end:]
    possessive = after.startswith(("'s", "’s")) or question[end - 1:end] in ("'", "’")
    if after.startswith(("'s", "’s")):
        end += 2
    if kind == "place":
        words = before.rstrip().split()
        if words and words[-1].lower() in _PREPOSITIONS and not possessive:
            return start - len(words[-1]) - 1 if before.endswith(" ") else start, end, "there"
    if kind == "person":
        he = rng.random() < 0.5 if he is None else he
        if possessive:
            return start, end, "his" if he else "her"
        if _VERB_BEFORE.search(before):
            return start, end, "him" if he else "her"
        return start, end, "he" if he else "she"
    if possessive:
        return start, end, "its"
    return start, end, "it"


def conversations(questions: list[dict], seed: int = 0) -> list[dict]:
    """One conversation per question that names a person, organisation or place X where a pronoun
    can stand (not a modifier: "the US government", "Delaware students"); a title before a name
    goes with it ("former President Jimmy Carter's" -> "his"), as does "the" before a place or
    organisation. A person's pronoun follows the question's own (his -> he), else is drawn."""
    rng = random.Random(seed)
    made = []
    for q in questions:
        text = q["question"]
        parsed = parse_question(text)
        for x in (e for e in parsed.entities if e.label in LABELS):
            start, end = _with_title(parsed, text, x.start, x.end, x.label)
            if _modifies(parsed, text, x.end):
                continue
            kind = LABELS[x.label]
            form = pronoun_form(text, start, end, kind, rng, _own_gender(text))
            if form is None:
                continue
            a, b, pronoun = form
            followup = text[:a] + (pronoun[:1].upper() + pronoun[1:] if a == 0 else pronoun) + text[b:]
            name = x.text.rstrip("'’")
            made.append({**q, "x": name, "first": f"What is the latest news about {name}?", "followup": followup,
                         "pronoun": pronoun})
            break
    return made


def _with_title(parsed, text: str, start: int, end: int, label: str) -> tuple[int, int]:
    """The name with the capitalised title words before it (a person), or its "the"."""
    before = [t for t in parsed.tokens if t.start + len(t.text) <= start]
    if label == "PERSON":
        while before and (before[-1].tag == "NNP" and before[-1].text[:1].isupper()
                          or before[-1].text.lower() == "former"):
            start = before.pop().start
    elif before and before[-1].text.lower() == "the":
        start = before[-1].start
    return start, end


def _modifies(parsed, text: str, end: int) -> bool:
    """X is followed by a noun or adjective it modifies ("Delaware students", "US foods")."""
    after = [t for t in parsed.tokens if t.start >= end]
    if after and after[0].text in ("'s", "’s", "'", "’"):
        return False
    return bool(after) and after[0].tag in ("NN", "NNS", "NNP", "NNPS", "JJ", "CD")


def _own_gender(text: str) -> bool | None:
    low = f" {text.lower()} "
    if re.search(r"\b(his|him|he)\b", low):
        return True
    if re.search(r"\b(her|hers|she)\b", low):
        return False
    return None


def dev_questions() -> list[dict]:
    """Every news dev question with search results (not only those whose results state the
    answer: resolving a reference does not depend on it), its answers normalised."""
    import json

    rows = map(json.loads, (news.DATA / "questions.jsonl").read_text(encoding="utf-8").splitlines())
    return [{"id": q["id"], "question": q["question"], "date": q["date"],
             "answers": [normalize(a) for a in q["answer_text"] if normalize(a)]}
            for q in rows if q["split"] == "dev" and q["results"]]


def names(understood: str, x: str) -> bool:
    return normalize(x) in normalize(understood)


def _cites(answers: list[str], answer) -> bool:
    """An answer text (normalised) inside the cited extracts, as bench.news counts it."""
    return news._contains(answers, [c.quote for c in answer.citations])


def evaluate(engine: Engine, made: list[dict]) -> dict:
    resolved = full_right = follow_right = 0
    cpu_full, cpu_follow, rows = [], [], []
    for c in made:
        as_of = c["date"]
        started = time.process_time()
        full = engine.ask(c["question"], as_of=as_of)
        cpu_full.append(time.process_time() - started)
        first = engine.ask(c["first"], as_of=as_of)
        history = [Turn("user", c["first"]), Turn("assistant", first.answer, first)]
        started = time.process_time()
        follow = engine.ask(c["followup"], history=history, as_of=as_of)
        cpu_follow.append(time.process_time() - started)
        understood = follow.condensed_question or c["followup"]
        ok = names(understood, c["x"])
        resolved += ok
        full_right += _cites(c["answers"], full)
        follow_right += _cites(c["answers"], follow)
        rows.append((c["followup"], understood, ok))
    cpu_full.sort()
    cpu_follow.sort()
    return {"n": len(made), "resolved": resolved, "full": full_right, "follow": follow_right, "rows": rows,
            "cpu_full": cpu_full[len(cpu_full) // 2], "cpu_follow": cpu_follow[len(cpu_follow) // 2]}


def report(result: dict, limit: int | None) -> str:
    n = result["n"]
    parity = result["follow"] / result["full"] if result["full"] else 0.0
    command = "python -m bench.followups" + (f" --limit {limit}" if limit else "")
    lines = [f"# Follow-ups made from news dev ({time.strftime('%Y-%m-%d')})", "",
             f"Command: `{command}`. {n} conversations (\"What is the latest news about X?\", then the "
             "question with X replaced by a pronoun), each asked with as_of = the question's date.", "",
             "| measure | value |", "|---|---|",
             f"| resolved (the understood follow-up names X) | {result['resolved'] / n:.3f} "
             f"({result['resolved']}/{n}) |",
             f"| answer inside the cited extracts, questions asked in full | {result['full'] / n:.3f} "
             f"({result['full']}/{n}) |",
             f"| … the follow-ups | {result['follow'] / n:.3f} ({result['follow']}/{n}) |",
             f"| parity (follow-ups ÷ in full) | {parity:.3f} |",
             f"| CPU per question, median: in full / follow-up | {result['cpu_full'] * 1000:.0f} ms / "
             f"{result['cpu_follow'] * 1000:.0f} ms ({result['cpu_follow'] / max(1e-9, result['cpu_full']):.2f}x) |",
             "", "Unresolved, first 15:", ""]
    lines += [f"- {f!r} → {u!r}" for f, u, ok in result["rows"] if not ok][:15]
    return "\n".join(lines) + "\n"


def dialogues(engine: Engine, path: Path) -> str:
    """Each hand-written conversation's follow-ups: understood with their referent, answered."""
    import json

    lines, named_ok, cited_ok, n = [], 0, 0, 0
    for row in map(json.loads, path.read_text(encoding="utf-8").splitlines()):
        history: list[Turn] = []
        for i, turn in enumerate(row["turns"]):
            answer = engine.ask(turn["q"], history=history, as_of=row.get("as_of"))
            understood = answer.condensed_question or turn["q"]
            named = all(names(understood, x) for x in turn["names"])
            cited = _cites([normalize(e) for e in turn["expect"]], answer)
            if i:
                n, named_ok, cited_ok = n + 1, named_ok + named, cited_ok + cited
                lines.append(f"| {row['id']} | {turn['q']} | {understood} | {'yes' if named else 'no'} | "
                             f"{'yes' if cited else 'no'} |")
            history += [Turn("user", turn["q"]), Turn("assistant", answer.answer, answer)]
    head = [f"Follow-ups of `{path.name}`: {n}; understood with their referent {named_ok}; an expected "
            f"phrase cited {cited_ok}.", "", "| dialogue | follow-up | understood as | referent | cited |",
            "|---|---|---|---|---|"]
    return "\n".join(head + lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--work", type=Path, default=Path("/tmp/qa-news"))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--dialogues", type=Path, default=None, help="hand-written conversations (JSON lines)")
    parser.add_argument("--store", type=Path, default=None, help="the store --dialogues are asked of")
    args = parser.parse_args(argv)
    if args.dialogues:
        text = dialogues(Engine(Settings(store_dir=args.store or ROOT / "vectorstore")), args.dialogues)
        if args.out:
            args.out.write_text(text)
        print(text)
        return
    made = conversations(dev_questions())
    made = made[:args.limit] if args.limit else made
    engine = Engine(Settings(store_dir=args.work / "dev" / "store"))
    text = report(evaluate(engine, made), args.limit)
    out = args.out or (ROOT / "bench" / "results" / "followups.md" if not args.limit else None)
    if out:
        out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
