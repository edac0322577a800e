"""Follow-ups made into real questions, from the conversation as data (qa.text: question understanding).

Each earlier exchange is read as data: the question as it was understood (the ask result's
`condensed_question`), its short answer, and the first cited extract. A follow-up's pronouns are
resolved from the entities those hold ("Who did he meet instead?" after "Why didn't Putin meet
Qalibaf?" -> "Who did Qalibaf meet instead of Putin?"), "there" from the places, "it" from the
thing asked about; an elliptical turn ("Since when?", "And what about Biden?") takes the rest of
the previous question. Nothing is appended as a list of words: either a reference is resolved in
place, or the question stays as asked.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from qa.text.nlp import Parsed, entities, parse_question
from qa.types import Turn

PERSONAL = {"he": "subject", "she": "subject", "him": "object", "his": "possessive", "hers": "possessive",
            "her": "object"}
GROUP = {"they": "subject", "them": "object", "their": "possessive"}
THING = {"it": "subject", "its": "possessive"}
_PERSON_PRONOUN = re.compile(r"\b(?:" + "|".join(sorted(PERSONAL | GROUP)) + r")\b", re.I)
PEOPLE_LABELS = ("PERSON",)
GROUP_LABELS = ("ORG", "NORP", "GPE")
PLACE_LABELS = ("GPE", "LOC", "FAC")
THING_LABELS = ("EVENT", "WORK_OF_ART", "PRODUCT", "LAW", "ORG")
_AMOUNTS = ("DATE", "TIME", "CARDINAL", "ORDINAL", "QUANTITY", "MONEY", "PERCENT")  # never a pronoun's referent
_WH_WORDS = ("who", "whom", "whose", "what", "which", "when", "where", "why", "how")
_ABOUT = re.compile(r"^\s*(?i:and\s+)?(?i:what|how)\s+(?i:about)\s+(?P<x>.+?)\s*\??\s*$"
                    r"|^\s*(?i:and)\s+(?P<y>(?:the\s+)?[A-Z][\w.’'-]*(?:\s+[A-Z][\w.’'-]*){0,3})\s*\??\s*$")
# "it" that points at nothing: "Is it true that ...", "it seems", "Was it reported ..."
_PLEONASTIC_IT = re.compile(r"\bit\s+(?:is|was|'s|seems|seemed|appears|appeared|looks|would be|will be)\s+"
                            r"(?:\w+\s+){0,2}?(?:that|to|true|false|likely|possible|clear|said|reported)\b", re.I)
# A turn made only of a question phrase: "Since when?", "Why?", "How many?", "Where exactly?"
# ... or a question phrase with its noun: "Over what period?", "And how many workers?", "For which team?"
_BARE = re.compile(r"^\s*(?:and\s+|but\s+|so\s+)?(?P<wh>(?:since|until|from|for|by|in|over|during|at|to|with|"
                   r"against|between|after|before)?\s*(?:when|where|why|how(?:\s+(?:many|much|long|old|far|often)"
                   r"(?:\s+[a-z]+)?)?|who|whom|what(?:\s+[a-z]+)?|which(?:\s+[a-z]+)?)(?:\s+(?:exactly|then|instead))?)"
                   r"\s*\??\s*$", re.I)
_PHRASE_TAGS = ("JJ", "NN", "NNS", "NNP", "NNPS", "HYPH", "VBN", "CC")  # inside "the long-awaited minerals deal"
_OBJECT_AUX = {"did", "does", "do", "has", "have", "had", "will", "would"}  # "What did X give?" asks for a thing
_WHY_NOT = re.compile(r"^\s*(?:and\s+|but\s+|so\s+)?(?P<wh>why)\s+not\s*\??\s*$", re.I)
_NEGATED = {"is": "isn't", "are": "aren't", "was": "wasn't", "were": "weren't", "do": "don't", "does": "doesn't",
            "did": "didn't", "has": "hasn't", "have": "haven't", "had": "hadn't", "will": "won't",
            "would": "wouldn't", "can": "can't", "could": "couldn't", "should": "shouldn't"}
_AUX = {"is", "are", "was", "were", "do", "does", "did", "has", "have", "had", "will", "would", "can", "could",
        "should", "must", "may", "might"}
_ACKNOWLEDGEMENTS = {"ok", "okay", "k", "thanks", "thank", "you", "thx", "ty", "great", "cool", "nice", "good",
                     "got", "it", "yes", "no", "yeah", "yep", "nope", "sure", "hm", "hmm", "lol", "bye", "hi",
                     "hello", "hey", "wow", "fine", "alright", "right", "perfect", "awesome", "much", "very", "so"}


@dataclass(frozen=True)
class Exchange:
    """One earlier question, as understood, and what answered it."""

    question: str
    short_answer: str | None
    extract: str  # the first cited extract, or the answer's plain text
    others: tuple[str, ...] = ()  # the other cited extracts, in order
    docs: tuple[str, ...] = ()  # the documents its answer cited (none known for an answer given as text only)


def exchanges(history: list[Turn], read=None) -> list[Exchange]:
    """The conversation as data: each user turn, resolved against the turns before it unless its
    answer says how it was understood, with the answer that followed it."""
    found: list[Exchange] = []
    for i, turn in enumerate(history):
        if turn.role != "user" or not turn.content.strip():
            continue
        reply = next((t for t in history[i + 1:i + 2] if t.role == "assistant"), None)
        result = _result_of(reply) if reply else None
        understood = result.condensed_question if result else None
        question = understood if understood and understood.strip() else _resolved(turn.content, found, read)
        short = result.short_answer.text if result and result.short_answer else None
        quotes = [c.quote for c in result.citations] if result else []  # none: an abstention names nobody
        docs = tuple(dict.fromkeys(c.doc_id for c in result.citations if c.doc_id)) if result else ()
        found.append(Exchange(question, short, quotes[0] if quotes else "", tuple(quotes[1:]), docs))
    return found


def _result_of(reply: Turn):
    """The answer an assistant turn came from; one known only by its text (an OpenAI client's
    history) is read back into its cited parts by the codec."""
    if reply.result is None and "[" in reply.content:
        from qa.codec import answer_from_prose

        return answer_from_prose(reply.content)
    return reply.result


def condense(question: str, history: list[Turn], read=None) -> str:
    """The question as it would be asked without the conversation (unchanged when it stands alone).
    `read(question, text, spans)` (optional: the span reader's `choose`) says which words of
    `text` answer `question`, among `spans` when given, and how likely: who answered an earlier
    "who" question when its extracts name several people and the answer carried no short answer."""
    return condensed_from(question, exchanges(history, read), read)


def condensed_from(question: str, earlier: list[Exchange], read=None, support=None) -> str:
    """`condense` over the conversation already read as exchanges (`exchanges`). `support(referent,
    rest)` (optional: qa.retrieval.relevance.support_within over the conversation's documents) says
    how much of what the follow-up asks its documents say of a possible referent: a pronoun goes to
    the referent they clearly speak of that way, when it is not the one the rules prefer."""
    return _resolved(question, earlier, _remembered(read), support)


def _remembered(read):
    """`read` answering each (question, text, spans) once: the rules and the referents offered
    beside them may ask the span reader the same thing."""
    if read is None:
        return None
    readings: dict = {}

    def remembered(question: str, text: str, spans):
        key = (question, text, tuple(spans) if spans is not None else None)
        if key not in readings:
            readings[key] = read(question, text, spans)
        return readings[key]

    return remembered


_LEANING = re.compile(r"\b(?:he|him|his|she|her|hers|it|its|they|them|their|this|that|these|those|there|then|"
                      r"the same|the other|instead|else|also|too)\b", re.I)


def context_of(question: str, condensed: str, earlier: list[Exchange]) -> str | None:
    """What an unresolved follow-up is read with: the previous question as understood, when the
    follow-up leans on the conversation (a pronoun, "that", "there", "instead", an elliptical
    phrase) and nothing in it could be resolved in place; None when it stands alone or was
    resolved. Retrieval and reading then use both; the question shown stays the user's."""
    if condensed != question or not earlier or not leans_on_conversation(question):
        return None
    return earlier[-1].question


def conversation_documents(earlier: list[Exchange]) -> tuple[str, ...]:
    """The documents the conversation's answers cited, latest first: what an unresolved follow-up
    can be about (a "he" nothing in the conversation names is not someone in another story)."""
    return tuple(dict.fromkeys(d for exchange in reversed(earlier) for d in exchange.docs))


def names_someone_unnamed(question: str) -> bool:
    """A person or group named only by a pronoun ("Why did he resign?"), whatever came before."""
    return bool(_PERSON_PRONOUN.search(question))


def leans_on_conversation(question: str) -> bool:
    """The question points back (a pronoun, "that", "there", "instead") or is an elliptical phrase
    ("Why not?", "And how many workers?") or a few words with no name of its own."""
    short = len(re.findall(r"[^\W_]+", question)) <= 4 and not parse_question(question).entities
    return bool(_LEANING.search(question) or _BARE.match(question) or _WHY_NOT.match(question) or short) \
        and not _PLEONASTIC_IT.search(question)


def no_question_content(question: str, known_term) -> bool:
    """A turn that asks nothing: no letters, only acknowledgements ("ok", "thanks"), or keyboard
    noise (no question word, no name, and not one word the corpus knows). `known_term(word)` says
    whether the corpus's index holds a word."""
    from qa.text.lexical import terms

    words = re.findall(r"[^\W_]+", question.lower())
    if not words:
        return True
    if all(w in _ACKNOWLEDGEMENTS for w in words):
        return True
    if "?" in question or any(w in _WH_WORDS for w in words) or words[0] in _AUX:
        return False
    return not any(known_term(t) for t in terms(question))


def _resolved(question: str, earlier: list[Exchange], read=None, support=None) -> str:
    if not earlier:
        return question
    last = earlier[-1]
    return (_ellipsis(question, last) or _bare(question, last) or _pronouns(question, earlier, read, support)) \
        or question


_WHEN_ELSE = re.compile(r"^\s*(?:and|what\s+about|how\s+about)\s+(?P<prep>in|on|at|during|for|since|by|before|"
                        r"after)\s+(?P<x>[^?]+?)\s*\??\s*$", re.I)


def _ellipsis(question: str, last: Exchange) -> str | None:
    """"And what about Biden?": the previous question with its entity of the same kind replaced;
    "And in 2014?": its date (or place) replaced, or added when it named none."""
    when = _WHEN_ELSE.match(question)
    if when:
        return _other_circumstance(when, question, last)
    match = _ABOUT.match(question)
    if not match:
        return None
    group = "x" if match.group("x") else "y"
    new = match.group(group).strip()
    # the name's kind as the question itself reads it: "Medvedev" alone is nothing to spaCy,
    # "What about Medvedev?" a person
    found = [e for e in parse_question(question).entities if e.start >= match.start(group)]
    label = found[0].label if found else None
    asked = parse_question(last.question)
    agents = PEOPLE_LABELS + GROUP_LABELS
    candidates = [e for e in asked.entities if label is None or e.label == label
                  or (e.label in agents and label in agents)]
    if not candidates:
        return None
    # the same kind of name, else the one the question was about (its subject), else the last
    same = [e for e in candidates if e.label == label]
    subject = _subject(asked)
    replaced = same[-1] if same else subject if subject in candidates else candidates[-1]
    before = last.question[:replaced.start]
    if before.lower().endswith("the "):  # "Has the Kremlin commented ...?": the new name brings its own article
        before = before[:-4]
    return before + new + last.question[replaced.end:]


def _other_circumstance(match: re.Match, question: str, last: Exchange) -> str | None:
    """"And in 2014?" after "How many viewers did the 2025 Oscars draw?" -> "... the 2014 Oscars
    ...": the new date, place or time takes the place of the previous question's of its kind, or is
    added at its end ("How many viewers did the Oscars draw in 2014?")."""
    found = [e for e in parse_question(question).entities if e.start >= match.start("x")]
    if not found or not last.question.strip():
        return None
    new = found[0]
    same = [e for e in parse_question(last.question).entities if e.label == new.label]
    if same:
        old = same[-1]
        return last.question[:old.start] + new.text + last.question[old.end:]
    body = last.question.rstrip().rstrip("?").rstrip()
    return f"{body} {match.group('prep').lower()} {match.group('x').strip()}?"


def _bare(question: str, last: Exchange) -> str | None:
    """"Since when?" after "Why does Putin avoid meeting people?" -> "Since when does Putin avoid
    meeting people?": the new question phrase in place of the old one. After a yes/no question the
    phrase goes before it ("When?" after "Did Putin meet him?" -> "When did Putin meet him?"), and
    "Why not?" asks it negated ("Why didn't Putin meet him?")."""
    negated = _WHY_NOT.match(question)
    match = negated or _BARE.match(question)
    if not match:
        return None
    parsed = parse_question(last.question)
    rest = _after_question_phrase(parsed, last.question)
    if rest is None:
        return None
    if negated:
        aux, _, tail = rest.partition(" ")
        if aux.lower() not in _NEGATED:
            return None
        rest = f"{_NEGATED[aux.lower()]} {tail}"
    wh = match.group("wh").strip()
    if parsed.tokens[0].text.lower() in _AUX and wh.lower() in ("what", "which", "who", "whom"):
        return None  # "What?" after "Did Putin meet him?" asks to hear it again, not what he met
    return f"{wh[:1].upper()}{wh[1:]} {_with_object(rest, parsed, last)}"


def _with_object(rest: str, parsed: Parsed, last: Exchange) -> str:
    """"Over what period?" after "How many stores does Kroger plan to close?": the stores were
    what the old question phrase asked for, and the verb still needs them ("... plan to close
    60 stores?", its short answer, else "... close stores?")."""
    tokens = parsed.tokens
    ending = [t for t in tokens if t.tag != "."]
    noun = _question_noun(parsed)
    if noun is None or not ending or not ending[-1].tag.startswith("VB"):
        return rest
    body = rest.rstrip().rstrip("?").rstrip()
    plural = tokens[noun].tag in ("NNS", "NNPS")
    thing = last.short_answer or (tokens[noun].text if plural else f"the {tokens[noun].text}")
    return f"{body} {thing}?"


def _question_noun(parsed: Parsed) -> int | None:
    """Where the noun of a question phrase stands: "How many *stores* ...", "Which *city* ...";
    None when the question phrase has none ("Why ...", "What did ...")."""
    tokens = parsed.tokens
    words = [t.text.lower() for t in tokens[:3]]
    at = 2 if words[:2] in (["how", "many"], ["how", "much"]) else 1 if words[:1] in (["which"], ["what"]) else None
    if at is None or at >= len(tokens) or tokens[at].tag not in ("NN", "NNS"):
        return None
    return at


def _auxiliary(tokens) -> int | None:
    """Where a question's auxiliary stands among its first words ("Why *did* ...", "*Has* the ...")."""
    return next((i for i, t in enumerate(tokens[:6]) if t.text.lower() in _AUX), None)


def _subject(parsed: Parsed):
    """The name a question is about, as its grammatical subject: the first name after the
    auxiliary ("Why didn't *Putin* agree to meet Qalibaf?", "Has *the Kremlin* commented ...?"),
    before the main verb; None for a question whose question word is the subject ("Who sent it?")."""
    tokens = parsed.tokens
    aux = _auxiliary(tokens)
    if aux is None or (aux > 0 and tokens[0].text.lower() not in _WH_WORDS):
        return None
    verb = next((t.start for t in tokens[aux + 1:] if t.tag.startswith("VB")), None)
    return next((e for e in parsed.entities if e.start > tokens[aux].start and (verb is None or e.start < verb)),
                None)


def _after_question_phrase(parsed: Parsed, text: str) -> str | None:
    """The previous question from its auxiliary on ("does Putin avoid meeting people?"), or None
    when it has no auxiliary after its question word (a subject question: "Who sent it?")."""
    tokens = parsed.tokens
    if tokens and tokens[0].text.lower() in _AUX:  # a yes/no question: all of it follows the new phrase
        return text[:1].lower() + text[1:].strip() if tokens[0].tag != "NNP" else text.strip()
    if not tokens or tokens[0].text.lower() not in _WH_WORDS:
        return None
    for token in tokens[1:6]:
        if token.text.lower() in _AUX or token.text.lower() in ("n't", "not"):
            return text[token.start:].strip()
    return None


def _pronouns(question: str, earlier: list[Exchange], read=None, support=None) -> str | None:
    """Each pronoun resolved in place when one referent is clear; with `support` (see
    `condensed_from`), the one the conversation's documents speak of as the follow-up asks."""
    parsed = parse_question(question)
    own = parsed.entities
    replacements: list[tuple[int, int, str]] = []
    used: list[str] = []
    used_tables: list[dict] = []
    contrast = bool(re.search(r"\binstead\b", question, re.I))
    # "Who is Abdollahian?" then "he" is Abdollahian, whatever the documents say of others
    weigh = support is not None and not _about_one(parse_question(earlier[-1].question), earlier[-1].question)
    for token in parsed.tokens:
        word = token.text.lower()
        table, labels = _pronoun_table(word)
        if table is None:
            continue
        form = table[word]
        if form == "possessive" and any(e.label in labels and e.start < token.start for e in own):
            continue  # "What did Putin say about his health?": the question names him itself
        if word in THING and (any(e.label in labels and e.start < token.start for e in own)
                              or _PLEONASTIC_IT.search(question)):
            continue  # "What is NATO and when was it founded?", "Is it true that ...": nothing earlier
        if word in GROUP and _plural_before(parsed, token.start):
            continue  # "How long do people quarantine before he meets them?": them are the people
        # "Did Qalibaf meet him?": him is not Qalibaf
        # two pronouns of one question point at two things ("Where did he publish it?")
        taken = {e.text for e in own} | {u for u, t in zip(used, used_tables) if t is not table}
        referent = _referent(word, labels, earlier, exclude=taken, read=read, contrast=contrast)
        if referent is None:
            continue
        referent = _without_possessive(referent)
        if weigh and not contrast:
            rest = question[:token.start] + question[token.start + len(token.text):]
            referent = _best_supported(referent, _alternatives(word, labels, earlier, taken, read), rest, support)
        if word == "her":  # "her role" is possessive; "ask her" is not
            after = question[token.start + len(token.text):].lstrip()
            form = "possessive" if after[:1].isalpha() and not after.lower().startswith(("and ", "or ")) else "object"
        text = referent + ("'s" if form == "possessive" and not referent.endswith("'s") else "")
        replacements.append((token.start, token.start + len(token.text), text))
        used.append(referent)
        used_tables.append(table)
    there = re.search(r"\bthere\b", question, re.I)
    if there and not any(e.label in PLACE_LABELS for e in own) and not re.match(r"\s*(is|are|was|were)\b",
                                                                                 question[there.end():], re.I):
        place = _place(earlier, read)
        if place:
            opens = place.split(" ", 1)[0].lower() in ("in", "at", "on", "near", "inside", "outside", "to")
            replacements.append((there.start(), there.end(), place if opens else f"in {place}"))
    if not any(e.label in PEOPLE_LABELS for e in own):
        replacements += _titled(parsed, earlier[-1], replacements)
    if not own and not replacements:
        replacements += _demonstrative(parsed, earlier[-1])
    if not replacements:
        return None
    resolved = question
    for start, end, text in sorted(replacements, reverse=True):
        resolved = resolved[:start] + text + resolved[end:]
    return _instead_of(resolved, used, earlier[-1])


def _titled(parsed: Parsed, last: Exchange, taken: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """"Why had the prince refused?" after a question about Prince Harry: "the <title>" is the one
    person of the last question (or its answer) who bears that title ("Prince Harry", "Judge Hannah
    Dugan", "President Biden")."""
    found: list[tuple[int, int, str]] = []
    tokens = parsed.tokens
    for i, token in enumerate(tokens[:-1]):
        noun = tokens[i + 1]
        if token.text.lower() != "the" or noun.tag != "NN" or not noun.text.islower() \
                or (i + 2 < len(tokens) and tokens[i + 2].tag in ("NN", "NNS", "NNP")) \
                or any(a <= token.start < b for a, b, _ in taken):
            continue
        bearers = {name for text in (last.question, last.extract) if text for name in _bearers(text, noun.text)}
        if len(bearers) == 1:
            found.append((token.start, noun.start + len(noun.text), bearers.pop()))
    return found


def _bearers(text: str, title: str) -> list[str]:
    """The people `text` names with `title` before their name: "Prince Harry" for "prince"."""
    names = []
    for e in entities([text])[0]:
        if e.label != "PERSON":
            continue
        if e.text.lower().startswith(title + " "):
            names.append(e.text)
        elif written := re.search(rf"\b({re.escape(title)})\s+$", text[:e.start], re.I):
            names.append(f"{written.group(1)} {e.text}")
    return names


def _plural_before(parsed: Parsed, at: int) -> bool:
    """A plural noun of the question's own clause comes before `at` (after its question phrase:
    "How many stores did they close?" does not count the stores)."""
    tokens = parsed.tokens
    aux = _auxiliary(tokens) or 0
    return any(t.tag in ("NNS", "NNPS") for t in tokens[aux + 1:] if t.start < at)


def _demonstrative(parsed: Parsed, last: Exchange) -> list[tuple[int, int, str]]:
    """"How long is that quarantine?": the thing the last question was about owns it (its first
    name: "Putin's quarantine"), when the follow-up names nothing itself."""
    named = [e.text for e in parse_question(last.question).entities if e.label in PEOPLE_LABELS + GROUP_LABELS]
    tokens = parsed.tokens
    for i, token in enumerate(tokens[:-1]):
        following = [t.tag for t in tokens[i + 1:i + 4]]
        noun = next((tag for tag in following if tag != "JJ"), "")
        if token.text.lower() in ("that", "this", "these", "those") and token.tag == "DT" \
                and noun in ("NN", "NNS") and named:
            owner = named[0]
            return [(token.start, token.start + len(token.text), owner + ("'" if owner.endswith("s") else "'s"))]
    return []


def _pronoun_table(word: str):
    if word in PERSONAL:
        return PERSONAL, PEOPLE_LABELS
    if word in GROUP:
        return GROUP, GROUP_LABELS + PEOPLE_LABELS
    if word in THING:
        return THING, THING_LABELS
    return None, ()


def _referent(word: str, labels: tuple[str, ...], earlier: list[Exchange], exclude: set[str],
              read=None, contrast: bool = False) -> str | None:
    """Who or what a pronoun points at: the answer to a "who" question when the last question
    asked who; else the subject of the last question, for a subject pronoun (a pronoun keeps the
    subject it follows: centering); else the last such entity the last question names (also when
    the follow-up contrasts: "Why didn't Putin meet Qalibaf?" then "Who did he meet instead?" asks
    about the other party); else one its answer names
    (for "they", the people its answer names together)."""
    last = earlier[-1]
    asked = parse_question(last.question)
    if word in THING or word in GROUP:
        answered = _answer_thing(last, asked, read, plural=word in GROUP)
        if answered:
            return answered  # "Which faction ...?" then "Who leads it?": the faction that answered
    if word in THING:
        named = [e.text for e in asked.entities if e.label in labels and e.text not in exclude]
        if named:
            return named[0]
        # then the thing asked about ("the letter"), then a place or group: an "it" too ("What is
        # the latest on the UK?" then "When did it ...?"), then the one name spaCy labelled oddly
        places = [_with_article(e, last.question) for e in asked.entities
                  if e.label in PLACE_LABELS + GROUP_LABELS and e.text not in exclude]
        return _thing(asked, last.question) or (places[0] if places else _only_name(asked, exclude))
    if _about_one(asked, last.question) and word in PERSONAL:
        return asked.entities[0].text  # "Who is Abdollahian?" then "he": whatever label the name got
    if labels == PEOPLE_LABELS and _asks_who(asked, last.question):
        answered = _answer_person(last, asked, read)
        # a who question asks for someone it does not name: never one of its own names
        return answered if answered and answered not in exclude else None
    subject = _subject(asked)
    if word in ("he", "she", "they") and not contrast and subject is not None and subject.label in labels \
            and subject.text not in exclude:
        return subject.text  # "Why didn't Putin meet Qalibaf?" then "Whom does he meet?": Putin
    for exchange in reversed(earlier):
        named = [e.text for e in parse_question(exchange.question).entities
                 if e.label in labels and e.text not in exclude]
        if named:
            return named[-1]
    only = _only_name(asked, exclude, not_labels=PLACE_LABELS)  # a place is never "he"
    if only and word in PERSONAL and not any(e.label in PEOPLE_LABELS for e in asked.entities):
        return only  # a question about one name spaCy did not call a person ("Punxsutawney Phil"): he is it
    in_answer = list(dict.fromkeys(e.text for e in entities([last.extract])[0]
                                   if e.label in labels and e.text not in exclude)) if last.extract else []
    if word in GROUP:
        people = [e for e in in_answer if e in {x.text for x in entities([last.extract])[0] if x.label == "PERSON"}]
        return " and ".join(people[:3]) if len(people) >= 2 else (in_answer[0] if in_answer else None)
    return in_answer[0] if in_answer else None


# How much more of the follow-up's own words (two at least: see support_within) one sentence must say
# with another referent than any says with the preferred one before it is taken instead: a third of
# their weight, a clear difference.
SUPPORT_MARGIN = 0.34


def _best_supported(preferred: str, options: list[str], rest: str, support) -> str:
    """The preferred referent, unless a sentence of the conversation's documents says another the
    conversation offers together with clearly more of what the follow-up asks (`rest`) than any
    says with it: "When is her preliminary hearing?" after a question naming Dugan and one about her
    substitute is Dugan's."""
    scores = {o: support(o, rest) for o in options if o not in preferred and preferred not in o}
    if not scores:
        return preferred
    best = max(scores, key=scores.__getitem__)
    return best if scores[best] >= support(preferred, rest) + SUPPORT_MARGIN else preferred


def _alternatives(word: str, labels: tuple[str, ...], earlier: list[Exchange], exclude: set[str],
                  read=None) -> list[str]:
    """Every referent the conversation offers a pronoun: the answer to the last question (a
    person asked for by "who", a thing by "which X"), the names of the pronoun's kind in the last
    three questions, and for "it" the thing the last question asked about."""
    last = earlier[-1]
    asked = parse_question(last.question)
    found: list[str | None] = []
    if labels == PEOPLE_LABELS and _asks_who(asked, last.question):
        found.append(_answer_person(last, asked, read))
    if word in THING or word in GROUP:
        found.append(_answer_thing(last, asked, read, plural=word in GROUP))
    for exchange in reversed(earlier[-3:]):
        found += [e.text for e in parse_question(exchange.question).entities if e.label in labels]
    if word in THING:  # "it" may be any thing, place or group the last question held ("the 2025 Oscars")
        found += [_with_article(e, last.question) for e in asked.entities
                  if e.label in THING_LABELS + PLACE_LABELS + GROUP_LABELS]
        found += _noun_phrases(asked, last.question, _PHRASE_TAGS + ("CD",), ("NN", "NNS", "NNP", "NNPS"))
    plain = (_without_possessive(f) for f in found if f)
    return [f for f in dict.fromkeys(plain) if f not in exclude]


def _without_possessive(name: str) -> str:
    """spaCy's name may keep its possessive: "Qalibaf's" is Qalibaf."""
    return re.sub(r"['’]s$", "", name)


def _with_article(entity, question: str) -> str:
    """The name as the question wrote it: "the UK", not "UK"."""
    return question[entity.start - 4:entity.end] if question[:entity.start].lower().endswith("the ") else entity.text


def _only_name(parsed: Parsed, exclude: set[str], not_labels: tuple[str, ...] = ()) -> str | None:
    """The one name a question holds, whatever label spaCy gave it (which is often wrong for names
    it has not seen: an organisation read as a person, a nickname as a place)."""
    names = list(dict.fromkeys(e.text for e in parsed.entities if e.text not in exclude and e.label not in _AMOUNTS))
    if any(e.label in not_labels for e in parsed.entities if e.text in names):
        return None
    return names[0] if len(names) == 1 else None


def _about_one(parsed: Parsed, text: str) -> bool:
    from qa.text.questions import DEFINITION

    return len(parsed.entities) == 1 and bool(DEFINITION.match(text))


def _asks_who(parsed: Parsed, text: str) -> bool:
    """A question answered by naming someone ("Who received it?"), not one about a person it
    names ("Who is Qalibaf?")."""
    from qa.text.questions import DEFINITION, expected_types

    if DEFINITION.match(text):
        return False
    if any(t.text.lower() in ("who", "whom", "whose") for t in parsed.tokens[:3]):
        return True
    expects, head = expected_types(parsed, text)  # "Which representative ...?", "Which official ...?"
    return head is not None and expects == frozenset({"PERSON"})


def _answer_person(last: Exchange, asked: Parsed, read=None) -> str | None:
    """The person who answered a "who" question: its short answer, else the one new person an
    extract names (the first extract that names any), else the one the span reader picks there."""
    known = {e.text.lower() for e in asked.entities}
    if last.short_answer:
        found = [e for e in entities([last.short_answer])[0] if e.label in PEOPLE_LABELS]
        if found:
            return found[0].text
    extracts = [x for x in (last.extract, *last.others) if x]
    new = [[e for e in found if e.label == "PERSON" and e.text.lower() not in known
            and not any(e.text.lower() in k or k in e.text.lower() for k in known)]
           for found in entities(extracts)]
    names = list(dict.fromkeys(e.text for found in new for e in found))
    if len(names) <= 1 or read is None:  # without a reader: the one new person of the first that names any
        first = next((found for found in new if found), [])
        return first[0].text if len({e.text for e in first}) == 1 else None
    # several people across the extracts: the one the span reader reads in the first extract that
    # names any (the answer leads with it), else its likeliest in the others ("Who was Harry's
    # co-claimant?": the first extract names Murdoch, the third "his co-claimant Tom Watson"); the
    # others are read only when the first gives no one
    readings = (read(last.question, x, [(e.start, e.end) for e in found]) for x, found in zip(extracts, new) if found)
    best = next(readings) or max((r for r in readings if r), key=lambda r: r[1], default=None)
    return best[0] if best else None


def _answer_thing(last: Exchange, asked: Parsed, read=None, plural: bool = False) -> str | None:
    """The answer to a "which X" / "what X" question ("Which faction ...?"): its short answer, or
    what the span reader reads in its first extract. "It" is never the answer to a question
    asking for several ("Which countries signed the deal?" then "Why did it collapse?")."""
    words = [t.text.lower() for t in asked.tokens[:2]]
    if len(words) == 2 and not plural and asked.tokens[1].tag in ("NNS", "NNPS") and words[0] in ("which", "what"):
        return None  # ("they" may still be the answer to "which faction": a group is often "they")
    object_question = len(words) == 2 and words[0] == "what" and words[1] in _OBJECT_AUX
    if not object_question and (len(words) < 2 or words[0] not in ("which", "what")
                                or asked.tokens[1].tag not in ("NN", "NNS", "JJ")):
        return None  # "What did Khamenei give Qalibaf?" then "What was it about?" asks about what he gave
    if last.short_answer:
        return last.short_answer
    if object_question:
        return None  # a reading of the extract is as likely the giver as the thing given
    return _text(read(last.question, last.extract, None)) if read is not None and last.extract else None


def _text(reading: tuple[str, float] | None) -> str | None:
    return reading[0] if reading else None


def _thing(asked: Parsed, text: str) -> str | None:
    """What "it" points at: the last noun phrase of the last question that is not a name."""
    phrases = _noun_phrases(asked, text)
    return phrases[-1] if phrases else None


def _noun_phrases(asked: Parsed, text: str, inside: tuple[str, ...] = _PHRASE_TAGS,
                  heads: tuple[str, ...] = ("NN", "NNS")) -> list[str]:
    """The question's phrases from a determiner to a noun ("the long-awaited minerals deal"): words
    tagged `inside` up to a last one tagged `heads`."""
    tokens, phrases = asked.tokens, []
    i = 0
    while i < len(tokens):
        if tokens[i].tag in ("DT", "PRP$") and i + 1 < len(tokens):
            j = i + 1
            while j < len(tokens) and (tokens[j].tag in inside or tokens[j].tag == "RB" and j + 1 < len(tokens)
                                       and tokens[j + 1].tag == "HYPH"):  # "long-awaited"
                j += 1
            if j > i + 1 and tokens[j - 1].tag in heads:
                phrases.append(text[tokens[i].start:tokens[j - 1].start + len(tokens[j - 1].text)])
            i = j
        else:
            i += 1
    return phrases


def _place(earlier: list[Exchange], read=None) -> str | None:
    """Where "there" is: the place the last question named; after a "where" question, its answer."""
    last = earlier[-1]
    asked = parse_question(last.question)
    named = [e for e in asked.entities if e.label in PLACE_LABELS]
    if named:
        return named[-1].text
    if any(t.text.lower() == "where" for t in asked.tokens[:2]):
        if last.short_answer:
            return last.short_answer
        if read is not None and last.extract:
            return _text(read(last.question, last.extract, None))
    in_answer = [e for e in entities([last.extract])[0] if e.label in PLACE_LABELS] if last.extract else []
    return in_answer[0].text if in_answer else None


def _instead_of(resolved: str, used: list[str], last: Exchange) -> str:
    """"... instead?" names what is replaced: the other party of the last question."""
    match = re.search(r"\binstead\b(?!\s+of\b)", resolved, re.I)
    if not match or not used:
        return resolved
    others = [e.text for e in parse_question(last.question).entities
              if e.label in PEOPLE_LABELS + GROUP_LABELS and e.text not in used and e.text not in resolved]
    if not others:
        return resolved
    return resolved[:match.end()] + f" of {others[-1]}" + resolved[match.end():]
