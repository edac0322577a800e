"""Do two versions of the code give the same answers? Every turn of our seed questions (dialogues
with their real history) and the news dev questions, each answer's JSON kept byte for byte.

    .venv/bin/python -m bench.same_answers --save /tmp/before.jsonl     # on the old code
    .venv/bin/python -m bench.same_answers --against /tmp/before.jsonl  # on the new code

The first run of a version writes one line per answer; --against prints how many differ and the
first differences, and exits 1 when any does. News dev uses the store `bench.news` builds (under
--work); `as_of` is fixed so that "today" cannot change an answer between the two runs.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from bench import news, seed_questions
from bench.heldout import write_corpus
from qa.engine import Engine
from qa.settings import Settings
from qa.types import Turn

AS_OF = "2026-01-01"


def seed_answers(store: Path) -> list[tuple[str, dict]]:
    engine = Engine(Settings(store_dir=store))
    engine.ingest([engine.settings.store.seeds_dir])
    out = []
    for item in seed_questions.load_items():
        history: list[Turn] = []
        for n, turn in enumerate(item["turns"]):
            answer = engine.ask(turn["q"], history, as_of=AS_OF)
            out.append((f"seed {item['id']} turn {n + 1}", answer.to_json()))
            history += [Turn("user", turn["q"]), Turn("assistant", answer.answer, answer)]
    return out


def news_answers(work: Path, limit: int | None) -> list[tuple[str, dict]]:
    articles, questions = news.load("dev", limit)
    folder = work / "dev"
    if not (folder / "corpus").exists():
        write_corpus(articles, folder / "corpus")
    engine = Engine(Settings(store_dir=folder / "store"))
    engine.ingest([folder / "corpus"])
    return [(f"news {q['id']}", engine.ask(q["question"], as_of=AS_OF).to_json()) for q in questions]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--save", type=Path, help="write this version's answers here")
    parser.add_argument("--against", type=Path, help="compare with answers saved by another version")
    parser.add_argument("--limit", type=int, default=None, help="only the first N news dev questions")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "qa-news")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="qa-same-") as scratch:
        answers = seed_answers(Path(scratch) / "store") + news_answers(args.work, args.limit)
    lines = [json.dumps({"id": key, "answer": answer}, ensure_ascii=False, sort_keys=True) for key, answer in answers]
    if args.save:
        args.save.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"{len(lines)} answers written to {args.save}")
    if args.against:
        before = dict(_keyed(args.against.read_text(encoding="utf-8").splitlines()))
        now = dict(_keyed(lines))
        differ = [k for k in now if before.get(k) != _as_before(now[k], before.get(k))]
        added = sorted({f for k in now if k in before for f in json.loads(now[k])["answer"]}
                       - {f for line in before.values() for f in json.loads(line)["answer"]})
        print(f"{len(now) - len(differ)} of {len(now)} answers byte-identical to {args.against.name}; "
              f"{len(differ)} differ" + (f": {', '.join(differ[:10])}" if differ else "")
              + (f" (fields added since, not compared: {', '.join(added)})" if added else ""))
        sys.exit(1 if differ or set(before) != set(now) else 0)


def _as_before(line: str, before: str | None) -> str:
    """This version's answer without the fields the saved version did not have: a field added to
    the result is an addition to the JSON contract, not a changed answer."""
    if before is None:
        return line
    record, known = json.loads(line), json.loads(before)["answer"]
    record["answer"] = {k: v for k, v in record["answer"].items() if k in known}
    return json.dumps(record, ensure_ascii=False, sort_keys=True)


def _keyed(lines):
    for line in lines:
        if line.strip():
            yield json.loads(line)["id"], line


if __name__ == "__main__":
    main()
