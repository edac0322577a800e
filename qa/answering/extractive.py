"""Extractive answers: the best sentences of the retrieved passages, each cited exactly."""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from qa import messages
from qa.answering.base import ground, passage_docs
from qa.answering.span import asks_for_a_thing
from qa.retrieval.relevance import RelevanceScorer, passage_sentences, scored
from qa.settings import DEFAULT_RULES, Rule, Settings
from qa.store.base import DocFields, DocumentTexts, StoreReader
from qa.text.lexical import terms
from qa.text.nlp import entities, parse_question
from qa.text.questions import HEAD_TYPES, NAME_LABELS, STATEMENT_QUESTION, describe, understand
from qa.text.sentences import split_sentences
from qa.text.timewords import iso_day
from qa.types import Answer, Citation, Hit, Part, PassageSentence, Question, Segment

# more sentences join above this share of the best (tuned on the dev splits, see bench/results/quality.md)
EXTRA_RATIO = 0.7
MIN_WORDS = 5
HEADING_WORDS = 12  # a line this short without end punctuation is a headline or caption, not a claim
# Questions whose answer must be of a kind the sentence can be checked for: a sentence without a
# date cannot say when, one without a number cannot say how many, one without a quotation or a
# verb of saying cannot say what someone said. Asked such a question, the answer abstains
# rather than cite a sentence that is only about the same people (bench/results/quality.md).
REQUIRED_TYPES = {"date", "number", "statement"}
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
# Words a line of prose has in lower case; a line whose other words are nearly all capitalized is
# a menu, a byline or a title-case headline ("Home News Iran Politics ..."), not a claim to cite.
_LOWER_OK = {"a", "an", "the", "of", "and", "or", "for", "to", "in", "on", "at", "by", "with", "from", "as", "its",
             "is", "vs"}


@dataclass(frozen=True)
class Tuning:
    """The answering knobs that were tuned, in one place, made from Settings only (benches
    included, whose defaults and reasons live there): no knob has a default of its own here."""

    threshold: float  # abstain below this relevance of the best sentence
    max_sentences: int
    reader_weight: float
    reader_threshold: float
    reader_sentences: int
    require_types: bool
    rules: frozenset[Rule]  # the hand rules applied (Settings.answer_rules)
    type_weight: float  # a sentence without an entity of the expected type keeps this share of its score
    typed_sentences: int  # the best sentences whose entities are read for that
    reader_skip_margin: float  # relevance alone decides when the best leads the next by this much
    span_check_sentences: int  # the best sentences the span reader also reads (0: none)
    span_check_weight: float  # how much its chance that one holds an answer adds to their score
    term_weights: str  # how a question's words are weighed in relevance (Settings.term_weights)

    @classmethod
    def from_settings(cls, settings: Settings) -> Tuning:
        answer, reader = settings.answer, settings.reader
        return cls(answer.abstain_threshold, answer.max_answer_sentences, reader.reader_weight,
                   reader.reader_threshold, reader.reader_sentences, answer.answer_type_check, answer.rules,
                   type_weight=answer.answer_type_weight, typed_sentences=answer.typed_sentences,
                   reader_skip_margin=reader.reader_skip_margin, term_weights=settings.retrieval.term_weights,
                   span_check_sentences=reader.span_check_sentences, span_check_weight=reader.span_check_weight)


class ExtractiveAnswerer:
    """Scores the sentences of retrieved passages against the question and cites the best."""

    name = "extractive"

    def __init__(self, store: StoreReader, tuning: Tuning, reader=None, spans=None):
        self.store = store
        self.tuning = tuning
        self.scorer = RelevanceScorer(store, tuning.term_weights)
        self.reader = reader
        self.spans = spans  # the span reader, when it checks the best sentences (span_check_sentences)

    def answer(self, question: Question, passages: list[Hit], on_token=None) -> Answer:
        return self.answer_from(question, passages, self.scored_sentences(question, passages))

    def answer_from(self, question: Question, passages: list[Hit], ranked: list[PassageSentence]) -> Answer:
        """The answer from sentences already scored (`scored_sentences`): an LLM answerer that
        falls back does not score them twice."""
        texts = DocumentTexts(self.store)
        chosen = self._select(_naming(question, ranked, texts) if Rule.NAMED in self.tuning.rules else ranked)
        leading = self._answering(chosen, question, texts) if chosen else None
        if leading is None:  # nothing is about the question, or nothing answers of the kind asked for
            return Answer(question.asked, True, (), passages=tuple(passages), condensed_question=question.condensed,
                          abstention=_missing(question) if chosen else messages.ABSTENTION, scored=tuple(ranked))
        first, lead = leading
        rest = chosen[:first] + chosen[first + 1:]
        if Rule.QUOTES in self.tuning.rules:
            rest = [_with_speaker(s, texts) for s in rest]
        chosen = _without_overlaps([lead] + rest)
        composed = self._compose(question, chosen, passages)
        return ground(replace(composed, scored=tuple(ranked)), self.store, texts)

    def _as_lead(self, sentence: PassageSentence, question: Question, texts: DocumentTexts) -> PassageSentence:
        """The first extract must carry the answer and read as a whole: completed by the next
        sentence when it lacks the asked-for kind, with the sentences it leans on, with its speaker."""
        rules = self.tuning.rules
        if Rule.COMPLETE in rules:
            sentence = self._complete(sentence, question, texts)
        if Rule.CONTEXT in rules:
            sentence = _continued(_antecedent(sentence, texts), texts)
        return _with_speaker(sentence, texts) if Rule.QUOTES in rules else sentence

    def _answering(self, chosen: list[PassageSentence], question: Question,
                   texts: DocumentTexts) -> tuple[int, PassageSentence] | None:
        """Which chosen sentence leads, and its extract: the best one if it can be an answer of the
        kind asked for ("how long" needs a number); else the most relevant one if that can: the reader
        may reorder sentences, but not talk the answer out of a sentence relevance alone would cite."""
        if not self.tuning.require_types:
            return 0, self._as_lead(chosen[0], question, texts)
        most_relevant = max(range(len(chosen)), key=lambda i: (chosen[i].relevance, -i))
        for i in dict.fromkeys((0, most_relevant)):
            lead = self._as_lead(chosen[i], question, texts)
            before = texts(lead.doc_id)
            if fits_question(question, lead.text, before[max(0, lead.start - 300):lead.start], self.tuning.rules):
                return i, lead
        return None

    def scored_sentences(self, question: Question, passages: list[Hit]) -> list[PassageSentence]:
        """The passages' sentences, best first: relevance (scored once, by the reranker when it ran),
        then the reader's judgement of the most relevant ones."""
        sentences = _unique_claims(self._passage_sentences(question, passages), Rule.NOT_PROSE in self.tuning.rules)
        timely = _time_weights(question, passages, self.tuning.threshold)  # relevance stays: only the order feels time
        relevant = [replace(s, relevance=s.base, answer_prob=None) for s in sentences]
        ranked = sorted((replace(s, score=s.base * timely(s)) for s in relevant), key=_order)
        if self.reader is None or not ranked:
            return ranked
        top = ranked[:self.tuning.reader_sentences]  # the reader decides which of these answers
        if not _decisive(ranked, self.tuning.reader_skip_margin):
            weight = self.tuning.reader_weight
            probs = [float(p) for p in self.reader.score(question.condensed, [s.text for s in top])]
            top = sorted([replace(s, answer_prob=p, score=(weight * p + (1 - weight) * s.relevance) * timely(s))
                          for s, p in zip(top, probs)] + top[len(probs):], key=_order)
        typed = self.tuning.typed_sentences
        top = sorted(self._weigh_types(question, top[:typed]) + top[typed:], key=_order)
        return self._span_checked(question, top) + ranked[self.tuning.reader_sentences:]

    def _span_checked(self, question: Question, top: list[PassageSentence]) -> list[PassageSentence]:
        """The best few sentences read again by the span reader: its chance that a sentence holds an
        answer is added to their score. The sentence reader judges a sentence as a whole and often
        prefers a general one about the same event; the span reader must find the words that answer."""
        count, weight = self.tuning.span_check_sentences, self.tuning.span_check_weight
        if self.spans is None or not count or not top or top[0].answer_prob is None:  # the reader did not read
            return top
        if not asks_for_a_thing(question.condensed):  # why, how: the answer is an explanation, not a span
            return top
        best, texts = top[:count], DocumentTexts(self.store)
        # each read as it would be cited if it led: with its speaker, the sentence it leans on, the
        # sentence before that names what it describes
        chances = self.spans.holds_answer(question.condensed, [self._as_lead(s, question, texts).text for s in best])
        best = [replace(s, score=s.score + weight * c) for s, c in zip(best, chances)]
        return sorted(best, key=_order) + top[count:]

    def _weigh_types(self, question: Question, best: list[PassageSentence]) -> list[PassageSentence]:
        """A sentence that holds no entity of the type the question asks for (no date for "when",
        no person for "which official") other than the question's own cannot be its answer
        alone: it keeps `type_weight` of its score."""
        if not question.expects or self.tuning.type_weight >= 1.0:
            return best
        entities([s.text for s in best])  # read together: a third cheaper than one by one
        texts = DocumentTexts(self.store)
        described = Rule.COMPLETE in self.tuning.rules  # such a sentence is cited with its neighbour
        return [s if has_expected(question, s.text) or _speaker_answers(question, s, texts)
                or (described and _described_answer(question, s, texts))
                else replace(s, score=s.score * self.tuning.type_weight) for s in best]

    def _passage_sentences(self, question: Question, passages: list[Hit]) -> list[list[PassageSentence]]:
        """What the reranker scored, when it ran; else the sentences are built and scored here."""
        if all(h.sentences for h in passages):
            return [list(h.sentences) for h in passages]
        return scored(passage_sentences(self.store, passages), self.scorer, question.condensed, question.vector)

    def _select(self, ranked: list[PassageSentence]) -> list[PassageSentence]:
        tuning = self.tuning
        # Only a sentence relevant enough on its own is cited. It used to be enough that the most
        # relevant sentence of all passed the threshold: then one document about something else,
        # added to the corpus, could turn an abstention into an answer citing a sentence that is
        # not relevant enough (bench/results/growth.md).
        relevant = [s for s in ranked if s.relevance >= tuning.threshold]
        if not relevant:
            return []  # nothing retrieved is even about the question
        if relevant[0].answer_prob is not None and relevant[0].answer_prob < tuning.reader_threshold:
            return []  # about the same things, but nothing here answers
        best, chosen = relevant[0].score, [relevant[0]]  # the others may complete it, as before
        for sentence in ranked if Rule.EXTRAS in tuning.rules else []:
            if len(chosen) >= tuning.max_sentences or sentence.score < EXTRA_RATIO * best:
                break
            if sentence not in chosen and not any(_redundant(sentence, c) for c in chosen):
                chosen.append(sentence)
        return chosen[:tuning.max_sentences]

    def _complete(self, sentence: PassageSentence, question: Question, texts: DocumentTexts) -> PassageSentence:
        """Extend a sentence that lacks what the question asks for (a name, a date, a number)
        by the next sentence of its paragraph when that one has it: 'X delivered the letter
        to his counterpart. ... the meeting with <name> ...'; one whose subject only describes
        the answer ('The 23-year-old Italian won ...') by the sentence before that names it, the
        one place an extract crosses a paragraph break."""
        if question.kind == "statement" and not _SPEECH.search(sentence.text):
            # "Lind toured the harbour." then "“We will pay for it,” he said.": what he said comes along
            return _with_next(sentence, texts, lambda text: bool(_SPEECH.search(text)))
        if not question.expects:
            return sentence
        kinds = _described_kinds(question, sentence.text)
        if kinds:
            # "The 23-year-old Italian cruised to the title.": who it was, the sentence before says
            # (often the paragraph before: a news paragraph is often one sentence)
            sentence = _with_previous(sentence, texts, _names_of_kind(question, kinds), paragraphs=True)
        by_role = "PERSON" in question.expects and _ROLE_REFERENCE.search(sentence.text)
        if has_expected(question, sentence.text) and not by_role:
            return sentence
        return _with_next(sentence, texts, lambda text: has_expected(question, text))

    def _compose(self, question: Question, chosen: list[PassageSentence], passages: list[Hit]) -> Answer:
        docs = passage_docs(passages, self.store, {s.doc_id for s in chosen})
        order = list(dict.fromkeys(s.doc_id for s in chosen))  # articles by their best sentence
        order, dated = _in_story_order(order, docs, self.store.stories_of(order))
        citations: list[Citation] = []
        segments: list[Segment] = []
        for doc_id in order:
            doc = docs[doc_id]
            parts = []
            for sentence in sorted((s for s in chosen if s.doc_id == doc_id), key=lambda s: -s.score):
                n = len(citations) + 1
                citations.append(Citation(n, doc_id, doc.title, doc.source, doc.outlet, doc.date,
                                          sentence.start, sentence.end, sentence.text, sentence.score))
                # shown as one paragraph: an extract taking in the paragraph before must not read
                # back (qa.codec.answer_from_prose) as two, the first without its marker
                parts.append(Part(_PARAGRAPH_BREAK.sub(" ", sentence.text), (n,)))
            attribution: str | None
            if doc_id in dated and doc.date:
                attribution = f"On {_day(doc.date)}, {doc.outlet or f'“{doc.title}”'} reported"
            else:
                attribution = f"According to {_attribution(doc)}" if len(order) > 1 else None
            segments.append(Segment(attribution, tuple(parts)))
        return Answer(question.asked, False, tuple(citations), tuple(segments), tuple(passages), question.condensed,
                      self.name)


# "…delivered the letter to his Russian counterpart." names a person only by a role whose name
# the next sentence usually gives: asked who, the extract takes that sentence in too.
_ROLE_REFERENCE = re.compile(
    r"\b(?:his|her|their|its)\s+(?:[\w-]+\s+){0,2}?(?:" + "|".join(sorted(
        {h for h, labels in HEAD_TYPES.items() if labels == {"PERSON"}} | {
            "counterpart", "successor", "predecessor", "deputy", "aide", "adviser", "advisor", "rival", "opponent",
            "partner", "colleague", "friend", "boss", "host", "guest", "envoy", "emissary"})) + r")s?\b", re.I)


def _naming(question: Question, ranked: list[PassageSentence], texts: DocumentTexts) -> list[PassageSentence]:
    """The sentences whose documents mention every name the question holds (people, places,
    organisations, events: not nationalities, "American"), a name by one of its words at the
    start of a word ("Putin" for "Vladimir Putin", "Iran" in "Iranian"). A sentence about other
    people that shares the question's other words is not its answer, however many such
    documents the corpus holds: "How many followers does Tavangar have on Twitter?" is not
    answered by someone else's follower count (bench/results/growth.md)."""
    if not question.names:
        return ranked
    names = {e.text for e in parse_question(question.condensed).entities if e.label in NAME_LABELS - {"NORP"}}
    wanted = [re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + ")", re.I)
              for words in ([w for w in _WORD.findall(n) if len(w) > 2] for n in names) if words]
    if not wanted:
        return ranked
    mentions: dict[str, bool] = {}

    def mentioned(doc_id: str) -> bool:
        if doc_id not in mentions:
            text = texts(doc_id)
            mentions[doc_id] = all(name.search(text) for name in wanted)
        return mentions[doc_id]

    return [s for s in ranked if mentioned(s.doc_id)]


_WORD = re.compile(r"\w+")


def _missing(question: Question) -> str:
    """What an abstention for want of the asked-for kind says: what was looked for."""
    wanted = {"statement": "statement by them", "date": "date", "number": "number"}.get(
        question.kind or "", describe(question.expects))
    return messages.missing_kind(wanted)


def _antecedent(sentence: PassageSentence, texts: DocumentTexts) -> PassageSentence:
    """The sentence with the one before it when it opens by pointing back to that one."""
    if not _BACK_REFERENCE.match(sentence.text):
        return sentence
    return _with_previous(sentence, texts, lambda _text: True)


def _continued(sentence: PassageSentence, texts: DocumentTexts) -> PassageSentence:
    """The sentence with the next one of its paragraph when that one points back to it."""
    return _with_next(sentence, texts, lambda text: len(text) <= CONTINUATION_CHARS
                      and bool(_BACK_REFERENCE.match(text)))


def _with_speaker(sentence: PassageSentence, texts: DocumentTexts) -> PassageSentence:
    """Quoted speech with its speaker: a quote opening a sentence takes in the sentence that
    introduces it ("…, quotes X as saying:"), and such an introduction takes in the quote's
    first sentence, so that neither is cited without the other."""
    if sentence.text[:1] in _OPENING_QUOTES:
        text = texts(sentence.doc_id)
        before = split_sentences(text, max(0, sentence.start - 600), sentence.start)
        previous = text[before[-1].start:before[-1].end] if before else ""
        if previous.endswith(":") or (previous and _unnamed_speaker(sentence.text)
                                      and len(previous) <= CONTINUATION_CHARS
                                      and not _PARAGRAPH_BREAK.search(text, before[-1].end, sentence.start)
                                      and any(e.label == "PERSON" for e in entities([previous])[0])):
            # "…the minister said:" / "Volodin met him. “We agreed,” he said.": the speaker comes along
            sentence = replace(sentence, start=before[-1].start, text=text[before[-1].start:sentence.end])
    if sentence.text.endswith(":"):
        text = texts(sentence.doc_id)
        after = split_sentences(text, sentence.end, min(len(text), sentence.end + 1500))
        if after and text[after[0].start:after[0].start + 1] in _OPENING_QUOTES:
            sentence = replace(sentence, end=after[0].end, text=text[sentence.start:after[0].end])
    return sentence


def _speaker_answers(question: Question, sentence: PassageSentence, texts: DocumentTexts) -> bool:
    """A quotation introduced by its speaker ("X, the representative of Tehran, wrote: “The news
    about the meeting ...”"): the speaker is part of what it says, so "which representative ...?"
    is answered by the quote with its introduction (which is how it is cited: `_with_speaker`)."""
    if sentence.text[:1] not in _OPENING_QUOTES:
        return False
    spoken = _with_speaker(sentence, texts)
    return spoken.text != sentence.text and has_expected(question, spoken.text)


def _described_answer(question: Question, sentence: PassageSentence, texts: DocumentTexts) -> bool:
    """A sentence naming the answer only by description, whose neighbour names it ("Qalibaf
    delivered the letter to his Russian counterpart." then "... Vyacheslav Volodin ..."; "The
    23-year-old Italian won." after "... Jannik Sinner ..."): it is cited with that neighbour
    (`ExtractiveAnswerer._complete`), so it answers as well as a sentence naming the answer."""
    kinds = _described_kinds(question, sentence.text)
    if kinds and _with_previous(sentence, texts, _names_of_kind(question, kinds), paragraphs=True) is not sentence:
        return True
    return "PERSON" in question.expects and bool(_ROLE_REFERENCE.search(sentence.text)) \
        and _with_next(sentence, texts, _names_of_kind(question, frozenset({"PERSON"}))) is not sentence


_PRONOUN_SPEAKER = re.compile(r"[,”\"’]\s*(?:he|she|they)\s+(?:said|says|added|told|wrote|tweeted|insisted|stressed)\b",
                              re.I)


def _unnamed_speaker(quote: str) -> bool:
    """A quotation attributed only by a pronoun (“…,” he said), or not attributed at all."""
    return bool(_PRONOUN_SPEAKER.search(quote)) or not _SPEECH.search(quote.split("”")[-1] if "”" in quote else "")


_FIELD_LINE = re.compile(r"\s*[A-Z][\w-]*(?: [\w-]+)?:\s")  # "Date: 2025-01-26", a header line, is no sentence


# what a news sentence may name by description ("the company", "the 23-year-old Italian"); a date or
# an amount is not described that way ("The season finale drew 12 million viewers" answers how many)
_NAMED_KINDS = frozenset({"PERSON", "ORG", "GPE", "NORP", "LOC", "FAC", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW"})


def _described_kinds(question: Question, text: str) -> frozenset[str]:
    """The asked-for kinds the sentence's subject names only by a description: it opens with
    "the", its head noun is one of those kinds ("The company" asked which company; "The
    23-year-old Italian", a nationality, asked who) and nothing of them is named before its verb
    ("The winner, Jannik Sinner, said" names him). News names someone once, then describes them."""
    wanted = question.expects & _NAMED_KINDS
    if not wanted or not text.startswith("The ") or not _may_describe(text, wanted):
        return frozenset()
    parsed = parse_question(text[:200])
    tokens = parsed.tokens
    verb = next((i for i, t in enumerate(tokens) if i and (t.tag.startswith("VB") or t.tag == "MD")), None)
    if verb is None or answer_entities(question, text[:tokens[verb].start]):
        return frozenset()
    clause = next((i for i, t in enumerate(tokens[:verb]) if t.tag == ","), verb)  # "The Italian, who …"
    head = next((t for t in reversed(tokens[1:clause]) if t.tag in ("NN", "NNS", "NNP", "NNPS")), None)
    if head is None:
        return frozenset()
    kinds = HEAD_TYPES.get(head.text.lower(), frozenset()) & wanted
    if "PERSON" in wanted and any(e.label == "NORP" and e.start <= head.start < e.end
                                  for e in parsed.entities):
        kinds |= {"PERSON"}
    return frozenset(kinds)


def _may_describe(text: str, wanted: frozenset[str]) -> bool:
    """Before parsing (about 5 ms a sentence): one of the opening words is a noun of a wanted kind
    ("company"), or a capitalised word that may be a nationality when a person is wanted."""
    opening = text.split()[1:8]
    if any(HEAD_TYPES.get(w.strip(",.;:’'\"").lower(), frozenset()) & wanted for w in opening):
        return True
    return "PERSON" in wanted and any(w[:1].isupper() for w in opening)


def _names_of_kind(question: Question, kinds: frozenset[str]):
    """Whether a neighbouring sentence names an answer of one of `kinds`: a claim of the text,
    not a header line, a byline or a headline."""
    def names(text: str) -> bool:
        return _is_claim(text) and not _FIELD_LINE.match(text) \
            and any(e.label in kinds for e in answer_entities(question, text))

    return names


def _with_previous(sentence: PassageSentence, texts: DocumentTexts, wanted,
                   paragraphs: bool = False) -> PassageSentence:
    """The sentence joined with the one before it in its paragraph (or the last of the paragraph
    before, with `paragraphs`) when `wanted(that one's text)` and it is short enough to be read
    as the same thought."""
    text = texts(sentence.doc_id)
    before = split_sentences(text, max(0, sentence.start - 1000), sentence.start)
    if not before or (not paragraphs and _PARAGRAPH_BREAK.search(text, before[-1].end, sentence.start)):
        return sentence
    prev = before[-1]
    if prev.end - prev.start > CONTINUATION_CHARS or not wanted(text[prev.start:prev.end]):
        return sentence
    return replace(sentence, start=prev.start, text=text[prev.start:sentence.end])


def _with_next(sentence: PassageSentence, texts: DocumentTexts, wanted) -> PassageSentence:
    """The sentence joined with the next one of its paragraph when `wanted(next sentence's text)`."""
    text = texts(sentence.doc_id)
    following = split_sentences(text, sentence.end, min(len(text), sentence.end + 1000))
    if not following or _PARAGRAPH_BREAK.search(text, sentence.end, following[0].start):
        return sentence
    nxt = following[0]
    if not wanted(text[nxt.start:nxt.end]):
        return sentence
    return replace(sentence, end=nxt.end, text=text[sentence.start:nxt.end])


_OPENING_QUOTES = "“\"‘'«"


def _in_story_order(order: list[str], docs: dict[str, DocFields],
                    stories: dict[str, str]) -> tuple[list[str], set[str]]:
    """Cited documents with the copies of one story together, where the story first appears, in
    date order; the documents of a story cited from several dates are to be dated one by one."""
    groups: dict[str, list[str]] = {}
    for doc_id in order:
        groups.setdefault(stories.get(doc_id, doc_id), []).append(doc_id)
    result, dated = [], set()
    for members in groups.values():
        if len({docs[d].date for d in members}) > 1 and all(docs[d].date for d in members):
            members = sorted(members, key=lambda d: (docs[d].date, order.index(d)))
            dated.update(members)
        result += members
    return result, dated


def _day(iso: str) -> str:
    """5 Feb 2025"""
    day = iso_day(iso)
    return f"{day.day} {day:%b %Y}" if day else iso


def _time_weights(question: Question, passages: list[Hit], floor: float):
    """The share of its score a sentence keeps for its document's date (qa.retrieval.timeprior);
    a sentence below the relevance floor gets the least share any passage here gets: time never
    lifts one that cannot answer over one that can (and changes nothing when every passage's
    date weighs the same)."""
    prior = question.prior
    if prior is None or not prior.active or not passages:
        return lambda sentence: 1.0
    weights = {h.doc_id: prior.weight(getattr(h.doc, "date", None)) for h in passages}
    least = min(weights.values())
    return lambda s: weights.get(s.doc_id, 1.0) if s.relevance >= floor else least


def _decisive(ranked: list[PassageSentence], margin: float) -> bool:
    """Relevance alone decides: the best sentence leads the next by at least `margin` of score, so
    the reader is not run (the type check still is: it is what a "when" question's date needs)."""
    return len(ranked) > 1 and ranked[0].score - ranked[1].score >= margin


def _without_overlaps(sentences: list[PassageSentence]) -> list[PassageSentence]:
    kept: list[PassageSentence] = []
    for s in sentences:
        if not any(k.doc_id == s.doc_id and k.start < s.end and s.start < k.end for k in kept):
            kept.append(s)
    return kept


def _order(sentence: PassageSentence):
    return (-sentence.score, sentence.chunk_rank, sentence.doc_id, sentence.start)


def _unique_claims(per_hit: list[list[PassageSentence]], prose_only: bool = True) -> list[PassageSentence]:
    """Each sentence once (overlapping passages share some), keeping its best passage rank."""
    seen: dict[tuple[str, int], PassageSentence] = {}
    for sentences in per_hit:
        for sentence in sentences:
            if (sentence.doc_id, sentence.start) not in seen and _is_claim(sentence.text, prose_only):
                seen[(sentence.doc_id, sentence.start)] = sentence
    return list(seen.values())


def _attribution(doc: DocFields) -> str:
    name = doc.outlet or f"“{doc.title}”"
    return f"{name} ({doc.date})" if doc.date else name


def _is_claim(text: str, prose_only: bool = True) -> bool:
    words = text.split()
    if len(words) < MIN_WORDS or (prose_only and _not_prose(words)):
        return False
    return len(words) >= HEADING_WORDS or text.rstrip("”’\"')").endswith((".", "!", "?", ":"))


def _not_prose(words: list[str]) -> bool:
    """Navigation, bylines and title-case headlines: (nearly) every word capitalized or a separator."""
    content = [w for w in words if w.lower() not in _LOWER_OK and any(c.isalpha() for c in w)]
    capitalized = sum(w[0].isupper() or not w[0].isalpha() for w in content)
    return len(content) >= MIN_WORDS and capitalized >= 0.85 * len(content)


def answers_kind(question: str, text: str, before: str = "") -> bool:
    """fits_question for a question given as text (tests and benches)."""
    return fits_question(understand(question, question, None), text, before)


def fits_question(question: Question, text: str, before: str = "",
                  rules: frozenset[Rule] = DEFAULT_RULES) -> bool:
    """Can text (the best extract, with its speaker) be an answer of the kind the question asks
    for? Only kinds that can be checked are: an entity of the expected type (a date for "when",
    a number for "how many", a name for "what is the name of") that the question does not
    already hold, and what the named person said. `before` is the text just before it (a
    pronoun's antecedent, a quotation's speaker, is usually there)."""
    kind = question.kind
    if Rule.KINDS in rules and kind in REQUIRED_TYPES - {"statement"} and not has_expected(question, text):
        return False
    if Rule.TYPED in rules and kind == "name" and not has_expected(question, text):
        return False  # asked who / where / which official, and the extract names none
    if Rule.KINDS in rules and question.wants_name and not has_expected(question, text):
        return False  # "what is the name of ..." with no name in the extract
    if Rule.SPEAKER in rules and kind == "statement" and not _SPEECH.search(text):
        return False
    speakers = _speakers(question) if Rule.SPEAKER in rules and kind == "statement" else ()
    if speakers and not any(_mentions(text, n) or _mentions(before, n) for n in speakers):
        return False  # a quotation, but of someone else (the sentence before may name the speaker: "he said")
    return True


def _speakers(question: Question) -> tuple[str, ...]:
    """Who a "what did X say" question asks about: the names before its speech verb ("What did Zarif
    say about Qalibaf's trip?": Zarif, not Qalibaf); none when no name is there ("What did the
    ministry say about Qalibaf's trip?": any speaker's words may answer)."""
    opening = STATEMENT_QUESTION.match(question.condensed)
    if opening is None:
        return question.names
    return tuple(n for n in question.names if re.search(rf"\b{re.escape(n)}\b", opening.group(0)))


def _mentions(text: str, name: str) -> bool:
    """The person is named in text (by any word of the name: "Zarif" for "Mohammad-Javad Zarif")."""
    return any(len(w) > 2 and re.search(rf"\b{re.escape(w)}\b", text) for w in re.split(r"[\s-]+", name))


def answer_entities(question: Question, text: str):
    """The entities of text of the type the question expects, other than the question's own."""
    known = question.known
    return [e for e in entities([text])[0]
            if e.label in question.expects and e.text.lower() not in known
            and (e.label != "NORP" or e.text.endswith("s"))  # "Russian" describes; "Russians" may be who
            # asked how many / long / old, a date counts only as a duration ("two weeks", not "2021")
            and (question.kind != "number" or e.label not in ("DATE", "TIME") or bool(_DURATION.search(e.text)))
            and not any(e.text.lower() in k or k in e.text.lower() for k in known)]


_DURATION = re.compile(r"\b(?:seconds?|minutes?|hours?|days?|nights?|weeks?|months?|years?|decades?|centuries|"
                       r"century)\b|-year-old\b|\bold\b", re.I)


def has_expected(question: Question, text: str) -> bool:
    """Text holds an answer of the expected type (always true for an untyped question)."""
    if not question.expects:
        return True
    return bool(answer_entities(question, text))


def _redundant(a: PassageSentence, b: PassageSentence) -> bool:
    if a.text == b.text:
        return True
    ta, tb = set(terms(a.text)), set(terms(b.text))
    return bool(ta and tb) and len(ta & tb) / len(ta | tb) > 0.6

