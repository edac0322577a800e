"""More news training data for the readers (issue 42, item 4), from the RealTimeQA *train* split
(2023-2024) only; dev (2025) and the 2022 held-out set are never read, and no article that is
also among a dev question's results is used by these additions (451 train articles are: a
synthetic question from one could ask a dev question's fact).

Two additions, each a flag of bench.train_reader / bench.train_span:

- `--all-articles`: every train question against all the train articles it could meet, not
  only the first two clean positives of its own results: every clean positive
  (bench.train_reader.news_positive, the same test as today) among its own results (at most
  10, all of them) and among the results of the other questions of the same quiz week (the
  same news, found by other searches: what the question meets in a store of the train split),
  one per article, up to ALL_POSITIVES beyond the two the shipped recipe already takes. A
  question that had no positive before and gains one also gets today's hard negatives (the
  own results' sentences sharing most words with the question, without the answer) and one
  random sentence.
- `--synthetic`: questions made from the train articles' own sentences. A sentence of one
  result that is about the quiz question (>= 2 of its content words) has a named entity
  (spaCy's, qa.text.nlp.entities) replaced by its wh-word (who, where, when, how many, how
  much, which organization/group, what), e.g. "Officials in Ohio said 12 people died" ->
  "Officials in Ohio said how many people died?". It is asked against *another outlet's* copy
  of the same story: a sentence of another result of the same question, from another web
  site, stating the entity and sharing >= SAME_STORY content words (and 30% of them) with the
  source sentence, NEAR of them near the entity (a word-overlap match between the articles of one
  question's results, standing in for the story folding of qa/retrieval/stories.py, which needs
  embeddings) is the positive; that
  article's sentences sharing most words with the synthetic question without the entity are
  the negatives. The source sentence itself is never a positive (it would teach the reader
  to match words, not to read).

Fixed seeds; the pairs are the same on every run.
"""
from __future__ import annotations

import gzip
import json
import random
import re
from pathlib import Path
from urllib.parse import urlparse

from bench.train_reader import _content, _whole, news_positive
from qa.text.sentences import split_sentences

ALL_POSITIVES = 4  # clean positives per question beyond the shipped two (one per article)
SAME_STORY = 4  # content words a sentence of another outlet shares with the source sentence (and 30% of them)
NEAR = 2  # ... of them within 60 characters of the entity in the source sentence (the same role)
SYNTHETIC_PER_QUESTION = 4  # synthetic questions per train question (each from another source sentence)
SYNTHETIC_NEGATIVES = 2
WH = {"PERSON": "who", "GPE": "where", "LOC": "where", "FAC": "where", "DATE": "when", "CARDINAL": "how many",
      "MONEY": "how much", "PERCENT": "what percentage", "ORG": "which organization", "NORP": "which group",
      "EVENT": "which event", "WORK_OF_ART": "what", "LAW": "which law", "PRODUCT": "which product"}
_DATELINE = re.compile(r"^[A-Z][A-Z .,]+(?:\([A-Za-z ]+\))?\s*[—–-]+\s*")  # "WASHINGTON (AP) — "
_MONTHS = r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b"
_BEFORE = {"where": r"(?:\b(?:in|at|from|to|into|of)\s+(?:the\s+)?)$", "when": r"(?:\b(?:on|in|since|by)\s+)$"}


def news_source():
    from bench.news import DATA

    return DATA


def load_train(root: Path) -> tuple[list[dict], dict[str, tuple[str, str]], set[str]]:
    """The train questions with results and an answer, every article they list (id -> (site,
    text)), and the ids of articles that a dev question also lists (kept out of the additions)."""
    rows = [json.loads(line) for line in (root / "questions.jsonl").read_text(encoding="utf-8").splitlines()]
    train = [q for q in rows if q["split"] == "train" and q["results"] and q["answer_text"]]
    dev_articles = {d for q in rows if q["split"] != "train" for d in q["results"]}
    wanted = {d for q in rows if q["split"] == "train" for d in q["results"]}
    texts = {}
    with gzip.open(root / "articles.jsonl.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            article = json.loads(line)
            if article["id"] in wanted:
                texts[article["id"]] = (urlparse(article.get("url") or "").netloc.removeprefix("www."), article["text"])
    return train, texts, dev_articles


def _sentences(text: str) -> list[str]:
    return [text[s.start:s.end] for s in split_sentences(text) if 5 <= len(text[s.start:s.end].split()) <= 80]


class Articles:
    """Sentences of each article, split once."""

    def __init__(self, texts: dict[str, tuple[str, str]]):
        self.texts = texts
        self._sentences: dict[str, list[str]] = {}
        self._lower: dict[str, str] = {}

    def site(self, doc: str) -> str:
        return self.texts[doc][0]

    def sentences(self, doc: str) -> list[str]:
        if doc not in self._sentences:
            self._sentences[doc] = _sentences(self.texts[doc][1])
        return self._sentences[doc]

    def may_state(self, doc: str, answer: str) -> bool:
        """A cheap test before the sentence-level one: the answer's words occur in the article."""
        if doc not in self._lower:
            self._lower[doc] = " ".join(re.findall(r"\w+", self.texts[doc][1].lower()))
        return " ".join(re.findall(r"\w+", answer.lower())) in self._lower[doc]


def all_article_pairs(train: list[dict], articles: Articles, dev_articles: set[str], rng: random.Random,
                      negatives: int = 4) -> tuple[list[tuple[str, str, float]], dict]:
    """The pairs the shipped recipe (bench.train_reader.news_pairs) does not already hold: further
    clean positives of each question among its own results and its week's other train articles."""
    by_week: dict[str, list[str]] = {}
    for q in train:
        by_week.setdefault(q["week"], []).extend(q["results"])
    pairs, stats = [], {"questions": 0, "new_questions": 0, "positives": 0, "from_week": 0}
    pool = []
    for q in train:
        own_docs = [d for d in q["results"] if d in articles.texts]
        own = [s for d in own_docs for s in articles.sentences(d)]
        pool += own[:3]
        answer, evidence = q["answer_text"][0], q.get("evidence") or ""
        shipped_clean = [s for s in own if news_positive(q["question"], evidence, answer, s)][:2]
        shipped_own = [evidence[s.start:s.end] for s in split_sentences(evidence)
                       if _whole(answer, evidence[s.start:s.end])][:1]
        taken = set(shipped_clean) | set(shipped_own)
        week = [d for d in dict.fromkeys(by_week[q["week"]]) if d not in q["results"] and d in articles.texts]
        new = []
        for doc in [d for d in own_docs if d not in dev_articles] + [d for d in week if d not in dev_articles]:
            if len(new) >= ALL_POSITIVES or not articles.may_state(doc, answer):
                continue
            found = next((s for s in articles.sentences(doc) if s not in taken
                          and news_positive(q["question"], evidence, answer, s)), None)
            if found is not None:
                taken.add(found)
                new.append(found)
                stats["from_week"] += doc not in q["results"]
        if not new:
            continue
        stats["questions"] += 1
        stats["positives"] += len(new)
        pairs += [(q["question"], s, 1.0, answer) for s in new]
        if not shipped_clean and not shipped_own:  # a question the shipped recipe left out: today's negatives too
            stats["new_questions"] += 1
            asked = _content(q["question"])
            hard = sorted((s for s in own if not _whole(answer, s)), key=lambda s: -len(asked & _content(s)))
            pairs += [(q["question"], s, 0.0, "") for s in hard[:negatives]]
            if pool:
                pairs.append((q["question"], rng.choice(pool), 0.0, None))
    return pairs, stats


def _wh_question(sentence: str, entity) -> str | None:
    """The sentence with the entity replaced by its wh-word, as a question; None when awkward."""
    wh = WH.get(entity.label)
    if wh is None or len(entity.text) < 2 or len(entity.text.split()) > 6 or ":" in sentence[:60]:
        return None  # (a headline run into the text: "SVB collapse:Silicon Valley Bank ...")
    if entity.label == "DATE" and not re.search(r"\d|" + _MONTHS, entity.text, re.I):
        return None  # "Tuesday", "last week": every story of the week states one
    if len(re.findall(rf"(?<!\w){re.escape(entity.text)}(?!\w)", sentence)) != 1:
        return None  # stated twice: the question would hold its own answer
    before, after = sentence[:entity.start], sentence[entity.end:]
    if entity.label == "PERSON" and after.startswith("'s"):
        wh, after = "whose", after[2:]
    if wh in _BEFORE:
        before = re.sub(_BEFORE[wh], "", before, flags=re.I)
    before = re.sub(r"(?:^|\s)(?:the|a|an)\s*$", "", before.strip(), flags=re.I).strip().lstrip("\"'“‘ ")
    after = re.sub(r"[\s.!?\"'”’]+$", "", after.rstrip())
    if not before:
        question = wh[0].upper() + wh[1:] + after
    else:
        question = f"{before} {wh}{after}"
    if len(question.split()) < 5 or len(question.split()) > 40 or '"' in question or "“" in question:
        return None
    return question + "?"


def synthetic_pairs(train: list[dict], articles: Articles, dev_articles: set[str], rng: random.Random,
                    per_question: int = SYNTHETIC_PER_QUESTION) -> tuple[list[tuple[str, str, float]], dict, list]:
    """(synthetic question, sentence, label): see the module's docstring. Also returns a sample of
    (question, source sentence, positive) for reading by eye."""
    from qa.text.nlp import entities

    # source sentences: those of a question's results about the quiz question, where another
    # outlet's article of the same results exists
    sources = []
    for qi, q in enumerate(train):
        docs = [d for d in q["results"] if d in articles.texts and d not in dev_articles]
        if len({articles.site(d) for d in docs}) < 2:
            continue
        asked = _content(q["question"])
        for d in docs[:8]:
            ranked = sorted((_DATELINE.sub("", s) for s in articles.sentences(d) if len(s.split()) <= 45),
                            key=lambda s: -len(asked & _content(s)))
            sources += [(qi, d, s) for s in ranked[:4] if len(asked & _content(s)) >= 2]
    found = entities([s for _, _, s in sources])
    pairs, sample = [], []
    made: dict[int, int] = {}
    stats = {"source_sentences": len(sources), "questions": 0, "by_kind": {}}
    for (qi, doc, sentence), ents in zip(sources, found):
        if made.get(qi, 0) >= per_question:
            continue
        q = train[qi]
        others = [d for d in q["results"] if d in articles.texts and d not in dev_articles
                  and articles.site(d) != articles.site(doc)]
        source_words = _content(sentence)
        for entity in ents:
            question = _wh_question(sentence, entity)
            if question is None:
                continue
            story = source_words - _content(entity.text)
            near = _content(sentence[max(0, entity.start - 60):entity.end + 60]) - _content(entity.text)
            positive = None
            for other in others:
                if not articles.may_state(other, entity.text):
                    continue
                positive = next((s for s in articles.sentences(other) if _whole(entity.text, s)
                                 and len(story & _content(s)) >= max(SAME_STORY, 0.3 * len(story))
                                 and len(near & _content(s)) >= NEAR
                                 and " ".join(_content(s)) != " ".join(source_words)), None)
                if positive is not None:
                    break
            if positive is None:
                continue
            asked = _content(question)
            negatives = sorted((s for s in articles.sentences(other) if not _whole(entity.text, s)),
                               key=lambda s: -len(asked & _content(s)))[:SYNTHETIC_NEGATIVES]
            pairs.append((question, positive, 1.0, entity.text))
            pairs += [(question, s, 0.0, "") for s in negatives]
            made[qi] = made.get(qi, 0) + 1
            stats["questions"] += 1
            stats["by_kind"][WH[entity.label]] = stats["by_kind"].get(WH[entity.label], 0) + 1
            if len(sample) < 400:
                sample.append((question, sentence, positive, entity.text))
            break  # one question a source sentence
    rng.shuffle(sample)
    return pairs, stats, sample


def more_pairs(all_articles: bool, synthetic: bool, rng: random.Random) -> tuple[list[tuple[str, str, float]], dict]:
    """The additions asked for, as (question, sentence, label) for the sentence reader, and their sizes."""
    pairs, stats = _more(all_articles, synthetic, rng)
    return [p[:3] for p in pairs], stats


def more_span_examples(all_articles: bool, synthetic: bool, rng: random.Random,
                       negatives: int = 2) -> tuple[list[tuple[str, str, int, int]], dict]:
    """The same additions for the span reader: (question, sentence, answer start, end) for a
    positive (the answer located as whole words), (question, sentence, -1, -1) for at most
    `negatives` hard negatives of each question ("no answer"); no random sentences."""
    from bench.train_span import _locate

    examples, kept = [], {}
    for question, sentence, label, answer in _more(all_articles, synthetic, rng)[0]:
        if label and answer:
            found = _locate(answer, sentence)
            if found:
                examples.append((question, sentence, *found))
        elif answer == "" and kept.get(question, 0) < negatives:
            kept[question] = kept.get(question, 0) + 1
            examples.append((question, sentence, -1, -1))
    return examples, {"examples": len(examples), "with_answer": sum(e[2] >= 0 for e in examples)}


def _more(all_articles: bool, synthetic: bool, rng: random.Random) -> tuple[list[tuple], dict]:
    """(question, sentence, label, answer: its text for a positive, "" for a hard negative, None
    for a random sentence), and the sizes."""
    if not (all_articles or synthetic):
        return [], {}
    train, texts, dev_articles = load_train(news_source())
    articles = Articles(texts)
    pairs, stats = [], {}
    if all_articles:
        more, stats["all_articles"] = all_article_pairs(train, articles, dev_articles, rng)
        stats["all_articles"]["pairs"] = len(more)
        pairs += more
    if synthetic:
        more, stats["synthetic"], sample = synthetic_pairs(train, articles, dev_articles, rng)
        stats["synthetic"]["pairs"] = len(more)
        pairs += more
        _write_sample(sample)
    return pairs, stats


def _write_sample(sample: list) -> None:
    """A few synthetic questions for reading by eye, outside the repository (the data has no licence)."""
    from bench.train_reader import ROOT

    path = ROOT / "bench" / ".cache" / "synthetic-sample.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(dict(zip(("question", "source", "positive", "answer"), s))) + "\n"
                            for s in sample[:60]), encoding="utf-8")
