"""Example questions for whatever corpus is loaded: about the people and places it names most
often, and about its most recent articles' headlines. Nothing here knows the seed articles."""
from __future__ import annotations

from collections import Counter

from qa.retrieval.condense import names
from qa.store.base import StoreReader

SAMPLE_DOCUMENTS = 200  # enough to find the corpus's recurring names without reading all of it
_HEADLINE_WORDS = (4, 16)


def suggested_questions(store: StoreReader, limit: int = 4) -> list[str]:
    docs = store.documents(SAMPLE_DOCUMENTS)
    texts = [d.text[:20_000] for d in (store.document(f.doc_id) for f in docs) if d is not None]
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update({n: text.count(n) for n in names(text) if len(n.split()) >= 2})
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
