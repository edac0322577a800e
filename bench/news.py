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
import math
import re
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
                         "stating": stating, "date": q["date"]})
    return articles, kept[:limit] if limit else kept


def _contains(answers: list[str], quotes: list[str]) -> bool:
    text = normalize(" ".join(quotes))
    return bool(text) and any(a in text for a in answers)


def question_kind(question: str) -> str:
    """The question word, as the funnel groups questions (the same in every version of the code)."""
    low = question.lower()
    for kind, pattern in (("how many/much/long", r"\bhow (many|much|long|old|far)\b"), ("why", r"\bwhy\b"),
                          ("who", r"\b(who|whom|whose)\b"), ("when", r"\b(when|what year|what date)\b"),
                          ("where", r"\bwhere\b"), ("which/what X", r"\b(which|what) [a-z]+\b(?<!what is)"),
                          ("how", r"\bhow\b"), ("what", r"\bwhat\b")):
        if re.search(pattern, low):
            return kind
    return "other"


def _funnel(engine: Engine, q: dict, answer) -> dict:
    """Where a question is lost: the stating document among the passages read, a stating sentence
    among the reader's candidates, the answer inside the cited extracts, inside the first."""
    candidates = engine.sentences(q["question"])[:engine.settings.reader.reader_sentences]
    return {"funnel_retrieved": any(p.doc_id in q["stating"] for p in answer.passages),
            "funnel_candidate": any(_contains(q["answers"], [s.text]) for s in candidates)}


def evaluate(engine: Engine, questions: list[dict], funnel: bool = False) -> dict:
    """Totals, and each question's outcomes (kept for paired comparisons between two runs)."""
    outcomes, seconds = {}, []
    for q in questions:
        started = time.perf_counter()
        everywhere = engine.ask(q["question"])
        seconds.append(time.perf_counter() - started)
        own = engine.ask(q["question"], filters=Filters(doc_ids=tuple(q["results"])))
        row = {"own_answered": not own.abstained, "kind": question_kind(q["question"]),
               "stating_first": bool(everywhere.citations) and everywhere.citations[0].doc_id in q["stating"]}
        if funnel:
            row.update(_funnel(engine, q, everywhere))
        for name, answer in (("all", everywhere), ("own", own)):
            quotes = [c.quote for c in answer.citations]
            row[f"{name}_contained"] = _contains(q["answers"], quotes)
            row[f"{name}_first"] = _contains(q["answers"], quotes[:1])
        rest = [d for d in q["results"] if d not in q["stating"]]
        if rest:  # the same story without the articles that state the fact
            row["removed_abstained"] = engine.ask(q["question"], filters=Filters(doc_ids=tuple(rest))).abstained
        outcomes[q["id"]] = row
    counts = {name: sum(bool(r.get(name)) for r in outcomes.values()) for name in OUTCOMES}
    counts["pairs"] = sum("removed_abstained" in r for r in outcomes.values())
    seconds.sort()
    return {**counts, "questions": len(questions), "outcomes": outcomes,
            "p50_s": seconds[len(seconds) // 2] if seconds else 0.0}


def funnel_table(outcomes: dict) -> str:
    """Per question kind, all articles: how many questions reach each stage."""
    lines = ["| kind | questions | stating document read | stating sentence among the reader's candidates | "
             "answer in the cited extracts | in the first extract |", "|---|---|---|---|---|---|"]
    kinds = sorted({r["kind"] for r in outcomes.values()},
                   key=lambda k: -sum(r["kind"] == k for r in outcomes.values()))
    for kind in kinds + ["all"]:
        rows = [r for r in outcomes.values() if kind == "all" or r["kind"] == kind]
        n = len(rows)
        cells = [f"{sum(bool(r.get(k)) for r in rows)} ({sum(bool(r.get(k)) for r in rows) / n:.2f})"
                 for k in ("funnel_retrieved", "funnel_candidate", "all_contained", "all_first")]
        lines.append(f"| {kind} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


OUTCOMES = ("all_contained", "all_first", "stating_first", "own_contained", "own_first", "own_answered",
            "removed_abstained")


def paired(now: dict, before: dict, names: tuple[str, ...] = OUTCOMES) -> str:
    """Each outcome's change against an earlier run of the same questions (`--save` of that run):
    the difference of the two shares with a 95% interval for paired proportions (Wald on the
    per-question differences), so a change is claimed only when its interval excludes zero."""
    lines = ["| measure | before | now | change [95% interval] |", "|---|---|---|---|"]
    for name in names:
        common = [i for i in now if i in before and name in now[i] and name in before[i]]
        if not common:
            continue
        n = len(common)
        gained = sum(1 for i in common if now[i][name] and not before[i][name])
        lost = sum(1 for i in common if before[i][name] and not now[i][name])
        change = (gained - lost) / n
        half = 1.96 * math.sqrt(max(0.0, (gained + lost) / n - change * change) / n)
        was = sum(bool(before[i][name]) for i in common) / n
        lines.append(f"| {name} | {was:.3f} | {was + change:.3f} | {change:+.3f} [{change - half:+.3f}, "
                     f"{change + half:+.3f}] (+{gained} −{lost} of {n}) |")
    return "\n".join(lines) + "\n"


def sweep(engine: Engine, questions: list[dict]) -> str:
    """Choosing on dev without re-asking per setting. Each question's candidate sentences are
    scored once (relevance order; the reader's probability on the most relevant READ_DEPTHS[-1])
    and then replayed: (1) which sentence comes first for each reader weight and reading depth,
    and whether it holds the answer; (2) abstention on the pairs, by the best sentence's reader
    probability or relevance, with the question's own results and without those stating the answer."""
    from qa.answering.extractive import has_expected
    from qa.text.questions import understand

    replay, pairs = [], []
    for q in questions:
        ranked = engine.sentences(q["question"])
        replay.append([(s.relevance, s.answer_prob, _contains(q["answers"], [s.text])) for s in ranked])
        rest = [d for d in q["results"] if d not in q["stating"]]
        if not rest:
            continue
        question = understand(q["question"], q["question"], None)
        for label, docs in ((False, q["results"]), (True, rest)):  # True: should abstain
            ranked = engine.sentences(q["question"], filters=Filters(doc_ids=tuple(docs)))
            prob = max((s.answer_prob for s in ranked if s.answer_prob is not None), default=0.0)
            relevance = max((s.relevance for s in ranked), default=0.0)
            # typed questions: the best reader probability among candidates holding the asked-for type
            typed = max((s.answer_prob or 0.0 for s in ranked[:engine.settings.answer.typed_sentences]
                         if has_expected(question, s.text)), default=0.0) if question.expects else prob
            pairs.append((label, prob, relevance, typed))
    return _first_sentence_table(replay) + "\n" + _abstention_table(pairs)


def sweep_types(engine: Engine, questions: list[dict]) -> str:
    """Choosing the answer-type weight on dev without re-asking per value: each question's
    candidates are scored once (types not weighed), each of the best `typed_sentences` is marked
    with whether it holds an entity of the expected type, and the first sentence is replayed per
    weight."""
    from qa.answering.extractive import has_expected
    from qa.text.questions import understand

    replay = []
    depth = engine.settings.answer.typed_sentences
    for q in questions:
        question = understand(q["question"], q["question"], None)
        ranked = engine.sentences(q["question"])
        replay.append([(s.score, i >= depth or has_expected(question, s.text), _contains(q["answers"], [s.text]))
                       for i, s in enumerate(ranked)])
    lines = ["| type weight | first sentence holds the answer |", "|---|---|"]
    for weight in (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.2):
        right = sum(max(c, key=lambda x: x[0] * (1.0 if x[1] else weight))[2] for c in replay if c)
        lines.append(f"| {weight} | {right / len(replay):.3f} ({right}/{len(replay)}) |")
    return "\n".join(lines) + "\n"


def sweep_span(engine: Engine, questions: list[dict]) -> str:
    """Choosing how many of the best sentences the span reader checks, and its weight, by replay:
    each question's sentences are scored once without the check, the span reader reads the best 8
    (questions that ask for a thing), and the first is replayed per depth and weight (`--sweep-span`)."""
    from qa.answering.span import SpanReader, asks_for_a_thing

    spans, replay = SpanReader(), []
    unchecked = Engine(engine.settings.updated(span_check_sentences=0), engine.embedder)
    for q in questions:
        ranked = unchecked.sentences(q["question"])
        best = ranked[:8] if ranked and ranked[0].answer_prob is not None and asks_for_a_thing(q["question"]) else []
        chances = spans.holds_answer(q["question"], [s.text for s in best]) if best else []
        replay.append([(s.score, c, _contains(q["answers"], [s.text])) for s, c in zip(best, chances)]
                      or [(0.0, 0.0, bool(ranked) and _contains(q["answers"], [ranked[0].text]))])
    lines = ["| sentences checked | weight | first sentence holds the answer |", "|---|---|---|"]
    for depth in (1, 2, 4, 8):
        for weight in (0.1, 0.2, 0.3, 0.4, 0.5):
            right = sum(max(c[:depth], key=lambda x: x[0] + weight * x[1])[2] for c in replay)
            lines.append(f"| {depth} | {weight} | {right / len(replay):.3f} ({right}/{len(replay)}) |")
    return "\n".join(lines) + "\n"


READ_DEPTHS = (8, 16, 24)
WEIGHTS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)


def _first_sentence_table(replay: list[list[tuple[float, float | None, bool]]]) -> str:
    lines = ["| reader weight | sentences read | first sentence holds the answer |", "|---|---|---|"]
    for depth in READ_DEPTHS:
        for weight in WEIGHTS:
            right = 0
            for candidates in replay:
                read = [c for c in candidates[:depth] if c[1] is not None]
                if not read:
                    right += bool(candidates) and candidates[0][2]
                    continue
                best = max(read, key=lambda c: weight * c[1] + (1 - weight) * c[0])
                right += best[2]
            lines.append(f"| {weight} | {depth} | {right / len(replay):.3f} ({right}/{len(replay)}) |")
    return "\n".join(lines) + "\n"


def _abstention_table(rows: list[tuple[bool, float, float, float]]) -> str:
    lines = ["| signal | threshold | abstains on (should) | abstains on (should not) | precision | recall |",
             "|---|---|---|---|---|---|"]
    should = sum(r[0] for r in rows)
    for name, column, grid in (("reader probability", 1, [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]),
                               ("best relevance", 2, [0.35, 0.4, 0.45, 0.5, 0.55, 0.6]),
                               ("reader probability of a sentence of the asked-for type", 3,
                                [0.0001, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5])):
        for t in grid:
            right = sum(1 for r in rows if r[0] and r[column] < t)
            wrong = sum(1 for r in rows if not r[0] and r[column] < t)
            precision = right / (right + wrong) if right + wrong else 0.0
            lines.append(f"| {name} | {t} | {right} | {wrong} | {precision:.3f} | {right / max(1, should):.3f} |")
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
        f"Command: `{command}` on {time.strftime('%Y-%m-%d')}; reader `{settings.reader.reader}` (weight "
        f"{settings.reader.reader_weight}), abstain threshold {settings.answer.abstain_threshold}.", "",
        f"Corpus: {documents} articles ({chunks} chunks), the split's search results, one store. {n} questions "
        "whose results state the answer text word for word, asked without their choices. 95% intervals (Wilson).", "",
        "| measure | value |", "|---|---|",
        f"| answer inside the cited extracts, all articles | {share(result['all_contained'], n)} |",
        f"| … inside the first extract | {share(result['all_first'], n)} |",
        f"| answer inside the cited extracts, the question's own results | {share(result['own_contained'], n)} |",
        f"| … inside the first extract | {share(result['own_first'], n)} |",
        f"| a cited article states the answer, first citation, all articles | {share(result['stating_first'], n)} |",
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
    parser.add_argument("--sweep-types", action="store_true", help="only the answer-type weight, replayed")
    parser.add_argument("--sweep-span", action="store_true", help="only the span check's depth and weight, replayed")
    parser.add_argument("--save", type=Path, default=None, help="each question's outcomes, as JSON")
    parser.add_argument("--funnel", action="store_true", help="also where each question is lost, per question kind")
    parser.add_argument("--against", type=Path, default=None,
                        help="an earlier run's --save file: adds paired changes against it")
    args = parser.parse_args(argv)
    articles, questions = load(args.split, args.limit)
    folder = args.work / args.split
    if not (folder / "corpus").exists():
        write_corpus(articles, folder / "corpus")
    settings = Settings(store_dir=folder / "store")
    engine = Engine(settings)
    ingested = engine.ingest([folder / "corpus"])
    if args.sweep_types or args.sweep_span:
        text = (sweep_types if args.sweep_types else sweep_span)(engine, questions)
        if args.out:
            args.out.write_text(text)
        print(text)
        return
    if args.sweep:  # the reader reads the deepest candidate list, its weight left to the replay
        engine = Engine(settings.updated(**{"reader_weight": 0.0, "reader_sentences": READ_DEPTHS[-1]}))
        text = sweep(engine, questions)
        if args.out:
            args.out.write_text(text)
        print(text)
        return
    result = evaluate(engine, questions, args.funnel)
    text = report(args.split, result, ingested.documents, ingested.chunks, settings, args.limit)
    if args.funnel:
        text += "\nWhere questions are lost (all articles), by question word:\n\n" + funnel_table(result["outcomes"])
    if args.save:
        args.save.write_text(json.dumps(result["outcomes"], indent=0))
    if args.against:
        before = json.loads(args.against.read_text(encoding="utf-8"))
        text += (f"\nPaired against `{args.against.name}` (same questions, same store):\n\n"
                 + paired(result["outcomes"], before))
    out = args.out or (ROOT / "bench" / "results" / "news.md" if args.split == "dev" and not args.limit else None)
    if out:
        out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
