"""News the product may be tuned on (RealTimeQA 2023-2025, `../shared/bench/data/realtimeqa-news`):
its dev split (2025) by default, asked as a user would (no choices shown).

    .venv/bin/python -m bench.news                       # dev -> bench/results/news.md
    .venv/bin/python -m bench.news --limit 60 --out /tmp/news.md   # a slice, for trying a change
    QA_READER=none .venv/bin/python -m bench.news ...    # any setting, through the environment

Corpus: every article among the split's search results, in one store (built once under --work,
outside the repository: the data has no license). Measured, over the questions whose results
state the answer text word for word:
- the answer inside the cited extracts, and inside the first extract, asked against all the
  split's articles and against the question's own results (a document filter);
- abstention on pairs: the question against its own results (should answer) and against its
  results minus those that state the answer (same story, the fact gone: should abstain).
"""
from __future__ import annotations

import argparse
import gzip
import json
import tempfile
import time
from pathlib import Path

from bench.evaluate import normalize, wilson
from bench.heldout import write_corpus
from qa.engine import Engine
from qa.settings import Settings
from qa.types import Filters

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "bench" / "data" / "realtimeqa-news"


def load(split: str, limit: int | None = None) -> tuple[dict[str, tuple[str, str, str]], list[dict]]:
    """The split's questions whose results state an answer text, and every article of its results."""
    questions = [q for q in map(json.loads, (DATA / "questions.jsonl").read_text(encoding="utf-8").splitlines())
                 if q["split"] == split and q["results"]]
    wanted = {d for q in questions for d in q["results"]}
    articles = {}
    with gzip.open(DATA / "articles.jsonl.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            article = json.loads(line)
            if article["id"] in wanted:
                articles[article["id"]] = (article.get("title") or "", (article.get("date") or "").replace("-", "/"),
                                           article["text"])
    kept = []
    for q in questions:
        answers = [normalize(a) for a in q["answer_text"] if normalize(a)]
        results = [d for d in q["results"] if d in articles]
        stating = {d for d in results if any(a in normalize(articles[d][2]) for a in answers)}
        if answers and stating:
            kept.append({"id": q["id"], "question": q["question"], "answers": answers, "results": results,
                         "stating": stating})
    return articles, kept[:limit] if limit else kept


def _contains(answers: list[str], quotes: list[str]) -> bool:
    text = normalize(" ".join(quotes))
    return bool(text) and any(a in text for a in answers)


def evaluate(engine: Engine, questions: list[dict]) -> dict:
    counts = dict.fromkeys(("all_contained", "all_first", "own_contained", "own_first", "own_answered",
                            "removed_abstained", "pairs"), 0)
    seconds = []
    for q in questions:
        started = time.perf_counter()
        everywhere = engine.ask(q["question"])
        seconds.append(time.perf_counter() - started)
        own = engine.ask(q["question"], filters=Filters(doc_ids=tuple(q["results"])))
        for name, answer in (("all", everywhere), ("own", own)):
            quotes = [c.quote for c in answer.citations]
            counts[f"{name}_contained"] += _contains(q["answers"], quotes)
            counts[f"{name}_first"] += _contains(q["answers"], quotes[:1])
        counts["own_answered"] += not own.abstained
        rest = [d for d in q["results"] if d not in q["stating"]]
        if rest:  # the same story without the articles that state the fact
            counts["pairs"] += 1
            gone = engine.ask(q["question"], filters=Filters(doc_ids=tuple(rest)))
            counts["removed_abstained"] += gone.abstained
    seconds.sort()
    return {**counts, "questions": len(questions), "p50_s": seconds[len(seconds) // 2] if seconds else 0.0}


def sweep(engine: Engine, questions: list[dict]) -> str:
    """Abstention signals on the dev pairs, without re-asking per threshold: for each pair, the best
    sentence's reader probability and relevance with the question's own results and without the
    ones that state the answer. A table of precision/recall per threshold, to choose on dev."""
    rows = []
    for q in questions:
        rest = [d for d in q["results"] if d not in q["stating"]]
        if not rest:
            continue
        for label, docs in ((False, q["results"]), (True, rest)):  # True: should abstain
            ranked = engine.sentences(q["question"], filters=Filters(doc_ids=tuple(docs)))
            prob = max((s.answer_prob for s in ranked if s.answer_prob is not None), default=0.0)
            relevance = max((s.relevance for s in ranked), default=0.0)
            rows.append((label, prob, relevance))
    lines = ["| signal | threshold | abstains on (should) | abstains on (should not) | precision | recall |",
             "|---|---|---|---|---|---|"]
    should = sum(r[0] for r in rows)
    for name, column, grid in (("reader probability", 1, [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]),
                               ("best relevance", 2, [0.35, 0.4, 0.45, 0.5, 0.55, 0.6])):
        for t in grid:
            right = sum(1 for r in rows if r[0] and r[column] < t)
            wrong = sum(1 for r in rows if not r[0] and r[column] < t)
            precision = right / (right + wrong) if right + wrong else 0.0
            lines.append(f"| {name} | {t} | {right} | {wrong} | {precision:.3f} | {right / should:.3f} |")
    return "\n".join(lines) + "\n"


def report(split: str, result: dict, documents: int, chunks: int, settings: Settings, limit: int | None) -> str:
    def share(k: int, n: int) -> str:
        lo, hi = wilson(k, n)
        return f"{k / n:.3f} [{lo:.3f}, {hi:.3f}] ({k}/{n})" if n else "-"

    n, pairs = result["questions"], result["pairs"]
    abstained_right = result["removed_abstained"]
    abstained_wrong = n - result["own_answered"]
    precision = share(abstained_right, abstained_right + abstained_wrong)
    command = f"python -m bench.news --split {split}" + (f" --limit {limit}" if limit else "")
    return "\n".join([
        f"# News ({split}): RealTimeQA {'2025' if split == 'dev' else '2023-2024'}", "",
        f"Command: `{command}` on {time.strftime('%Y-%m-%d')}; reader `{settings.reader}` (weight "
        f"{settings.reader_weight}), abstain threshold {settings.abstain_threshold}.", "",
        f"Corpus: {documents} articles ({chunks} chunks), the split's search results, one store. {n} questions "
        "whose results state the answer text word for word, asked without their choices. 95% intervals (Wilson).", "",
        "| measure | value |", "|---|---|",
        f"| answer inside the cited extracts, all articles | {share(result['all_contained'], n)} |",
        f"| … inside the first extract | {share(result['all_first'], n)} |",
        f"| answer inside the cited extracts, the question's own results | {share(result['own_contained'], n)} |",
        f"| … inside the first extract | {share(result['own_first'], n)} |",
        f"| answered, own results (should answer) | {share(result['own_answered'], n)} |",
        f"| abstained, own results minus those stating the answer (should abstain): recall | "
        f"{share(abstained_right, pairs)} |",
        f"| abstention precision (right abstentions / all abstentions over both halves of the pairs) | {precision} |",
        f"| answer time p50, all articles | {result['p50_s'] * 1000:.0f} ms |", ""])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=["dev", "train"], default="dev")
    parser.add_argument("--limit", type=int, default=None, help="only the first N questions")
    parser.add_argument("--out", type=Path, default=None, help="default: bench/results/news.md (full dev runs)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "qa-news")
    parser.add_argument("--sweep", action="store_true", help="only the abstention signals per threshold")
    args = parser.parse_args(argv)
    articles, questions = load(args.split, args.limit)
    folder = args.work / args.split
    if not (folder / "corpus").exists():
        write_corpus(articles, folder / "corpus")
    settings = Settings(store_dir=folder / "store")
    engine = Engine(settings)
    ingested = engine.ingest([folder / "corpus"])
    if args.sweep:
        print(sweep(engine, questions))
        return
    text = report(args.split, evaluate(engine, questions), ingested.documents, ingested.chunks, settings, args.limit)
    out = args.out or (ROOT / "bench" / "results" / "news.md" if args.split == "dev" and not args.limit else None)
    if out:
        out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
