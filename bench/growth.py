"""Stable under growth (issue 44, item 1): the same questions asked over their own documents, then
again after mixing in N unrelated news articles, as a metamorphic test. An answer must not move
because documents that do not answer it were added.

    .venv/bin/python -m bench.growth --build 500 5000        # the stores, once, under --work
    .venv/bin/python -m bench.growth --n 500 5000            # -> bench/results/growth.md

Unrelated articles: RealTimeQA's train split (`../shared/bench/data/realtimeqa-news`), articles
dated 2023-2024 and none among the dev questions' search results, in a fixed order (by a hash of
their id), so that the first 50 are among the first 500 and those among the first 5,000. They are
written as text files under --work (never into the repository: the data has no license).

Measured, each against its own documents alone:
- the seed questions and dialogues (bench/seedqa/questions.jsonl, and the conversations about the
  seeds in bench/seedqa/followups.jsonl, with their real history) over seeds/ and over seeds/ + N
  articles: first citation (document and sentence) and abstention;
- the news dev questions (bench.news) over the dev articles and over the dev articles + N: first
  citation, and the answer text inside the cited extracts (target: falls by at most 0.01).
Each changed first citation is given with why: the new first extract is from an added article
(it outranked the old one), or from the same documents (the relevance of the old one moved).
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import shutil
import tempfile
import time
from pathlib import Path

from bench import news, seed_questions
from bench.heldout import write_corpus
from qa.engine import Engine
from qa.settings import Settings
from qa.types import Turn

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
WORK = Path(tempfile.gettempdir()) / "qa-growth"
SEED_PREFIXES = tuple(p.stem for p in SEEDS.glob("*.txt"))
NEWS_DEV = Path(tempfile.gettempdir()) / "qa-news" / "dev"  # bench.news's dev store and corpus


def unrelated(n: int) -> dict[str, tuple[str, str, str]]:
    """The first n train-split articles dated 2023-2024 that no dev question found, in a fixed
    order (sha1 of the id): each smaller set is the start of a larger one."""
    dev_results = {d for q in map(json.loads, (news.DATA / "questions.jsonl").read_text(encoding="utf-8").splitlines())
                   if q["split"] == "dev" for d in q["results"]}
    picked: list[tuple[str, str, tuple[str, str, str]]] = []
    with gzip.open(news.DATA / "articles.jsonl.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            article = json.loads(line)
            day = article.get("date") or ""
            if day[:4] in ("2023", "2024") and article["id"] not in dev_results:
                key = hashlib.sha1(article["id"].encode()).hexdigest()
                picked.append((key, article["id"], (article.get("title") or "", day.replace("-", "/"),
                                                    article["text"])))
    picked.sort()
    if len(picked) < n:
        raise SystemExit(f"only {len(picked)} unrelated articles, not {n}")
    return {doc_id: value for _, doc_id, value in picked[:n]}


def unrelated_folder(n: int, work: Path = WORK) -> Path:
    """The first n unrelated articles as text files (written once)."""
    folder = work / f"unrelated{n}"
    if not folder.exists() or len(list(folder.iterdir())) != n:
        shutil.rmtree(folder, ignore_errors=True)
        write_corpus(unrelated(n), folder)
    return folder


def seed_store(n: int, work: Path = WORK) -> Engine:
    """seeds/ alone (n = 0) or with the first n unrelated articles, in a store under `work`."""
    engine = Engine(Settings(store_dir=work / f"seeds+{n}" / "store"))
    engine.ingest([SEEDS] + ([unrelated_folder(n, work)] if n else []))
    return engine


def dev_store(n: int, work: Path = WORK) -> Engine:
    """The news dev articles alone (bench.news's store, opened read-only) or with the first n
    unrelated articles: a copy of that store to which they are added (only they are embedded)."""
    if n == 0:
        return Engine(Settings(store_dir=NEWS_DEV / "store"))
    store = work / f"dev+{n}" / "store"
    if not store.exists():
        shutil.copytree(NEWS_DEV / "store", store)
    engine = Engine(Settings(store_dir=store))
    engine.ingest([NEWS_DEV / "corpus", unrelated_folder(n, work)])
    return engine


def first(answer) -> dict:
    """What a metamorphic comparison looks at: abstention, and the first citation's sentence."""
    if answer.abstained or not answer.citations:
        return {"abstained": True}
    c = answer.citations[0]
    return {"abstained": False, "doc_id": c.doc_id, "start": c.start, "end": c.end, "quote": c.quote}


FOLLOWUPS = ROOT / "bench" / "seedqa" / "followups.jsonl"


def seed_items() -> list[dict]:
    """The seed questions and dialogues, and the hand-written follow-up conversations about the seeds."""
    written = [json.loads(line) for line in FOLLOWUPS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return seed_questions.load_items() + [c for c in written if c.get("source") == "seeds"]


def seed_firsts(engine: Engine, items: list[dict] | None = None) -> dict[str, dict]:
    """Every seed turn's first citation (`items`: all of `seed_items`), each follow-up asked after the
    product's own earlier answers."""
    out = {}
    for item in seed_items() if items is None else items:
        history: list[Turn] = []
        for n, turn in enumerate(item["turns"]):
            answer = engine.ask(turn["q"], history, as_of=item.get("as_of"))
            out[f"{item['id']}.{n + 1}"] = {**first(answer), "q": turn["q"],
                                            "right": seed_questions.turn_right(answer, turn["expect"])}
            history += [Turn("user", turn["q"]), Turn("assistant", answer.answer, answer)]
    return out


def news_firsts(engine: Engine, questions: list[dict]) -> dict[str, dict]:
    out = {}
    for q in questions:
        answer = engine.ask(q["question"])
        quotes = [c.quote for c in answer.citations]
        out[q["id"]] = {**first(answer), "q": q["question"], "contained": news._contains(q["answers"], quotes),
                        "first_contained": news._contains(q["answers"], quotes[:1])}
    return out


def same_first(b: dict, a: dict) -> bool:
    if b["abstained"] or a["abstained"]:
        return b["abstained"] == a["abstained"]
    return (b["doc_id"], b["start"]) == (a["doc_id"], a["start"])


def first_changes(before: dict[str, dict], after: dict[str, dict]) -> list[str]:
    """The turns (questions) whose first citation or abstention differs, with both."""
    return [f"{key} {b['q']!r}: {_quote(b)} -> {_quote(after[key])}" for key, b in before.items()
            if not same_first(b, after[key])]


def changes(before: dict[str, dict], after: dict[str, dict], added: set[str]) -> list[dict]:
    """The turns whose first citation or abstention moved, each with why."""
    out = []
    for key, b in before.items():
        a = after[key]
        if same_first(b, a):
            continue
        if b["abstained"]:
            why = "answered from an added article" if a["doc_id"] in added else "answered (was abstaining)"
        elif a["abstained"]:
            why = "abstains now"
        elif a["doc_id"] in added:
            why = "an added article leads"
        else:
            why = "another sentence of its own documents leads"
        out.append({"id": key, "q": b["q"], "why": why, "before": b, "after": a})
    return out


def _quote(row: dict) -> str:
    """A seed's sentence is quoted; an added article's is named by id and offset only (the news
    data stays out of the repository)."""
    if row["abstained"] or not row["doc_id"].startswith(SEED_PREFIXES):
        return _quote_id(row)
    return f"{row['doc_id']}: “{row['quote'][:90]}”"


def report_changes(title: str, moved: list[dict], total: int, show: int = 25, seeds: bool = True) -> str:
    lines = [f"### {title}: {len(moved)} of {total} first citations changed", ""]
    reasons: dict[str, int] = {}
    for m in moved:
        reasons[m["why"]] = reasons.get(m["why"], 0) + 1
    if reasons:
        lines += [", ".join(f"{why}: {k}" for why, k in sorted(reasons.items(), key=lambda x: -x[1])), ""]
        lines += ["| turn | question | before | after | why |", "|---|---|---|---|---|"]
        for m in moved[:show]:
            quote = _quote if seeds else _quote_id
            question = m["q"][:70] if seeds else "(news dev)"
            lines.append(f"| {m['id']} | {question} | {quote(m['before'])} | {quote(m['after'])} | {m['why']} |")
        if len(moved) > show:
            lines.append(f"| ... {len(moved) - show} more | | | | |")
    return "\n".join(lines) + "\n"


def _quote_id(row: dict) -> str:
    """News dev rows name documents and offsets only (their text stays out of the repository)."""
    return "(abstained)" if row["abstained"] else f"{row['doc_id']} @{row['start']}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", type=int, nargs="*", help="only build the stores with these N")
    parser.add_argument("--n", type=int, nargs="*", default=[500, 5000], help="the N to compare with")
    parser.add_argument("--skip-news", action="store_true", help="the seed questions only")
    parser.add_argument("--limit", type=int, default=None, help="only the first news dev questions")
    parser.add_argument("--work", type=Path, default=WORK)
    parser.add_argument("--save", type=Path, help="write every first citation here (JSON)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "growth.md")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    if args.build is not None:
        for n in args.build:
            started = time.perf_counter()
            seed_store(n, args.work)
            print(f"seeds+{n}: {time.perf_counter() - started:.0f} s", flush=True)
            if not args.skip_news:
                started = time.perf_counter()
                dev_store(n, args.work)
                print(f"dev+{n}: {time.perf_counter() - started:.0f} s", flush=True)
        return
    run(args)


def run(args) -> None:
    saved: dict = {}
    sections = []
    base = seed_firsts(seed_store(0, args.work))
    saved["seeds+0"] = base
    for n in args.n:
        added = set(unrelated(n))
        after = seed_firsts(seed_store(n, args.work))
        saved[f"seeds+{n}"] = after
        moved = changes(base, after, added)
        right = (sum(r["right"] for r in base.values()), sum(r["right"] for r in after.values()))
        sections.append(report_changes(f"Seeds + {n:,} unrelated articles", moved, len(base))
                        + f"\nSeed turns right: {right[0]} of {len(base)} alone, {right[1]} with the {n:,}.\n")
        print(sections[-1], flush=True)
    if not args.skip_news:
        _, questions = news.load("dev", args.limit)
        dev = news_firsts(dev_store(0, args.work), questions)
        saved["dev+0"] = dev
        for n in args.n:
            added = set(unrelated(n))
            after = news_firsts(dev_store(n, args.work), questions)
            saved[f"dev+{n}"] = after
            moved = changes(dev, after, added)
            share = [sum(r[k] for r in rows.values()) / len(rows)
                     for rows in (dev, after) for k in ("contained", "first_contained")]
            held = [sum(rows[m["id"]]["first_contained"] for m in moved) for rows in (dev, after)]
            lost = sum(dev[k]["contained"] and not after[k]["contained"] for k in dev)
            gained = sum(after[k]["contained"] and not dev[k]["contained"] for k in dev)
            sections.append(report_changes(f"News dev + {n:,} unrelated articles", moved, len(dev), 15, False)
                            + f"\nAnswer in the cited extracts: {share[0]:.3f} alone, {share[2]:.3f} with the {n:,} "
                            f"(in the first extract {share[1]:.3f} -> {share[3]:.3f}), of {len(dev)} questions: "
                            f"{lost} lost, {gained} gained. The first extracts that changed held the answer for "
                            f"{held[0]} of {len(moved)} before and {held[1]} after.\n")
            print(sections[-1], flush=True)
    if args.save:
        args.save.write_text(json.dumps(saved, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.out:
        args.out.write_text("\n".join(sections), encoding="utf-8")


if __name__ == "__main__":
    main()
