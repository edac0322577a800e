"""Checking citations against the stored text, and finding where a quote really is."""
from __future__ import annotations

from collections.abc import Callable

from qa.answering.citations import Location, Verdict, check_span, locate
from qa.errors import InputError
from qa.store import StoreReader
from qa.types import Document, Hit

LOCATE_CANDIDATES = 20  # documents searched for an approximate quote: the ones BM25 ranks highest


CLOSEST_MIN = 40.0  # below this similarity a passage is not "close": nothing is offered


class Verifier:
    """`store()` is the live version (it may change between calls); `document(doc_id)` a document
    or NotFoundError; `search(text, k)` finds the documents an approximate quote is looked for in
    when the corpus is large."""

    def __init__(self, store: Callable[[], StoreReader], document: Callable[[str], Document],
                 search: Callable[[str, int], list[Hit]], valid_text: Callable[[str, str], str]):
        self.store, self.document, self.search, self.valid_text = store, document, search, valid_text

    def verify(self, result: dict) -> tuple[bool, list[Verdict]]:
        """Check each citation of an ask result; say where a failing quote really is, if anywhere."""
        citations = result.get("citations") if isinstance(result, dict) else None
        if not isinstance(citations, list):
            raise InputError("expected an object with a \"citations\" list")
        verdicts = [self._verify_one(i, c) for i, c in enumerate(citations, start=1)]
        return all(v.valid for v in verdicts), verdicts

    def _verify_one(self, position: int, citation) -> Verdict:
        if not isinstance(citation, dict):
            return Verdict(position, False, "not a citation object")
        n = citation.get("n", position)
        n = n if isinstance(n, int) else position
        doc_id, quote = citation.get("doc_id"), citation.get("quote")
        doc = self.store().document(doc_id) if isinstance(doc_id, str) else None
        valid, reason = check_span(doc.text if doc else None, citation.get("start"), citation.get("end"), quote)
        if valid or not isinstance(quote, str) or not quote.strip():
            return Verdict(n, valid, reason)
        found = self.locate_quote(quote, doc_id if doc else None)
        if found is None:
            return Verdict(n, False, f"{reason}; the quote is not in the corpus")
        how = "exactly" if found.exact else f"approximately ({found.similarity:.0f}% similar)"
        return Verdict(n, False, f"{reason}; it appears {how} in {found.doc_id} at {found.start}-{found.end}",
                       found)

    def locate_quote(self, quote: str, doc_id: str | None = None) -> Location | None:
        """Where a quote appears: in the named document first, then anywhere in the corpus."""
        quote = self.valid_text(quote, "quote")
        if doc_id is not None:
            doc = self.document(doc_id)
            found = locate(quote, [(doc.doc_id, doc.text)])
            if found:
                return found
        candidates = self._documents_like(quote)
        return locate(quote, [(d.doc_id, d.text) for d in candidates if d])

    def closest_passage(self, quote: str, doc_id: str | None = None) -> tuple[Document, int, int] | None:
        """Where the corpus comes closest to a quote it does not hold (for showing how they
        differ): the best fuzzy alignment in the named document or the documents most like it."""
        from rapidfuzz import fuzz

        quote = self.valid_text(quote, "quote")
        candidates = [self.document(doc_id)] if doc_id is not None else [d for d in self._documents_like(quote) if d]
        needle = " ".join(quote.split())
        best = None
        for doc in candidates:
            found = fuzz.partial_ratio_alignment(needle, doc.text)
            if found and found.score >= CLOSEST_MIN and (best is None or found.score > best[0]):
                best = (found.score, doc, found.dest_start, found.dest_end)
        return None if best is None else best[1:]

    def _documents_like(self, quote: str) -> list[Document]:
        store = self.store()
        if store.count_documents <= LOCATE_CANDIDATES:
            doc_ids = [d.doc_id for d in store.documents()]
        else:
            try:
                hits = self.search(quote, LOCATE_CANDIDATES)
            except InputError:  # a quote longer than a question may be: every document is too many
                hits = []
            doc_ids = list(dict.fromkeys(h.doc_id for h in hits))
        return [doc for doc in map(store.document, doc_ids) if doc is not None]
