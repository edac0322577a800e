"""One story, told once: near-duplicate articles (one wire story carried by several outlets, the
updated versions of a report) found at ingest with MinHash LSH (datasketch).

A document's *story* is a label shared by its near-duplicates: the id of the first of them the
store saw. A new document whose word 5-grams overlap a stored one's at least `threshold`
(MinHash estimate of the Jaccard similarity) joins that document's story; the best match wins
when it matches several. Signatures are stored with the story, so a later ingest compares new
documents with every stored one without reading their texts again."""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

import numpy as np

from qa.store.base import NUM_PERM, StoryRow  # 64 permutations: a Jaccard estimate within about 0.06 at 0.7
from qa.text.timewords import iso_day

SHINGLE_WORDS = 5
SCHEME = "affine32"  # datasketch 2 asks which hash scheme stored values came from
STORIES_VERSION = 2  # recorded in the manifest: a version without it gets its stories at the next ingest
HEADLINE_OVERLAP = 0.25  # share of headline words two copies of a story have in common, at least
CLOSE_DAYS = 7  # without headlines: copies of a story are dated within a week of each other
_COMMON = frozenset("the and for with from that this what who how why are was were has have its into after over "
                    "about than new says said will not but".split())
_WORD = re.compile(r"\w+")


def signature(text: str) -> bytes:
    """The MinHash of a text's word 5-grams (lower-cased), as bytes to store."""
    from datasketch import MinHash

    words = _WORD.findall(text.lower())
    shingles = {" ".join(words[i:i + SHINGLE_WORDS]).encode()
                for i in range(max(1, len(words) - SHINGLE_WORDS + 1))}
    minhash = MinHash(num_perm=NUM_PERM, scheme=SCHEME)
    minhash.update_batch(list(shingles))
    return minhash.hashvalues.astype(np.uint64).tobytes()


def assign_stories(stored: Iterable[StoryRow], new: list[StoryRow],
                   threshold: float) -> list[tuple[StoryRow, str | None]]:
    """The story of each new document (a row with its signature, title and date), with the document
    it copies (None: a story of its own), in the order given: a later new document may join an
    earlier new one's story."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    known: dict[str, StoryRow] = {}
    for row in stored:
        _insert(lsh, known, row)
    assigned = []
    for document in new:
        values = document.hashvalues
        matches = [known[key] for key in _query(lsh, values) if key != document.doc_id]
        scored = [(float(np.mean(m.hashvalues == values)), m) for m in matches if plausible(document, m)]
        # ties go to the story's first document (the original the others copy)
        best = max((s for s in scored if s[0] >= threshold), key=lambda s: (s[0], s[1].doc_id == s[1].story),
                   default=None)
        row = replace(document, story=best[1].story if best else document.doc_id)
        _insert(lsh, known, row)
        assigned.append((row, best[1].doc_id if best else None))
    return assigned


def plausible(a: StoryRow, b: StoryRow) -> bool:
    """Texts that overlap are one story only if their headlines share words or, without headlines,
    their dates are close: pages whose scraped text is mostly a site's boilerplate (a sign-up
    form, an advertising survey) overlap as much as copies do."""
    words_a, words_b = _headline_words(a.title), _headline_words(b.title)
    if words_a and words_b:
        return len(words_a & words_b) / len(words_a | words_b) >= HEADLINE_OVERLAP
    day_a, day_b = iso_day(a.date), iso_day(b.date)
    return day_a is None or day_b is None or abs((day_a - day_b).days) <= CLOSE_DAYS


def _headline_words(title: str) -> set[str]:
    headline = re.split(r"\s[|–—-]\s", title or "")[0]  # "Storm closes ferries | Coast Wire": the site goes
    return {w for w in _WORD.findall(headline.lower()) if len(w) > 2 and w not in _COMMON}


def _minhash(values: np.ndarray):
    from datasketch import MinHash

    return MinHash(num_perm=NUM_PERM, hashvalues=values, scheme=SCHEME)


def _insert(lsh, known: dict[str, StoryRow], row: StoryRow) -> None:
    if row.doc_id in known:
        lsh.remove(row.doc_id)
    lsh.insert(row.doc_id, _minhash(row.hashvalues))
    known[row.doc_id] = row


def _query(lsh, values: np.ndarray) -> list[str]:
    return list(lsh.query(_minhash(values)))
