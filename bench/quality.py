"""Quality report: every configuration on every evaluation set, dev and test splits.

    .venv/bin/python -m bench.quality                 # full run -> bench/results/quality.md + .png + .json
    .venv/bin/python -m bench.quality --limit 40 --sets xquad-en --out /tmp/q   # a slice

Stores are built under bench/.cache/ through the normal ingest path (reused when unchanged).
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

from bench import seed_questions
from bench.evaluate import (
    CONFIGS,
    DEV_SHARE,
    SPLIT_SEED,
    build_store,
    evaluate_abstention,
    evaluate_config,
    load_dataset,
    split,
    split_questions,
    wilson,
)
from qa.embedding import load_embedder
from qa.engine import Engine
from qa.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "bench" / "data"
METRICS = ["recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10", "contained", "first_contained", "f1",
           "citation_valid", "abstained", "p50_s", "p95_s", "total_s"]


def run(sets: list[str], configs: list[str], limit: int, work: Path, sentence_vectors: str = "pooled",
        by_question: bool = False) -> dict:
    base = Settings(sentence_vectors=sentence_vectors)
    embedder = load_embedder(base.embedding.embedding_model, base.embedding.embed_batch_size)
    results: dict = {"meta": {"split_seed": SPLIT_SEED, "dev_share": DEV_SHARE, "limit": limit,
                              "model": base.embedding.embedding_model, "sentence_vectors": sentence_vectors,
                              "split": "by question (the first session's)" if by_question else "by article",
                              "python": platform.python_version(),
                              "machine": platform.machine(), "started": time.strftime("%Y-%m-%d %H:%M:%S")}}
    for name in sets:
        dataset = load_dataset(DATA, name)
        dev, test = split_questions(dataset.questions, limit) if by_question else split(dataset, limit)
        started = time.perf_counter()
        settings = build_store(dataset, work, base)
        entry = {"documents": len(dataset.documents), "questions_total": len(dataset.questions),
                 "dev": {}, "test": {}, "ingest_s": time.perf_counter() - started}
        for config in configs:
            tuned = settings.updated(**CONFIGS[config])
            engine = Engine(tuned, embedder)
            for split_name, questions in (("dev", dev), ("test", test)):
                entry[split_name][config] = evaluate_config(engine, questions)
                print(f"{name} {config} {split_name}: "
                      f"ndcg@10 {entry[split_name][config]['ndcg@10']:.3f} "
                      f"contained {entry[split_name][config]['contained']:.3f}", file=sys.stderr)
        default = settings.updated(**CONFIGS["hybrid+rerank"])
        entry["abstention"] = evaluate_abstention(default, embedder, dataset, test)
        results[name] = entry
    seeds = Engine(base.updated(**{"store_dir": work / "seeds-store"}), embedder)
    seeds.ingest([ROOT / "seeds"])
    results["seed_questions"] = seed_questions.evaluate(seeds)
    return results


def table(rows: dict[str, dict]) -> str:
    head = "| config | " + " | ".join(METRICS) + " |\n|---|" + "---|" * len(METRICS) + "\n"
    body = ""
    for config, m in rows.items():
        body += f"| {config} | " + " | ".join(f"{m.get(k, 0):.3f}" for k in METRICS) + " |\n"
    return head + body


def chart(results: dict, path: Path, sets: list[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = ["ndcg@10", "recall@5", "contained", "first_contained"]
    fig, axes = plt.subplots(1, len(sets), figsize=(6 * len(sets), 4), squeeze=False)
    for ax, name in zip(axes[0], sets):
        rows = results[name]["test"]
        width = 0.8 / len(rows)
        for i, (config, m) in enumerate(rows.items()):
            ax.bar([x + i * width for x in range(len(shown))], [m[k] for k in shown], width, label=config)
        ax.set_xticks([x + 0.4 - width / 2 for x in range(len(shown))], shown)
        ax.set_ylim(0, 1)
        ax.set_title(f"{name} (test split)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def report(results: dict, sets: list[str], command: str) -> str:
    meta = results["meta"]
    out = [f"# Answer quality\n\nCommand: `{command}`  \nRun: {meta['started']}, model {meta['model']}, "
           f"sentence vectors {meta.get('sentence_vectors', 'pooled')}, "
           f"Python {meta['python']} on {meta['machine']}. Split: {meta.get('split', 'by article')}, seed "
           f"{meta['split_seed']}: 60% train (the reader's, never evaluated here) / 20% dev (tuning) / 20% test "
           f"(reporting only); {'all' if not meta['limit'] else 'at most ' + str(meta['limit'])} questions of each.\n",
           "Metrics: retrieval at document level (the gold paragraph/article among the documents of the top 10 "
           "passages); `contained` = the SQuAD-normalized gold answer appears in the cited extracts; "
           "`first_contained` = in the first citation; `f1` = token F1 of the answer prose; `citation_valid` = "
           "share of citations with `text[start:end] == quote`; latency per question (search + ask), seconds.\n",
           "![main metrics per configuration](quality.png)\n"]
    for name in sets:
        entry = results[name]
        out.append(f"## {name}\n\n{entry['documents']} documents, {entry['questions_total']} questions in the set; "
                   f"store built in {entry['ingest_s']:.0f} s.\n")
        for split_name in ("test", "dev"):
            n = next(iter(entry[split_name].values()))["questions"]
            out.append(f"### {split_name} split ({n} questions)\n\n" + table(entry[split_name]))
        a = entry["abstention"]
        test = entry["test"].get("hybrid+rerank") or next(iter(entry["test"].values()))
        n = test["questions"]
        lo, hi = wilson(test["first_contained"] * n, n)
        plo, phi = wilson(a.get("abstain_tp", 0), a.get("abstain_predicted", 0))
        rlo, rhi = wilson(a.get("abstain_tp", 0), a.get("abstain_should", 0))
        out.append(f"**Test split, default configuration (hybrid+rerank), 95% confidence intervals (Wilson):** "
                   f"answer contained in the first citation {test['first_contained']:.3f} [{lo:.3f}, {hi:.3f}] "
                   f"over {n} questions; abstention with the question's article hidden "
                   f"({a['hidden_documents']} documents hidden): precision {a['abstain_precision']:.3f} "
                   f"[{plo:.3f}, {phi:.3f}], recall {a['abstain_recall']:.3f} [{rlo:.3f}, {rhi:.3f}] over "
                   f"{a['questions']} questions.\n")
    if "seed_questions" in results:
        q = results["seed_questions"]
        out.append("## Our seed questions\n\n`bench/seedqa/questions.jsonl` (written before tuning; "
                   "`python -m bench.seed_questions`): "
                   f"answerable {q['answerable_right']}/{q['answerable']}, unanswerable questions about people and "
                   f"events the corpus names abstained on {q['unanswerable_abstained']}/{q['unanswerable']}, "
                   f"dialogues fully right {q['dialogues_right']}/{q['dialogues']} (follow-up turns "
                   f"{q['follow_ups_right']}/{q['follow_ups']}), all turns {q['turns_right']}/{q['turns']}.\n")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", nargs="+", default=["xquad-en", "covid-qa"])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--limit", type=int, default=None, help="at most this many dev and test questions each "
                                                                   "(default: all)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / ".cache")
    parser.add_argument("--sentence-vectors", choices=["pooled", "separate"], default="pooled",
                        help="how sentence vectors are made (to compare the two)")
    parser.add_argument("--split-by-question", action="store_true",
                        help="the first session's split (by question, with --limit 120), to compare with its figures")
    args = parser.parse_args(argv)
    results = run(args.sets, args.configs, args.limit, args.work, args.sentence_vectors, args.split_by_question)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "quality.json").write_text(json.dumps(results, indent=2))
    chart(results, args.out / "quality.png", args.sets)
    command = "python -m bench.quality " + " ".join(sys.argv[1:] if argv is None else argv)
    (args.out / "quality.md").write_text(report(results, args.sets, command.strip()))
    print(f"wrote {args.out / 'quality.md'}", file=sys.stderr)


if __name__ == "__main__":
    main()
