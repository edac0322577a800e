"""What a question asks for, worked out once per question: the kind of answer it wants and the
names it mentions. Every later stage (sentence scoring, the lead extract, the kind check) reads
the `Question` built here instead of parsing the text again."""
from __future__ import annotations

import re

from qa.retrieval.condense import names
from qa.types import Filters, Question

# "What is the name of the ambassador?" asks for a name as surely as "who" does.
NAME_QUESTION = re.compile(r"\s*what(’s|'s| is| was| are| were)? the (full |first |last )?names? of\b", re.I)
CONTEXT = re.compile(r"\s*\([^()]*\)\s*$")  # the names a condensed follow-up carries as context
STATEMENT_QUESTION = re.compile(r"\s*what (did|does|do|has|have|had|will|would) .{1,80}? "
                                r"(say|said|tell|told|tweet|write|wrote|reply|answer|announce|claim|argue)\b", re.I)
_CUES = (("how many", "number"), ("how much", "number"), ("how long", "number"), ("how old", "number"),
         ("how far", "number"), ("why", "cause"), ("who", "name"), ("whom", "name"), ("when", "date"),
         ("what year", "date"), ("on what date", "date"), ("what date", "date"), ("in what year", "date"))


def answer_kind(question: str) -> str | None:
    """name, definition, number, cause, date, statement, or None (no kind that can be checked)."""
    first = question.strip().lower()
    if NAME_QUESTION.match(question):
        return "name"
    if re.match(r"(who|what) (is|was|are|were) [A-Z]", question.strip()[:1].lower() + question.strip()[1:]) \
            and names(question):
        return "definition"
    for cue, kind in _CUES:
        if first.startswith(cue):
            return kind
    if STATEMENT_QUESTION.match(question):
        return "statement"
    return None


def understand(asked: str, condensed: str, vector, filters: Filters | None = None) -> Question:
    """The question as every stage reads it (`condensed` is what is answered)."""
    return Question(asked=asked, condensed=condensed, vector=vector, filters=filters, kind=answer_kind(condensed),
                    names=tuple(names(condensed)), asked_names=tuple(names(CONTEXT.sub("", condensed))),
                    wants_name=bool(NAME_QUESTION.match(condensed)))
