"""Quality evaluation on question-answer sets: retrieval, answers, citations, abstention, latency.

Each set is written out as one text file per document and ingested through the normal ingest
path; every question goes through the normal ask path.
"""
from __future__ import annotations

import json
import math
import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from qa.engine import Engine
from qa.settings import Settings
from qa.text.lexical import squad_words
from qa.types import Filters

SPLIT_SEED = 13
DEV_SHARE = 0.2  # and test 0.2, train 0.6, by article (split_documents)
CONFIGS = {
    "bm25": {"dense_weight": 0.0, "bm25_weight": 1.0, "rerank_candidates": 0},
    "dense": {"dense_weight": 1.0, "bm25_weight": 0.0, "rerank_candidates": 0},
    "hybrid": {"dense_weight": 1.0, "bm25_weight": 1.0, "rerank_candidates": 0},
    "hybrid+rerank": {"dense_weight": 1.0, "bm25_weight": 1.0, "rerank_candidates": 20, "rerank_search": True},
}


@dataclass(frozen=True)
class Question:
    qid: str
    question: str
    answer: str
    gold_doc: str


@dataclass
class Dataset:
    name: str
    documents: dict[str, str]  # doc_id -> text
    questions: list[Question]


# -- loading ------------------------------------------------------------------------------------

def load_squad(path: Path, name: str) -> Dataset:
    """XQuAD / SQuAD v1.1 JSON: one document per paragraph."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    documents, questions = {}, []
    for article in data:
        slug = re.sub(r"\W+", "_", article["title"]).strip("_")
        for i, paragraph in enumerate(article["paragraphs"]):
            doc_id = f"{slug}_{i:02d}"
            documents[doc_id] = paragraph["context"]
            for qa in paragraph["qas"]:
                questions.append(Question(str(qa["id"]), qa["question"], qa["answers"][0]["text"], doc_id))
    return Dataset(name, documents, questions)


def load_covid(path: Path, name: str) -> Dataset:
    """COVID-QA (SQuAD v2 style): one document per article; questions that only make sense next
    to their article ("this study", "the authors") are left out of corpus-wide evaluation."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    documents, questions = {}, []
    local = re.compile(r"\b(this|these|the (study|authors|article|paper|present))\b", re.I)
    for article in data:
        for paragraph in article["paragraphs"]:
            doc_id = str(paragraph["document_id"])
            documents[doc_id] = paragraph["context"]
            for qa in paragraph["qas"]:
                if not local.search(qa["question"]):
                    questions.append(Question(str(qa["id"]), qa["question"], qa["answers"][0]["text"], doc_id))
    return Dataset(name, documents, questions)


LOADERS = {"xquad-en": ("xquad.en.json", load_squad), "covid-qa": ("200423_covidQA.json", load_covid)}


def load_dataset(data_dir: Path, name: str) -> Dataset:
    filename, loader = LOADERS[name]
    return loader(data_dir / name / filename, name)


def subset(dataset: Dataset, documents: int) -> Dataset:
    """The first `documents` documents and the questions about them (for quick runs)."""
    keep = dict(list(dataset.documents.items())[:documents])
    return Dataset(dataset.name, keep, [q for q in dataset.questions if q.gold_doc in keep])


def _group(doc_id: str, dataset_name: str) -> str:
    """Documents that must fall on the same side of a split: XQuAD paragraphs of one article."""
    return doc_id.rsplit("_", 1)[0] if dataset_name.startswith("xquad") else doc_id


def split_documents(dataset: Dataset) -> tuple[set[str], set[str], set[str]]:
    """Train / dev / test documents, 60/20/20 by article, seeded. The reader trains on the first
    only; thresholds are chosen on dev; test only reports."""
    groups = sorted({_group(d, dataset.name) for d in dataset.documents})
    random.Random(SPLIT_SEED).shuffle(groups)
    cut1, cut2 = int(len(groups) * 0.6), int(len(groups) * 0.8)
    side = {g: 0 if i < cut1 else 1 if i < cut2 else 2 for i, g in enumerate(groups)}
    parts: tuple[set[str], set[str], set[str]] = (set(), set(), set())
    for doc_id in dataset.documents:
        parts[side[_group(doc_id, dataset.name)]].add(doc_id)
    return parts


def split(dataset: Dataset, limit: int | None = None) -> tuple[list[Question], list[Question]]:
    """Dev and test questions: every question about a dev or test document (at most `limit` each)."""
    _, dev_docs, test_docs = split_documents(dataset)
    ordered = sorted(dataset.questions, key=lambda q: q.qid)
    random.Random(SPLIT_SEED).shuffle(ordered)
    dev = [q for q in ordered if q.gold_doc in dev_docs][:limit]
    test = [q for q in ordered if q.gold_doc in test_docs][:limit]
    return dev, test


def split_questions(questions: list[Question], limit: int | None) -> tuple[list[Question], list[Question]]:
    """The first session's split (by question, 30% dev, first `limit` questions): kept so that a
    change can be compared with the figures it published, on the same questions."""
    shuffled = sorted(questions, key=lambda q: q.qid)
    random.Random(SPLIT_SEED).shuffle(shuffled)
    if limit:
        shuffled = shuffled[:limit]
    cut = int(len(shuffled) * 0.3)
    return shuffled[:cut], shuffled[cut:]


def held_out_documents(dataset: Dataset) -> set[str]:
    """Half of the documents, seeded: questions about them must be abstained on when they are hidden."""
    ids = sorted(dataset.documents)
    random.Random(SPLIT_SEED + 1).shuffle(ids)
    return set(ids[: len(ids) // 2])


# -- metrics ------------------------------------------------------------------------------------

def normalize(text: str) -> str:
    """SQuAD v1.1 answer normalization (the product's own: qa.text.lexical.squad_words)."""
    return " ".join(squad_words(text))


def token_f1(prediction: str, gold: str) -> float:
    pred, truth = normalize(prediction).split(), normalize(gold).split()
    common = sum((Counter(pred) & Counter(truth)).values())
    if not common:
        return 0.0
    precision, recall = common / len(pred), common / len(truth)
    return 2 * precision * recall / (precision + recall)


def ranking_metrics(ranked_docs: list[str], gold: str) -> dict[str, float]:
    rank = ranked_docs.index(gold) + 1 if gold in ranked_docs else None
    return {
        "recall@1": float(rank is not None and rank <= 1),
        "recall@5": float(rank is not None and rank <= 5),
        "recall@10": float(rank is not None and rank <= 10),
        "mrr@10": 1.0 / rank if rank and rank <= 10 else 0.0,
        "ndcg@10": 1.0 / math.log2(rank + 1) if rank and rank <= 10 else 0.0,
    }


def _answer_prose(answer) -> str:
    """The answer's own words, without markers or attributions (read from its structure)."""
    return " ".join(part.text for segment in answer.segments for part in segment.parts)


def wilson(successes: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% confidence interval of a proportion (Wilson score)."""
    if n == 0:
        return 0.0, 0.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


# -- running ------------------------------------------------------------------------------------

@dataclass
class Scores:
    values: dict[str, list[float]] = field(default_factory=dict)

    def add(self, **metrics: float) -> None:
        for key, value in metrics.items():
            self.values.setdefault(key, []).append(value)

    def mean(self) -> dict[str, float]:
        return {k: sum(v) / len(v) for k, v in self.values.items() if v}


def build_store(dataset: Dataset, work_dir: Path, base: Settings) -> Settings:
    corpus = work_dir / dataset.name / "corpus"  # shared by every model
    corpus.mkdir(parents=True, exist_ok=True)
    for doc_id, text in dataset.documents.items():
        path = corpus / f"{doc_id}.txt"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    vectors = base.embedding.sentence_vectors
    name = f"store-{base.embedding.embedding_model}" + ("" if vectors == "pooled" else f"-{vectors}")
    settings = base.updated(**{"store_dir": work_dir / dataset.name / name})
    Engine(settings).ingest([corpus])
    return settings


def evaluate_config(engine: Engine, questions: list[Question], hidden: set[str] | None = None) -> dict:
    """Retrieval, answer and citation metrics for one configuration over questions."""
    scores, latencies = Scores(), []
    texts: dict[str, str] = {}
    for q in questions:
        started = time.perf_counter()
        hits = engine.search(q.question, 10)
        answer = engine.ask(q.question)
        latencies.append(time.perf_counter() - started)
        ranked = list(dict.fromkeys(h.doc_id for h in hits))
        scores.add(**ranking_metrics(ranked, q.gold_doc))
        gold = normalize(q.answer)
        cited = [normalize(c.quote) for c in answer.citations]
        scores.add(contained=float(any(gold in c for c in cited) or gold in " ".join(cited)),
                   first_contained=float(bool(cited) and gold in cited[0]),
                   f1=token_f1(_answer_prose(answer), q.answer),
                   abstained=float(answer.abstained))
        for c in answer.citations:
            text = texts.setdefault(c.doc_id, engine.library.document(c.doc_id).text)
            scores.add(citation_valid=float(text[c.start:c.end] == c.quote))
    result = scores.mean()
    result.setdefault("citation_valid", 1.0)
    result.update(p50_s=percentile(latencies, 0.5), p95_s=percentile(latencies, 0.95),
                  total_s=sum(latencies), questions=len(questions))
    return result


def evaluate_abstention(settings: Settings, embedder, dataset: Dataset, questions: list[Question]) -> dict:
    """Half of the documents hidden by a document filter (the public API: their passages are never
    retrieved; BM25's IDF still counts them, a close stand-in for a store built without them)."""
    hidden = held_out_documents(dataset)
    engine = Engine(settings, embedder)
    visible = Filters(doc_ids=tuple(sorted(set(dataset.documents) - hidden)))
    tp = fp = fn = 0
    for q in questions:
        should = q.gold_doc in hidden
        did = engine.ask(q.question, filters=visible).abstained
        tp += should and did
        fp += did and not should
        fn += should and not did
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {"abstain_precision": precision, "abstain_recall": recall, "abstain_tp": tp,
            "abstain_predicted": tp + fp, "abstain_should": tp + fn,
            "abstain_f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
            "questions": len(questions), "hidden_documents": len(hidden)}
