"""What a question asks for, worked out once per question: the kind of answer it wants, the
entity types such an answer has, and the names it mentions (spaCy's entities, qa.text.nlp).
Every later stage (sentence scoring, the lead extract, the kind check, the short answer) reads
the `Question` built here instead of parsing the text again.

The typed expectation:
  who / whom / whose       -> a person, an organisation or a group (PERSON ORG NORP GPE)
  where                    -> a place (GPE LOC FAC)
  when / what year / date  -> a date or time (DATE TIME)
  how many / much / long / old / far ... -> a number, quantity, money, percent or duration
  which X / what X         -> X's head noun looked up in HEAD_TYPES ("which official" -> PERSON)
A question with none of these (why, how, what is ...) has no typed expectation."""
from __future__ import annotations

import re

from qa.text.nlp import Entity, Parsed, parse_question
from qa.types import Filters, Question

# "What is the name of the ambassador?" asks for a name as surely as "who" does.
NAME_QUESTION = re.compile(r"\s*what(’s|'s| is| was| are| were)? the (full |first |last )?names? of\b", re.I)
STATEMENT_QUESTION = re.compile(r"\s*what (did|does|do|has|have|had|will|would) .{1,80}? "
                                r"(say|said|tell|told|tweet|write|wrote|reply|answer|announce|claim|argue)\b", re.I)
DEFINITION = re.compile(r"\s*(?i:who|what)(’s|'s| is| was| are| were)\s+(?:the\s+)?(?:[A-Z][\w.’'-]*\s*)+\??\s*$")
CAUSE = re.compile(r"\s*(why|for what reason|what (was|is|were|are) the reasons?)\b", re.I)

PERSON = frozenset({"PERSON"})
AGENT = frozenset({"PERSON", "ORG", "NORP", "GPE"})
PLACE = frozenset({"GPE", "LOC", "FAC"})
TIME = frozenset({"DATE", "TIME"})
AMOUNT = frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT", "DATE", "TIME"})
NAME_LABELS = frozenset({"PERSON", "ORG", "NORP", "GPE", "LOC", "FAC", "EVENT", "WORK_OF_ART", "PRODUCT", "LAW"})

# The head noun of "which X" / "what X", by the entity type its answer has. Roles and kinds of
# thing, not names: the words a question uses for what it wants.
# Written by hand, each word once (a test checks it); it types 1,095 of the 1,743 which/what-X heads
# of the news train split's questions (the rest: "type", "animal", "item", "species", "sport",
# "food", "kind"... ask for things no entity label names): measured with qa.text.questions.expected_types.
HEAD_TYPES: dict[str, frozenset[str]] = {}
HEAD_WORDS: list[tuple[frozenset[str], str]] = [
    (PERSON, "person man woman boy girl official minister president leader politician actor actress singer rapper "
             "player coach manager ceo executive chief founder judge justice senator governor mayor candidate "
             "author writer director star athlete journalist reporter spokesman spokeswoman spokesperson "
             "ambassador diplomat envoy king queen prince princess pope lawmaker representative congressman "
             "congresswoman secretary general commander officer suspect victim defendant celebrity musician "
             "comedian host anchor scientist doctor artist captain pilot chairman chairwoman chancellor premier "
             "speaker "
             "winner nominee quarterback pitcher golfer boxer driver rider skier swimmer billionaire "
             "businessman businesswoman entrepreneur investor owner husband wife son daughter father mother "
             "figure astronaut member guest legend character heir rival lawyer attorney economist "
             "designer chef dancer filmmaker producer novelist poet activist pastor priest bishop"),
    (frozenset({"ORG"}), "company firm corporation business team club organization organisation group party agency "
                         "network outlet newspaper magazine channel broadcaster studio university college school "
                         "bank airline automaker retailer brand band label union court department ministry "
                         "committee council charity startup manufacturer publisher league website paper "
                         "station chain store giant franchise platform carrier cartel "
                         "insurer lender operator maker developer provider institution foundation"),
    (frozenset({"GPE"}), "country nation city state town capital province region county territory republic"),
    (PLACE, "place location island river mountain lake sea ocean airport stadium venue site area "
            "neighborhood neighbourhood continent border port building planet volcano destination residence park "
            "resort"),
    (TIME, "year day month date decade century week season time"),
    (frozenset({"MONEY"}), "price cost amount fine salary fee budget sum"),
    (frozenset({"PERCENT"}), "percentage percent rate share"),
    (frozenset({"NORP"}), "nationality religion ethnicity"),
    (frozenset({"EVENT"}), "event storm hurricane war tournament championship election battle festival"),
    (frozenset({"DATE", "EVENT"}), "holiday"),
    (frozenset({"WORK_OF_ART"}), "book film movie song album show series novel play painting"),
    (frozenset({"PRODUCT"}), "product app vehicle device car phone drug vaccine"),
    (frozenset({"LAW"}), "law bill act treaty"),
]
for _labels, _heads in HEAD_WORDS:
    for _head in _heads.split():
        HEAD_TYPES[_head] = HEAD_TYPES.get(_head, frozenset()) | _labels

_HOW = {"many": AMOUNT, "much": AMOUNT, "long": AMOUNT, "old": AMOUNT, "far": AMOUNT, "big": AMOUNT,
        "large": AMOUNT, "tall": AMOUNT, "high": AMOUNT, "often": AMOUNT, "fast": AMOUNT}
_WH = {"who": AGENT, "whom": AGENT, "whose": AGENT, "where": PLACE, "when": TIME}
_NOUN_TAGS = ("NN", "NNS", "NNP", "NNPS")
_MODIFIER_TAGS = ("JJ", "JJR", "JJS", "NN", "NNS", "NNP", "NNPS", "HYPH", "VBN", "CD", "POS", "PRP$", "DT")
_TYPE_WORDS = {"PERSON": "person", "ORG": "organisation", "NORP": "group", "GPE": "place", "LOC": "place",
               "FAC": "place", "DATE": "date", "TIME": "time", "CARDINAL": "number", "QUANTITY": "quantity",
               "MONEY": "amount of money", "PERCENT": "percentage", "EVENT": "event", "WORK_OF_ART": "title",
               "PRODUCT": "product", "LAW": "law"}


def expected_types(parsed: Parsed, text: str) -> tuple[frozenset[str], str | None]:
    """The entity labels an answer must hold, and the head noun of "which X" (None otherwise)."""
    words = [t.text.lower() for t in parsed.tokens]
    if NAME_QUESTION.match(text):
        head = _head_after(parsed, words.index("of") + 1 if "of" in words else len(words))
        return head_types(head) or AGENT, head
    first = next((i for i, w in enumerate(words) if w in _WH or w in ("which", "what", "how")), None)
    if first is None:
        return frozenset(), None
    word, following = words[first], words[first + 1] if first + 1 < len(words) else ""
    if word == "how":
        return _HOW.get(following, frozenset()), None
    if word in ("which", "what"):
        head = _head_after(parsed, first + 1)
        return head_types(head), head
    return _WH[word], None


def head_types(head: str | None) -> frozenset[str]:
    """The entity types of a head noun, singular or plural ("countries" as "country")."""
    if not head:
        return frozenset()
    for form in (head, head[:-3] + "y" if head.endswith("ies") else None, head[:-1] if head.endswith("s") else None,
                 head[:-2] if head.endswith("es") else None):
        if form and form in HEAD_TYPES:
            return HEAD_TYPES[form]
    return frozenset()


def _head_after(parsed: Parsed, start: int) -> str | None:
    """The head noun of the noun phrase opening at token `start` ("Russian official" -> official):
    the last noun before the phrase ends."""
    head = None
    for token in parsed.tokens[start:start + 6]:
        if token.tag == "POS":  # "the ferry's captain": the owner is not the head
            head = None
        elif token.tag in _NOUN_TAGS:
            head = token.text.lower()
        elif token.tag not in _MODIFIER_TAGS or head:
            break
    return head


def answer_kind(text: str, expects: frozenset[str]) -> str | None:
    """The kind the kind checks know: name, date, number, cause, statement, definition or None."""
    if CAUSE.match(text):
        return "cause"
    if STATEMENT_QUESTION.match(text):
        return "statement"
    if expects and expects <= TIME:
        return "date"
    if expects == AMOUNT or (expects and expects <= {"CARDINAL", "QUANTITY", "MONEY", "PERCENT"}):
        return "number"
    if expects:
        return "name"
    if DEFINITION.match(text):
        return "definition"
    return None


def describe(expects: frozenset[str]) -> str:
    """What was looked for, in words ("date", "person or organisation")."""
    words = list(dict.fromkeys(_TYPE_WORDS.get(label, label.lower()) for label in sorted(expects)))
    if expects == AMOUNT:
        return "number"
    return " or ".join(words[:3]) if words else "answer"


def names_in(found: tuple[Entity, ...]) -> tuple[str, ...]:
    """The names among entities (people, places, organisations, events, works), each once."""
    return tuple(dict.fromkeys(e.text for e in found if e.label in NAME_LABELS))


def understand(asked: str, condensed: str, vector, filters: Filters | None = None) -> Question:
    """The question as every stage reads it (`condensed` is what is answered)."""
    parsed = parse_question(condensed)
    expects, _head = expected_types(parsed, condensed)
    names = names_in(parsed.entities)
    if DEFINITION.match(condensed) and names and not NAME_QUESTION.match(condensed):
        expects = frozenset()  # "Who is Qalibaf?" wants a description, not another name
    kind = answer_kind(condensed, expects)
    if kind == "definition" and not names:
        kind = None  # "What is the plan?": nothing to define by name
    return Question(asked=asked, condensed=condensed, vector=vector, filters=filters, kind=kind,
                    names=names, wants_name=bool(NAME_QUESTION.match(condensed)),
                    expects=expects)
