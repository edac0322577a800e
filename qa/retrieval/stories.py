"""Folding near-duplicate documents (one story, qa.ingest.stories) in what a question gets back:
one search hit per story, the passages an answer reads without copies of each other, and each
citation with the other outlets whose text holds the same extract."""
from __future__ import annotations

from dataclasses import replace

from qa.store.base import DocFields, DocumentTexts, StoreReader
from qa.text.sentences import split_sentences
from qa.types import Citation, Hit, Reporter


def fold_hits(hits: list[Hit], store: StoreReader, k: int, copies_only: bool = False) -> list[Hit]:
    """The first hit of each story, carrying the story's other documents; at most k.
    `copies_only`: a hit is folded only when every sentence of it is in the kept document word for
    word (what an answer reads: a copy that says something else stays, so the accounts can stand
    side by side)."""
    stories = store.stories_of(sorted({h.doc_id for h in hits}))
    kept: list[Hit] = []
    by_story: dict[str, Hit] = {}
    texts = DocumentTexts(store)
    for hit in hits:
        story = stories.get(hit.doc_id, hit.doc_id)
        first = by_story.get(story)
        if first is not None and first.doc_id != hit.doc_id and (
                not copies_only or _says_nothing_else(hit.text, texts(first.doc_id))):
            continue
        by_story.setdefault(story, hit)
        kept.append(hit)
    kept = kept[:k]
    members = store.story_members(sorted({stories[h.doc_id] for h in kept if h.doc_id in stories}))
    return [replace(hit, rank=rank, also_reported_by=_others(members.get(stories.get(hit.doc_id, ""), []), hit.doc_id))
            for rank, hit in enumerate(kept, start=1)]


def with_reporters(citations: list[Citation], store: StoreReader) -> list[Citation]:
    """Each citation with the other documents of its story whose text holds its extract word for word."""
    stories = store.stories_of(sorted({c.doc_id for c in citations}))
    members = store.story_members(sorted(set(stories.values())))
    texts = DocumentTexts(store)
    result = []
    for citation in citations:
        others = _others(members.get(stories.get(citation.doc_id, ""), []), citation.doc_id)
        holding = tuple(r for r in others if citation.quote in texts(r.doc_id))
        result.append(replace(citation, also_reported_by=holding) if holding else citation)
    return result


def _others(members: list[DocFields], doc_id: str) -> tuple[Reporter, ...]:
    return tuple(Reporter(m.doc_id, m.outlet, m.date) for m in members if m.doc_id != doc_id)


def _says_nothing_else(passage: str, kept_text: str) -> bool:
    """Every sentence of the passage is in the kept document (spacing aside): a copy, not an account."""
    kept = " ".join(kept_text.split())
    return all(" ".join(passage[s.start:s.end].split()) in kept for s in split_sentences(passage, 0, len(passage)))
