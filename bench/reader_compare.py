"""Sentence readers side by side on the XQuAD-en and COVID-QA *dev* questions (bench.evaluate's
split by article; the readers learned from the train documents only): the answer inside the
first citation and inside the cited extracts, per reader, with the paired change of each
reader against the first. Same store, same settings, same questions; only QA_READER differs.

    .venv/bin/python -m bench.reader_compare --readers news-reader bench/.cache/cand/reader-news-int8.onnx

A reader is a QA_READER value: a shipped reader's name or a candidate model file's path, with
settings after commas to compare ways of reading with one reader
(`news-reader news-reader,span_check_sentences=0`).
"""
from __future__ import annotations

import argparse
import json
import math
import tempfile
from pathlib import Path

from bench.evaluate import build_store, load_dataset, normalize, split
from bench.quality import DATA
from qa.embedding import load_embedder
from qa.engine import Engine
from qa.settings import Settings


def outcomes(engine: Engine, questions) -> list[tuple[int, int]]:
    """(answer in the first citation, answer in the cited extracts), per question."""
    out = []
    for q in questions:
        answer = engine.ask(q.question)
        gold = normalize(q.answer)
        cited = [normalize(c.quote) for c in answer.citations]
        out.append((int(bool(cited) and gold in cited[0]),
                    int(any(gold in c for c in cited) or gold in " ".join(cited))))
    return out


def paired(a: list[int], b: list[int]) -> tuple[float, float, float]:
    """Mean of b - a and its 95% interval (normal approximation of the paired differences)."""
    d = [y - x for x, y in zip(a, b)]
    mean = sum(d) / len(d)
    var = sum((x - mean) ** 2 for x in d) / max(1, len(d) - 1)
    half = 1.96 * math.sqrt(var / len(d))
    return mean, mean - half, mean + half


def _variant(settings: Settings, reader: str) -> Settings:
    """`name[,setting=value,...]`: the reader and any settings changed with it."""
    name, *changes = reader.split(",")
    return settings.updated(reader=name, **dict(c.split("=", 1) for c in changes))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--readers", nargs="+", required=True, help="QA_READER values; the first is the reference")
    parser.add_argument("--sets", nargs="+", default=["xquad-en", "covid-qa"])
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "qa-reader-compare")
    parser.add_argument("--save", type=Path, default=None, help="per-question outcomes, as JSON")
    args = parser.parse_args(argv)
    base = Settings()
    embedder = load_embedder(base.embedding.embedding_model, base.embedding.embed_batch_size)
    saved = {}
    for name in args.sets:
        dataset = load_dataset(DATA, name)
        dev, _ = split(dataset)
        settings = build_store(dataset, args.work, base)
        results = {r: outcomes(Engine(_variant(settings, r), embedder), dev) for r in args.readers}
        saved[name] = results
        first = results[args.readers[0]]
        for r, rows in results.items():
            line = (f"{name} dev ({len(dev)} questions) {r}: first citation {sum(x for x, _ in rows) / len(rows):.3f} "
                    f"({sum(x for x, _ in rows)}), cited extracts {sum(y for _, y in rows) / len(rows):.3f} "
                    f"({sum(y for _, y in rows)})")
            if r != args.readers[0]:
                m, lo, hi = paired([x for x, _ in first], [x for x, _ in rows])
                line += f"; first citation vs {args.readers[0]}: {m:+.3f} [{lo:+.3f}, {hi:+.3f}]"
            print(line, flush=True)
    if args.save:
        args.save.write_text(json.dumps(saved))


if __name__ == "__main__":
    main()
