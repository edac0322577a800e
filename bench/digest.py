"""What happened this week? (issue 44): for each news dev quiz week, the digest asked as of the
quiz's date, over the store bench.news builds (every dev article; opened read-only, never built here).

    .venv/bin/python -m bench.digest                      # -> bench/results/digest.md
    .venv/bin/python -m bench.digest --limit 10 --out /tmp/digest.md

Measured per week: a digest of at least 3 stories, every cited document dated in the window
the answer says it read ("this week" as of the quiz date), how many stories; the share of the
week's quiz answers (every dev question with an answer text, whatever its results state) found
in the digest's quotes (no target: a digest is not a quiz); and the cost, against an ordinary
answer to the week's first quiz question asked as of the same date. Every citation is checked
with the engine's verify.
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from bench.evaluate import normalize, wilson
from qa.engine import Engine
from qa.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "bench" / "data" / "realtimeqa-news"
QUESTION = "What happened this week?"


def weeks(limit: int | None) -> list[tuple[str, list[dict]]]:
    """The dev quiz weeks (the data's `week`), each as of its latest quiz date, with their questions."""
    by_week: dict[str, list[dict]] = {}
    for line in (DATA / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        if q["split"] == "dev" and q["date"]:
            by_week.setdefault(q["week"], []).append(q)
    ordered = sorted(((max(q["date"] for q in qs), qs) for qs in by_week.values()), key=lambda w: w[0])
    return ordered[:limit] if limit else ordered


def run(engine: Engine, quiz_weeks: list[tuple[str, list[dict]]]) -> tuple[list[dict], list[float], list[float]]:
    rows, digest_s, answer_s = [], [], []
    engine.ask(quiz_weeks[0][1][0]["question"], as_of=quiz_weeks[0][0])  # models loaded before timing
    for day, questions in quiz_weeks:
        started = time.perf_counter()
        digest = engine.ask(QUESTION, as_of=day)
        digest_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        engine.ask(questions[0]["question"], as_of=day)
        answer_s.append(time.perf_counter() - started)
        window = digest.time or {}
        in_window = all(c.date and window.get("from", "") <= c.date <= window.get("to", "") for c in digest.citations)
        verified, _ = engine.verifier.verify(digest.to_json())
        quotes = normalize(" ".join(c.quote for c in digest.citations))
        answers = [[normalize(a) for a in q["answer_text"] if normalize(a)] for q in questions]
        answers = [a for a in answers if a]
        found = sum(any(a in quotes for a in alts) for alts in answers)
        rows.append({"date": day, "stories": len(digest.citations), "in_window": in_window and bool(digest.citations),
                     "verified": verified, "abstained": digest.abstained, "answers": len(answers), "found": found,
                     "window": f"{window.get('from')}..{window.get('to')}"})
        print(json.dumps(rows[-1]), flush=True)
    return rows, digest_s, answer_s


def report(rows: list[dict], digest_s: list[float], answer_s: list[float], documents: int, limit: int | None) -> str:
    n = len(rows)

    def share(k: int, total: int) -> str:
        lo, hi = wilson(k, total)
        return f"{k / total:.3f} [{lo:.3f}, {hi:.3f}] ({k}/{total})" if total else "-"

    good = sum(r["stories"] >= 3 and r["in_window"] for r in rows)
    answers, found = sum(r["answers"] for r in rows), sum(r["found"] for r in rows)
    command = "python -m bench.digest" + (f" --limit {limit}" if limit else "")
    d50, a50 = statistics.median(digest_s), statistics.median(answer_s)
    return "\n".join([
        "# What happened this week? (news dev, RealTimeQA 2025)", "",
        f"Command: `{command}` on {time.strftime('%Y-%m-%d')}. Store: bench.news's dev store ({documents} "
        f"articles). For each of the {n} dev quiz weeks, “{QUESTION}” as of the week's latest quiz date. "
        "95% intervals (Wilson).", "",
        "| measure | value |", "|---|---|",
        f"| weeks with a digest of ≥ 3 stories, every cited document dated in the week (target ≥ 0.90) | "
        f"{share(good, n)} |",
        f"| weeks with a digest at all | {share(sum(not r['abstained'] for r in rows), n)} |",
        f"| every citation verifies | {share(sum(r['verified'] for r in rows), n)} |",
        f"| stories per digest, median (max 8) | {statistics.median(r['stories'] for r in rows):g} |",
        f"| the week's quiz answers inside the digest's quotes (no target) | {share(found, answers)} |",
        f"| digest time p50 / an answer's p50, same date | {d50 * 1000:.0f} ms / {a50 * 1000:.0f} ms "
        f"({d50 / a50:.2f}×; target under 2×) |", "",
        "| quiz date | window | stories | all in window | answers found |", "|---|---|---|---|---|",
        *[f"| {r['date']} | {r['window']} | {r['stories']} | {'yes' if r['in_window'] else 'no'} | "
          f"{r['found']}/{r['answers']} |" for r in rows], ""])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None, help="only the first N weeks")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "qa-news")
    parser.add_argument("--out", type=Path, default=None, help="default: bench/results/digest.md (full runs)")
    args = parser.parse_args(argv)
    engine = Engine(Settings(store_dir=args.work / "dev" / "store"))
    rows, digest_s, answer_s = run(engine, weeks(args.limit))
    text = report(rows, digest_s, answer_s, engine.stats()["documents"], args.limit)
    out = args.out or (ROOT / "bench" / "results" / "digest.md" if args.limit is None else None)
    if out:
        out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
