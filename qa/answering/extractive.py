"""Extractive answers: the best sentences of the retrieved passages, each cited exactly."""
from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from qa.answering.base import ABSTENTION, ground
from qa.retrieval.condense import names
from qa.retrieval.relevance import PassageSentence, RelevanceScorer, passage_sentences
from qa.store.base import DocFields, StoreReader
from qa.text.lexical import terms
from qa.text.sentences import split_sentences
from qa.types import Answer, Citation, Hit, Part, Segment

ACCOUNT_RATIO = 0.87  # another article's best sentence joins the answer above this share of the best
EXTRA_RATIO = 0.7  # more sentences join above this share of the best (tuned on the dev splits, see bench/results/quality.md)
MIN_WORDS = 5
READER_CANDIDATES = 8  # sentences the reader reads per question, the most relevant first (bench/sweep_reader.py: 6, 8 and 12 tie on dev; 8 answers more of our seed questions)
HEADING_WORDS = 12  # a line this short without end punctuation is a headline or caption, not a claim
# Words that mark a cause or reason in English news text, whatever the story.
_CAUSE = re.compile(r"\b(because|due to|since|as a result|reasons?|rather than|in order to|so that|"
                    r"owing to)\b", re.I)
_DATE = re.compile(r"\b(1[89]\d\d|20\d\d|January|February|March|April|May|June|July|August|"
                   r"September|October|November|December|Monday|Tuesday|Wednesday|Thursday|"
                   r"Friday|Saturday|Sunday|yesterday|today)\b")
# Questions whose answer must be of a kind the sentence can be checked for: a sentence without a
# date cannot say when, one without a number cannot say how many, one without a quotation or a
# verb of saying cannot say what someone said. Asked such a question, the answer abstains
# rather than cite a sentence that is only about the same people (bench/results/quality.md).
REQUIRED_TYPES = {"date", "number", "statement"}
# "What is the name of the ambassador?" asks for a name as surely as "who" does.
_NAME_QUESTION = re.compile(r"\s*what(’s|'s| is| was| are| were)? the (full |first |last )?names? of\b", re.I)
# "Which hotel did X stay at?": the answer names a hotel, or at least someone or something by name.
_WHICH_QUESTION = re.compile(r"\s*(?:in |at |from |to |on |for |by )?which (\w+)\b", re.I)
_CONTEXT = re.compile(r"\s*\([^()]*\)\s*$")  # the names a condensed follow-up carries as context
_STATEMENT_QUESTION = re.compile(r"\s*what (did|does|do|has|have|had|will|would) .{1,80}? "
                                 r"(say|said|tell|told|tweet|write|wrote|reply|answer|announce|claim|argue)\b", re.I)
_SPEECH = re.compile(r"[“\"‘]|\b(said|says|say|told|tells|tweeted|tweets|wrote|writes|writing|stated|announced|"
                     r"claimed|argued|replied|answered|added|insisted|quoted|quotes|according to)\b", re.I)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")  # a line break alone is layout (PDF lines), not a new paragraph
# A sentence that opens by pointing back ("It was re-established in 1991.", "Most of these
# schools are vocational.", "As such, it made ...", "Specifically, members must ...") continues the
# one before it: cited alone it would not say what it is about, and the sentence before it is
# often cited without the very words that answer.
_BACK_REFERENCE = re.compile(
    r"\s*[“\"‘']?(?:(?:as such|specifically|namely|in particular|today|now|instead|however|in addition|"
    r"also|later|then|there|here|in (?:\d{4}|that year|the end))\s*,?\s*)?"
    r"(?:\w+\s+(?:of\s+)?)?(?:it|its|this|these|that|those|they|their|them|he|his|she|her|such|"
    r"the latter|the former)\b", re.I)
CONTINUATION_CHARS = 400  # a continuation longer than this is a new thought, not the rest of one
_NUMBER = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|hundred|thousand|million)\b",
                     re.I)


class ExtractiveAnswerer:
    """Scores the sentences of retrieved passages against the question and cites the best."""

    name = "extractive"

    def __init__(self, store: StoreReader, threshold: float, max_sentences: int, reader=None,
                 reader_weight: float = 0.5, reader_threshold: float = 0.0, require_types: bool = True):
        self.store = store
        self.threshold = threshold
        self.max_sentences = max_sentences
        self.scorer = RelevanceScorer(store)
        self.reader = reader
        self.reader_weight = reader_weight
        self.reader_threshold = reader_threshold
        self.reader_candidates = READER_CANDIDATES
        self.require_types = require_types

    def answer(self, question: str, condensed: str, question_vector: np.ndarray, hits: list[Hit]) -> Answer:
        sentences = self.scored_sentences(condensed, question_vector, hits)
        chosen = self._select(sentences)
        if not chosen:
            return Answer(question, True, [], passages=hits, condensed_question=condensed, abstention=ABSTENTION)
        leading = self._answering(chosen, condensed)
        if leading is None:  # about the same things, but none is an answer of the kind asked for
            return Answer(question, True, [], passages=hits, condensed_question=condensed, abstention=ABSTENTION)
        first, lead = leading
        rest = chosen[:first] + chosen[first + 1:]
        chosen = _without_overlaps([lead] + [self._with_speaker(s) for s in rest])
        return ground(self._compose(question, condensed, chosen, hits), self.store)

    def _as_lead(self, sentence: PassageSentence, question: str) -> PassageSentence:
        """The first extract must carry the answer and read as a whole: completed by the next
        sentence when it lacks the asked-for kind, with the sentences it leans on, with its speaker."""
        sentence = self._complete(sentence, question)
        return self._with_speaker(self._continued(self._antecedent(sentence)))

    def _answering(self, chosen: list[PassageSentence], question: str) -> tuple[int, PassageSentence] | None:
        """Which chosen sentence leads, and its extract: the best one if it can be an answer of the
        kind asked for ("how long" needs a number); else the most relevant one if that can: the reader
        may reorder sentences, but not talk the answer out of a sentence relevance alone would cite."""
        if not self.require_types:
            return 0, self._as_lead(chosen[0], question)
        most_relevant = max(range(len(chosen)), key=lambda i: (chosen[i].relevance, -i))
        for i in dict.fromkeys((0, most_relevant)):
            lead = self._as_lead(chosen[i], question)
            if answers_kind(question, lead.text, self._before(lead)):
                return i, lead
        return None

    def scored_sentences(self, question: str, question_vector: np.ndarray, hits: list[Hit]) -> list[PassageSentence]:
        sentences = _unique_claims(passage_sentences(self.store, hits))
        asked = _answer_type(question)
        known_names = {n.lower() for n in names(question)}
        scores = self.scorer.score(question, question_vector, sentences)
        asked_names = names(_CONTEXT.sub("", question))
        for sentence, score in zip(sentences, scores):
            fits = _has_answer_type(asked, sentence.text, known_names)
            if fits and asked == "statement" and asked_names:  # said by the person asked about
                fits = any(_mentions(sentence.text, n) for n in asked_names)
            bonus = _bonus(asked) if fits else 0.0
            sentence.relevance = sentence.score = score + bonus
        ranked = sorted(sentences, key=_order)
        if self.reader is None or not ranked:
            return ranked
        # the reader reads the most relevant sentences: it decides which of them answers
        top = ranked[:self.reader_candidates]
        for sentence, prob in zip(top, self.reader.score(question, [s.text for s in top])):
            sentence.answer_prob = float(prob)
            sentence.score = self.reader_weight * sentence.answer_prob + (1 - self.reader_weight) * sentence.relevance
        return sorted(top, key=_order) + ranked[self.reader_candidates:]

    def _select(self, ranked: list[PassageSentence]) -> list[PassageSentence]:
        if not ranked or max(s.relevance for s in ranked) < self.threshold:
            return []  # nothing retrieved is even about the question
        if ranked[0].answer_prob is not None and ranked[0].answer_prob < self.reader_threshold:
            return []  # about the same things, but nothing here answers
        best = ranked[0].score
        chosen: list[PassageSentence] = []
        for sentence in ranked:  # each article's best sentence first: every account gets heard
            if sentence.doc_id not in {c.doc_id for c in chosen} and sentence.score >= ACCOUNT_RATIO * best:
                chosen.append(sentence)
        for sentence in ranked:
            if len(chosen) >= self.max_sentences or sentence.score < EXTRA_RATIO * best:
                break
            if sentence not in chosen and not any(_redundant(sentence, c) for c in chosen):
                chosen.append(sentence)
        return chosen[:self.max_sentences]

    def _complete(self, sentence: PassageSentence, question: str) -> PassageSentence:
        """Extend a sentence that lacks what the question asks for (a name, a date, a number)
        by the next sentence of its paragraph when that one has it: 'X delivered the letter
        to his counterpart. ... the meeting with <name> ...'."""
        kind = _answer_type(question)
        known = {n.lower() for n in names(question)}
        if kind in (None, "cause", "definition") or _has_answer_type(kind, sentence.text, known):
            return sentence
        return self._with_next(sentence, lambda text: _has_answer_type(kind, text, known))

    def _with_next(self, sentence: PassageSentence, wanted) -> PassageSentence:
        """The sentence joined with the next one of its paragraph when `wanted(next sentence's text)`."""
        doc = self.store.document(sentence.doc_id)
        following = split_sentences(doc.text, sentence.end, min(len(doc.text), sentence.end + 1000))
        if not following or _PARAGRAPH_BREAK.search(doc.text, sentence.end, following[0].start):
            return sentence
        nxt = following[0]
        if not wanted(doc.text[nxt.start:nxt.end]):
            return sentence
        return replace(sentence, end=nxt.end, text=doc.text[sentence.start:nxt.end])

    def _antecedent(self, sentence: PassageSentence) -> PassageSentence:
        """The sentence with the one before it when it opens by pointing back to that one."""
        if not _BACK_REFERENCE.match(sentence.text):
            return sentence
        doc = self.store.document(sentence.doc_id)
        before = split_sentences(doc.text, max(0, sentence.start - 1000), sentence.start)
        if not before or _PARAGRAPH_BREAK.search(doc.text, before[-1].end, sentence.start):
            return sentence
        prev = before[-1]
        if prev.end - prev.start > CONTINUATION_CHARS:
            return sentence
        return replace(sentence, start=prev.start, text=doc.text[prev.start:sentence.end])

    def _continued(self, sentence: PassageSentence) -> PassageSentence:
        """The sentence with the next one of its paragraph when that one points back to it."""
        return self._with_next(sentence, lambda text: len(text) <= CONTINUATION_CHARS
                               and bool(_BACK_REFERENCE.match(text)))

    def _before(self, sentence: PassageSentence, chars: int = 300) -> str:
        """The text just before a sentence (its paragraph's earlier words), where a pronoun's
        antecedent usually is."""
        doc = self.store.document(sentence.doc_id)
        return doc.text[max(0, sentence.start - chars):sentence.start] if doc else ""

    def _with_speaker(self, sentence: PassageSentence) -> PassageSentence:
        """Quoted speech with its speaker: a quote opening a sentence takes in the sentence that
        introduces it ("…, quotes X as saying:"), and such an introduction takes in the quote's
        first sentence, so that neither is cited without the other."""
        doc = None
        if sentence.text[:1] in _OPENING_QUOTES:
            doc = self.store.document(sentence.doc_id)
            before = split_sentences(doc.text, max(0, sentence.start - 600), sentence.start)
            if before and doc.text[before[-1].start:before[-1].end].endswith(":"):
                sentence = replace(sentence, start=before[-1].start, text=doc.text[before[-1].start:sentence.end])
        if sentence.text.endswith(":"):
            doc = doc or self.store.document(sentence.doc_id)
            after = split_sentences(doc.text, sentence.end, min(len(doc.text), sentence.end + 1500))
            if after and doc.text[after[0].start:after[0].start + 1] in _OPENING_QUOTES:
                sentence = replace(sentence, end=after[0].end, text=doc.text[sentence.start:after[0].end])
        return sentence

    def _compose(self, question: str, condensed: str, chosen: list[PassageSentence], hits: list[Hit]) -> Answer:
        docs = self.store.doc_fields(sorted({s.doc_id for s in chosen}))
        order = list(dict.fromkeys(s.doc_id for s in chosen))  # articles by their best sentence
        citations, segments = [], []
        for doc_id in order:
            doc = docs[doc_id]
            parts = []
            for sentence in sorted((s for s in chosen if s.doc_id == doc_id), key=lambda s: -s.score):
                n = len(citations) + 1
                citations.append(Citation(n, doc_id, doc.title, doc.source, doc.outlet, doc.date,
                                          sentence.start, sentence.end, sentence.text, sentence.score))
                parts.append(Part(sentence.text, (n,)))
            attribution = f"According to {_attribution(doc)}" if len(order) > 1 else None
            segments.append(Segment(attribution, tuple(parts)))
        return Answer(question, False, citations, segments, hits, condensed, self.name)


_OPENING_QUOTES = "“\"‘'«"


def _without_overlaps(sentences: list[PassageSentence]) -> list[PassageSentence]:
    kept: list[PassageSentence] = []
    for s in sentences:
        if not any(k.doc_id == s.doc_id and k.start < s.end and s.start < k.end for k in kept):
            kept.append(s)
    return kept


def _order(sentence: PassageSentence):
    return (-sentence.score, sentence.chunk_rank, sentence.doc_id, sentence.start)


def _unique_claims(per_hit: list[list[PassageSentence]]) -> list[PassageSentence]:
    """Each sentence once (overlapping passages share some), keeping its best passage rank."""
    seen: dict[tuple[str, int], PassageSentence] = {}
    for sentences in per_hit:
        for sentence in sentences:
            if (sentence.doc_id, sentence.start) not in seen and _is_claim(sentence.text):
                seen[(sentence.doc_id, sentence.start)] = sentence
    return list(seen.values())


def _attribution(doc: DocFields) -> str:
    name = doc.outlet or f"“{doc.title}”"
    return f"{name} ({doc.date})" if doc.date else name


def _is_claim(text: str) -> bool:
    words = text.split()
    if len(words) < MIN_WORDS:
        return False
    return len(words) >= HEADING_WORDS or text.rstrip("”’\"')").endswith((".", "!", "?", ":"))


def answers_kind(question: str, text: str, before: str = "") -> bool:
    """Can text (the best extract, with its speaker) be an answer of the kind the question asks
    for? Only kinds that can be checked are: a date, a number, a name not already in the
    question, a thing of the kind "which X" names, and what the named person said."""
    kind = _answer_type(question)
    asked = names(_CONTEXT.sub("", question))  # names added as context may be the answer itself
    known = {n.lower() for n in asked}
    if kind in REQUIRED_TYPES and not _has_answer_type(kind, text, known):
        return False
    if _NAME_QUESTION.match(question) and not _has_new_name(text, known):
        return False  # "what is the name of ..." with no name in the extract
    if kind == "statement" and asked and not any(_mentions(text, n) or _mentions(before, n) for n in asked):
        return False  # a quotation, but of someone else (the sentence before may name the speaker: "he said")
    which = _WHICH_QUESTION.match(question)
    if which and kind is None:
        head = which.group(1)
        return bool(set(terms(head)) & set(terms(text))) or _has_new_name(text, known)
    return True


def _mentions(text: str, name: str) -> bool:
    """The person is named in text (by any word of the name: "Zarif" for "Mohammad-Javad Zarif")."""
    return any(len(w) > 2 and re.search(rf"\b{re.escape(w)}\b", text) for w in re.split(r"[\s-]+", name))


def _has_new_name(text: str, known: set[str]) -> bool:
    """A capitalized name (one word or more, not opening the sentence) that the question lacks."""
    body = text.split(None, 1)[1] if " " in text.strip() else ""
    return any(n.lower() not in known and not any(n.lower() in k or k in n.lower() for k in known)
               for n in names(body))


def _answer_type(question: str) -> str | None:
    first = question.strip().lower()
    if _NAME_QUESTION.match(question):
        return "name"
    if re.match(r"(who|what) (is|was|are|were) [A-Z]", question.strip()[:1].lower() + question.strip()[1:]) \
            and names(question):
        return "definition"
    for cue, kind in (("how many", "number"), ("how much", "number"), ("how long", "number"),
                      ("how old", "number"), ("how far", "number"), ("why", "cause"),
                      ("who", "name"), ("whom", "name"), ("when", "date"), ("what year", "date"),
                      ("on what date", "date"), ("what date", "date"), ("in what year", "date")):
        if first.startswith(cue):
            return kind
    if _STATEMENT_QUESTION.match(question):
        return "statement"
    return None


def _has_answer_type(kind: str | None, text: str, known_names: set[str]) -> bool:
    if kind == "cause":
        return bool(_CAUSE.search(text))
    if kind == "date":
        return bool(_DATE.search(text))
    if kind == "number":
        return bool(_NUMBER.search(text))
    if kind == "name":
        return any(n.lower() not in known_names and " " in n for n in names(text))
    if kind == "statement":  # what someone said: a quotation or a verb of saying
        return bool(_SPEECH.search(text))
    if kind == "definition":  # "Qalibaf, a conservative politician" / "Tavangar, the representative"
        return any(re.search(rf"{re.escape(n.split()[-1])}[’']?s?,\s+(a|an|the|who)\b", text, re.I)
                   for n in known_names)
    return False


def _redundant(a: PassageSentence, b: PassageSentence) -> bool:
    if a.text == b.text:
        return True
    ta, tb = set(terms(a.text)), set(terms(b.text))
    return bool(ta and tb) and len(ta & tb) / len(ta | tb) > 0.6


def _bonus(kind: str | None) -> float:
    # An appositive ("X, a conservative politician") is the answer to "who is X" far more
    # often than a sentence that merely names X; the other cues are weaker evidence.
    return 0.1 if kind == "definition" else 0.04
