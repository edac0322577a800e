"""One story, told once (issue 34): near-duplicate clusters among the 19,232 news articles of
RealTimeQA 2023-2025, their precision read by hand on 50 sampled pairs, and what finding them
costs an ingest.

    .venv/bin/python -m bench.duplicates clusters     # -> /tmp/duplicate-pairs.json (50 pairs to read)
    .venv/bin/python -m bench.duplicates cost         # ingest of 400 articles with and without, same run
    .venv/bin/python -m bench.duplicates report       # + bench/duplicates_judged.json -> bench/results/duplicates.md

Clusters come from the product's own code (qa.ingest.stories: word 5-gram MinHash, datasketch LSH,
the shipped duplicate_similarity), run over the articles in date order as an ingest would. The
hand verdicts (bench/duplicates_judged.json) name the pair by article ids only: the texts are not
copied into the repository.
"""
from __future__ import annotations

import gzip
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from qa.ingest.stories import assign_stories, signature
from qa.store.base import StoryRow
from qa.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "bench" / "data" / "realtimeqa-news" / "articles.jsonl.gz"
PAIRS = Path("/tmp/duplicate-pairs.json")
JUDGED = ROOT / "bench" / "duplicates_judged.json"
COST = Path("/tmp/duplicate-cost.json")
SAMPLE, SEED = 50, 34


def articles() -> list[dict]:
    with gzip.open(DATA, "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    return sorted(rows, key=lambda a: (a.get("date") or "", a["id"]))


def clusters() -> None:
    rows = articles()
    started = time.perf_counter()
    signed = [StoryRow(a["id"], a["id"], signature(a["text"]), a.get("title") or "", a.get("date")) for a in rows]
    signing = time.perf_counter() - started
    started = time.perf_counter()
    assigned = assign_stories([], signed, Settings().ingest.duplicate_similarity)
    matching = time.perf_counter() - started
    stories: dict[str, list[str]] = {}
    for row, _ in assigned:
        stories.setdefault(row.story, []).append(row.doc_id)
    multi = {s: m for s, m in stories.items() if len(m) > 1}
    pairs = [(row.doc_id, copied) for row, copied in assigned if copied]
    sample = random.Random(SEED).sample(pairs, min(SAMPLE, len(pairs)))
    by_id = {a["id"]: a for a in rows}

    def brief(doc_id: str) -> dict:
        a = by_id[doc_id]
        return {"id": doc_id, "date": a.get("date"), "title": a.get("title"), "url": a.get("url"),
                "start": " ".join(a["text"].split())[:300]}

    PAIRS.write_text(json.dumps({
        "articles": len(rows), "stories_with_copies": len(multi), "articles_in_them": sum(len(m) for m in multi.values()),
        "largest": max((len(m) for m in multi.values()), default=0), "pairs": len(pairs),
        "signing_s": round(signing, 1), "matching_s": round(matching, 1),
        "sample": [{"copy": brief(a), "of": brief(b)} for a, b in sample]}, indent=1))
    print(f"{len(multi)} stories with copies ({sum(len(m) for m in multi.values())} articles) among {len(rows)}; "
          f"signatures {signing:.1f} s, LSH {matching:.1f} s -> {PAIRS}")


def cost(n: int = 400) -> None:
    """The same articles ingested twice into fresh stores, stories on and off, alternating (3 rounds)."""
    from bench.heldout import write_corpus
    from qa.engine import Engine
    from qa.ingest.ingestor import Ingestor

    rows = articles()[-n:]
    work = Path(tempfile.mkdtemp(prefix="qa-dup-cost-"))
    write_corpus({a["id"]: (a.get("title") or "", (a.get("date") or "").replace("-", "/"), a["text"]) for a in rows},
                 work / "corpus")
    seconds: dict[str, list[float]] = {"with": [], "without": [], "stories": []}
    finding = Ingestor._find_stories

    def timed(self, *args):  # the stories step's own time, inside the same ingest
        started = time.perf_counter()
        finding(self, *args)
        seconds["stories"].append(time.perf_counter() - started)

    Ingestor._find_stories = timed
    for _ in range(3):
        for label, fold in (("with", True), ("without", False)):
            store = work / f"store-{label}"
            shutil.rmtree(store, ignore_errors=True)
            engine = Engine(Settings(store_dir=store, fold_duplicates=fold))
            started = time.perf_counter()
            engine.ingest([work / "corpus"])
            seconds[label].append(time.perf_counter() - started)
            print(label, round(seconds[label][-1], 1), flush=True)
    Ingestor._find_stories = finding
    shutil.rmtree(work, ignore_errors=True)
    seconds["stories"] = [s for s in seconds["stories"] if s > 0.01]  # the runs with folding on
    COST.write_text(json.dumps({"articles": n, **seconds}))


def report() -> None:
    data = json.loads(PAIRS.read_text())
    judged = json.loads(JUDGED.read_text())
    verdicts = judged["pairs"]
    same = sum(v["same_story"] for v in verdicts)
    spent = json.loads(COST.read_text()) if COST.exists() else None
    median = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    lines = [
        "# One story, told once: near-duplicate articles", "",
        "`python -m bench.duplicates clusters`, `cost`, `report` (qa.ingest.stories: word 5-grams, 64-permutation "
        f"MinHash, datasketch LSH, duplicate_similarity {Settings().ingest.duplicate_similarity}).", "",
        f"- Articles: {data['articles']:,} (RealTimeQA 2023-2025, train and dev), in date order as an ingest reads them.",
        f"- Stories with more than one article: **{data['stories_with_copies']:,}**, holding {data['articles_in_them']:,} "
        f"articles ({data['pairs']:,} folded into another); the largest has {data['largest']}.",
        f"- Finding them: signatures {data['signing_s']} s, LSH matching {data['matching_s']} s for all "
        f"{data['articles']:,} (one core).",
        f"- Precision, {len(verdicts)} pairs (copy, the article it was matched to) sampled at random (seed {SEED}) "
        f"and read by hand: **{same}/{len(verdicts)}** are the same story. {judged.get('note', '')}"]
    if spent:
        w, wo = median(spent["with"]), median(spent["without"])
        step = median(spent["stories"])
        lines.append(f"- Ingest of {spent['articles']} articles into a fresh store (real model), 3 alternating rounds, "
                     f"median: {w:.1f} s with stories, {wo:.1f} s without ({(w / wo - 1) * 100:+.1f}%; runs: with "
                     f"{', '.join(f'{x:.1f}' for x in spent['with'])}; without "
                     f"{', '.join(f'{x:.1f}' for x in spent['without'])}: the machine's noise is larger than the "
                     f"step). The stories step itself, timed inside the same ingests: median {step:.2f} s, "
                     f"**{step / w * 100:.1f}%** of the ingest.")
    lines += ["", "| copy | matched to | same story | why |", "|---|---|---|---|"]
    for v in verdicts:
        lines.append(f"| {v['copy']} | {v['of']} | {'yes' if v['same_story'] else 'no'} | {v['why']} |")
    out = ROOT / "bench" / "results" / "duplicates.md"
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines[:10]))


if __name__ == "__main__":
    {"clusters": clusters, "cost": cost, "report": report}[sys.argv[1]]()
