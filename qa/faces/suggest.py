"""Example questions for whatever corpus is loaded: about the people and places it names most
often, and about its most recent articles' headlines. Nothing here knows the seed articles."""
from __future__ import annotations

from collections import Counter

from qa.store.base import StoreReader
from qa.text.nlp import entities

SAMPLE_DOCUMENTS = 200  # enough to find the corpus's recurring names without reading all of it
READ_DOCUMENTS, READ_CHARS = 40, 1_500  # where names are looked for (spaCy: ~1 s in all, once per version)
_HEADLINE_WORDS = (4, 16)
_made: dict[tuple[str, int], list[str]] = {}  # per index version: computed once, not at each page load


def suggested_questions(store: StoreReader, limit: int = 4) -> list[str]:
    key = (store.version, limit)
    if key not in _made:
        _made.clear()
        _made[key] = _suggest(store, limit)
    return list(_made[key])


def _suggest(store: StoreReader, limit: int) -> list[str]:
    docs = store.documents(SAMPLE_DOCUMENTS)
    texts = [d.text[:20_000] for d in (store.document(f.doc_id) for f in docs) if d is not None]
    counts: Counter[str] = Counter()
    found = entities(text[:READ_CHARS] for text in texts[:READ_DOCUMENTS])
    for text, people in zip(texts, found):
        counts.update({e.text: text.count(e.text) for e in people if e.label == "PERSON" and len(e.text.split()) >= 2})
    titles = " ".join(d.title.lower() for d in docs)
    # a phrase also written in lower case somewhere ("supreme leader") is a title, not a name
    recurring = [n for n, c in counts.most_common(40)
                 if c >= 2 and n.lower() not in titles and not any(n.lower() in t for t in texts)]
    who = [f"Who is {n}?" for n in _distinct(recurring)[:max(1, limit // 2)]]
    recent = sorted((d for d in docs if _headline(d.title)), key=lambda d: (d.date or "", d.doc_id), reverse=True)
    what = [f"What does “{d.title.rstrip('.?!')}” report?" for d in recent]
    questions = who + [q for q in what if q not in who]
    return questions[:limit]


def _distinct(found: list[str]) -> list[str]:
    """Drop a name contained in one already kept ("Putin" after "Vladimir Putin")."""
    kept: list[str] = []
    for name in found:
        if not any(name in k or k in name for k in kept):
            kept.append(name)
    return kept


def _headline(title: str) -> bool:
    low, high = _HEADLINE_WORDS
    return low <= len(title.split()) <= high
