"""What happened in a window (issue 44): a question with a time window and no topic ("What
happened this week?", "What's new?", "Anything new today?", "What happened in March?") is
answered with a digest, not with the one sentence that best matches its words.

The digest is the window's stories: the documents dated in the window, grouped by story (the
near-duplicates of qa.ingest.stories, and documents whose lead sentences say nearly the same
thing), ranked by how many outlets carried them, then by how recent they are; each story is
one cited lead sentence of one of its documents, with its outlet and date and the others as
`also_reported_by`, at most MAX_STORIES. "What's new about X?" is the same digest of the
window's documents that name X. A window with no documents says so and names the nearest
dated ones. Every quote is document_text[start:end]: it verifies like any citation."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import numpy as np

from qa import messages
from qa.store.base import StoreReader
from qa.text.timewords import TimeReading, TimeWindow, shifted
from qa.types import Answer, Citation, DocFields, Filters, Hit, Part, Reporter, Segment

MAX_STORIES = 8
DEFAULT_DAYS = 7  # "What's new?": the last week
TOPIC_DAYS = 30  # "What's new about X?": the last month
SAME_STORY = 0.80  # lead sentences this close (cosine) tell one story
LEAD_CHUNKS = 2  # a lead sentence is looked for in a document's first chunks
_MIN_WORDS = 8

# the words of a question that asks for news and names nothing else
_GENERIC = frozenset("""
what whats what's happened happening happens happen has have had is are was were be been the a an any anything
news new latest headlines headline stories story going on there in so far tell me us give show top biggest big
main events event updates update else of did do does recent recently lately world s today tonight this week
weeks month months year weekend yesterday past last few days day these how about around please here
""".split())
_NEWS_WORD = re.compile(r"\b(?:happen(?:ed|ing|s)?|new|news|latest|headlines?|stories|updates?|going on)\b", re.I)
_ABOUT = re.compile(r"^\s*(?:so\s+)?(?:what(?:'s|’s| is| are)?|is there|are there|any(?:thing)?)\s+"
                    r"(?:any(?:thing)?\s+)?"
                    r"(?:new|the latest|latest|news|the news|new developments?|updates?)\s+"
                    r"(?:about|on|with|in|from|regarding|for|concerning)\s+(?P<topic>.+?)\s*[?.!]*\s*$", re.I)
_TOPIC_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
_STOP = frozenset("the a an of in on at to for and or with about from by this that these those its his her "
                  "their is are was were be been".split())


@dataclass(frozen=True)
class DigestRequest:
    """A question read as a request for a digest: its window and, for "what's new about X", X."""

    window: TimeWindow
    topic: str | None = None


def digest_request(question: str, reading: TimeReading) -> DigestRequest | None:
    """The question as a digest request, or None when it asks about something (a topic question
    with time words, "Which strike ended this week?", is answered as any question is)."""
    text = question.strip()
    about = _ABOUT.match(text)
    window = reading.window
    if about:
        topic = _without(about.group("topic"), window.words if window else "")
        if topic and not set(_words(topic)) <= _GENERIC:
            return DigestRequest(window or _last(reading.as_of, TOPIC_DAYS, "new"), topic)
    if not _NEWS_WORD.search(text):
        return None
    rest = _without(text, window.words if window else "")
    if not set(_words(rest)) <= _GENERIC:
        return None
    if window is None or window.words.lower() in ("latest", "recent", "recently", "now", "newest", "current",
                                                  "currently", "so far", "these days", "lately"):
        if window is None and not re.search(r"\b(?:new|news|latest|headlines)\b", text, re.I):
            return None  # "What happened?": no window, nothing asked for now
        return DigestRequest(_last(reading.as_of, DEFAULT_DAYS, window.words if window else "new"))
    return DigestRequest(window)


def _last(as_of: date, days: int, words: str) -> TimeWindow:
    return TimeWindow(shifted(as_of, -(days - 1)), as_of, words)


def _without(text: str, words: str) -> str:
    return text.lower().replace(words.lower(), " ") if words else text.lower()


def _words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _TOPIC_WORD.findall(text)]


def topic_terms(topic: str) -> list[str]:
    """The words of X a document must name to be about it."""
    return [w for w in _words(topic) if w not in _STOP and w not in _GENERIC] or _words(topic)


@dataclass
class _Doc:
    fields: DocFields
    lead: tuple[int, int, str, int] | None  # start, end, quote, sentence row


class Digest:
    """Digests of one store version."""

    def __init__(self, store: StoreReader):
        self.store = store

    def answer(self, question: str, request: DigestRequest, filters: Filters | None = None,
               topic_hits: list[Hit] | None = None) -> Answer:
        """The digest of the request's window (and topic: `topic_hits` are what a search for it
        found in the window), or an abstention naming the nearest dated documents."""
        window = request.window
        docs = self._window_docs(window, filters, topic_hits, request.topic)
        if not docs:
            return self._empty(question, request, filters)
        stories = self._stories(docs)
        ranked = sorted(stories, key=lambda s: (-_outlets(s), -_newest(s), s[0].fields.doc_id))[:MAX_STORIES]
        citations: list[Citation] = []
        segments: list[Segment] = []
        for members in ranked:
            lead = min(members, key=lambda d: (d.fields.date or "", d.fields.doc_id))  # the first report
            start, end, quote, _ = lead.lead  # type: ignore[misc]
            f = lead.fields
            others = tuple(Reporter(d.fields.doc_id, d.fields.outlet, d.fields.date)
                           for d in members if d is not lead)
            n = len(citations) + 1
            citations.append(Citation(n, f.doc_id, f.title, f.source, f.outlet, f.date, start, end, quote,
                                      float(_outlets(members)), also_reported_by=others))
            segments.append(Segment(_attribution(f, members), (Part(quote, (n,)),)))
        return Answer(question, False, tuple(citations), tuple(segments), (), question, "extractive", kind="digest")

    # -- the window's documents and their leads ---------------------------------------------------
    def _window_docs(self, window: TimeWindow, filters: Filters | None, topic_hits: list[Hit] | None,
                     topic: str | None) -> list[_Doc]:
        bounds = narrowed(filters, window)
        if bounds is None:
            return []
        ids = self.store.chunk_ids_matching(bounds)
        if topic is not None:
            wanted = {h.doc_id for h in topic_hits or [] if _names(h.text + " " + h.title, topic)}
        chunks = self.store.chunks([int(i) for i in ids])
        firsts: dict[str, list] = {}
        for chunk in chunks.values():
            if topic is not None and chunk.doc_id not in wanted:
                continue
            firsts.setdefault(chunk.doc_id, []).append(chunk)
        fields = self.store.doc_fields(sorted(firsts))
        spans = []
        for doc_id, doc_chunks in sorted(firsts.items()):
            doc_chunks.sort(key=lambda c: c.ordinal)
            firsts[doc_id] = doc_chunks[:LEAD_CHUNKS]
            spans += [(doc_id, c.start, c.end) for c in firsts[doc_id]]
        sentences = self.store.sentences_in(spans)
        found: dict[str, list] = {}
        for (doc_id, _, _), inside in zip(spans, sentences):
            found.setdefault(doc_id, []).extend(inside)
        docs = []
        for doc_id, doc_chunks in sorted(firsts.items()):
            if doc_id not in fields:
                continue
            lead = _lead(fields[doc_id], doc_chunks, found.get(doc_id, []), topic)
            if lead is not None:
                docs.append(_Doc(fields[doc_id], lead))
        return docs

    def _stories(self, docs: list[_Doc]) -> list[list[_Doc]]:
        """The documents grouped by story: one near-duplicate story, or lead sentences that say
        nearly the same thing (SAME_STORY)."""
        parent = list(range(len(docs)))

        def root(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        labels = self.store.stories_of([d.fields.doc_id for d in docs])
        first: dict[str, int] = {}
        for i, d in enumerate(docs):
            label = labels.get(d.fields.doc_id)
            if label is not None:
                parent[root(i)] = root(first.setdefault(label, i))
        if len(docs) > 1:
            vectors = self.store.sentence_vectors([d.lead[3] for d in docs])  # type: ignore[index]
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            unit = vectors / np.where(norms == 0, 1, norms)
            close = np.argwhere(np.triu(unit @ unit.T, 1) >= SAME_STORY)
            for i, j in close:
                parent[root(int(j))] = root(int(i))
        groups: dict[int, list[_Doc]] = {}
        for i, d in enumerate(docs):
            groups.setdefault(root(i), []).append(d)
        return list(groups.values())

    # -- nothing in the window -----------------------------------------------------------------
    def _empty(self, question: str, request: DigestRequest, filters: Filters | None) -> Answer:
        window = request.window
        nearest = self._nearest(window, filters)
        nearest_docs = [f"“{d.title}” ({', '.join(x for x in (d.outlet, d.date) if x)})" for d in nearest]
        text = messages.nothing_in_window(window.start.isoformat(), window.end.isoformat(), window.words,
                                          request.topic, nearest_docs)
        return Answer(question, True, (), (), (), question, "extractive", abstention=text, kind="digest")

    def _nearest(self, window: TimeWindow, filters: Filters | None) -> list[DocFields]:
        """The dated documents closest to the window, before and after it (at most one day each)."""
        found: list[DocFields] = []
        for side in (-1, 1):
            days = 7
            while days <= 400 * 366:
                if side < 0:
                    span = (shifted(window.start, -days), shifted(window.start, -1))
                else:
                    span = (shifted(window.end, 1), shifted(window.end, days))
                bounds = narrowed(filters, TimeWindow(span[0], span[1], ""))
                ids = self.store.chunk_ids_matching(bounds) if bounds else np.array([], dtype=np.int64)
                if len(ids):
                    dates = self.store.chunk_dates([int(i) for i in ids])
                    day = (max if side < 0 else min)(d for d in dates.values() if d)
                    chunk_ids = sorted(i for i, d in dates.items() if d == day)
                    doc_ids = sorted({c.doc_id for c in self.store.chunks(chunk_ids).values()})
                    fields = self.store.doc_fields(doc_ids[:3])
                    found += [fields[d] for d in doc_ids[:3] if d in fields]
                    break
                days *= 4
        return found


def narrowed(filters: Filters | None, window: TimeWindow) -> Filters | None:
    """The user's filters with the window's dates (None when nothing is left of them)."""
    filters = filters or Filters()
    start = max(window.start.isoformat(), filters.date_from or "")
    end = min(window.end.isoformat(), filters.date_to or "9999-12-31")
    return Filters(filters.outlets, start, end, filters.doc_ids) if start <= end else None


def _names(text: str, topic: str) -> bool:
    words = set(_words(text))
    return all(t in words for t in topic_terms(topic))


def _lead(fields: DocFields, chunks: list, sentences: list, topic: str | None) -> tuple[int, int, str, int] | None:
    """The first sentence of the document's opening that reads as news prose (not its title, a
    byline, a dateline or navigation); for a topic digest, the first that names the topic."""
    texts = {}
    for sentence in sentences:
        for chunk in chunks:
            if chunk.start <= sentence.start and sentence.end <= chunk.end:
                texts[(sentence.start, sentence.end)] = (chunk.text[sentence.start - chunk.start:
                                                                    sentence.end - chunk.start], sentence.row)
                break
    prose = [(start, end, text, row) for (start, end), (text, row) in sorted(texts.items())
             if _is_lead(text, fields.title)]
    if topic is not None:
        prose = [p for p in prose if _names(p[2], topic)] or prose
    return prose[0] if prose else None


def _is_lead(text: str, title: str) -> bool:
    words = text.split()
    if len(words) < _MIN_WORDS or "\n\n" in text.strip():
        return False
    if text.strip() == title.strip() or re.match(r"^\s*(?:title|date|outlet|by|updated|published|editor['’]s note)\s*:",
                                                 text, re.I):
        return False
    if not text.rstrip().rstrip("”’\"')").endswith((".", "!", "?")):
        return False
    content = [w for w in words if any(c.isalpha() for c in w) and len(w) > 3]
    capitalized = sum(w[0].isupper() for w in content)
    return not content or capitalized < 0.85 * len(content)  # not a title-case headline


def _outlets(members: list[_Doc]) -> int:
    return len({d.fields.outlet or d.fields.doc_id for d in members})


def _newest(members: list[_Doc]) -> int:
    return max(date.fromisoformat(d.fields.date).toordinal() if d.fields.date else 0 for d in members)


def _attribution(fields: DocFields, members: list[_Doc]) -> str:
    name = fields.outlet or f"“{fields.title}”"
    head = f"{name}, {fields.date}" if fields.date else name
    others = len(members) - 1
    return head + (f" (and {others} more report{'s' if others > 1 else ''})" if others > 0 else "")

