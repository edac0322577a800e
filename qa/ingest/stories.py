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

import numpy as np

from qa.store.base import NUM_PERM, StoryRow  # 64 permutations: a Jaccard estimate within about 0.06 at 0.7

SHINGLE_WORDS = 5
SCHEME = "affine32"  # datasketch 2 asks which hash scheme stored values came from
STORIES_VERSION = 1  # recorded in the manifest: a version without it gets its stories at the next ingest
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


def assign_stories(stored: Iterable[StoryRow], new: list[tuple[str, bytes]],
                   threshold: float) -> list[tuple[StoryRow, str | None]]:
    """The story of each new (doc_id, signature), with the document it copies (None: a story of its
    own), in the order given: a later new document may join an earlier new one's story."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    known: dict[str, StoryRow] = {}
    for row in stored:
        _insert(lsh, known, row)
    assigned = []
    for doc_id, sig in new:
        values = np.frombuffer(sig, dtype=np.uint64)
        matches = [known[key] for key in _query(lsh, values) if key != doc_id]
        scored = [(float(np.mean(m.hashvalues == values)), m) for m in matches]
        best = max((s for s in scored if s[0] >= threshold), key=lambda s: (s[0], s[1].doc_id), default=None)
        row = StoryRow(doc_id, best[1].story if best else doc_id, sig)
        _insert(lsh, known, row)
        assigned.append((row, best[1].doc_id if best else None))
    return assigned


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
