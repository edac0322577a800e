"""What a question asks for: the typed expectation each kind of question gets from spaCy's tags
and entities, on questions no test corpus contains."""
from __future__ import annotations

import pytest

from qa.text.questions import AGENT, AMOUNT, PLACE, TIME, describe, understand


@pytest.mark.parametrize("question, expects", [
    ("Who opened the new ferry terminal?", AGENT),
    ("Whom did the council thank?", AGENT),
    ("Where will the regatta be held this year?", PLACE),
    ("When did the harbour board approve the plan?", TIME),
    ("In what year was the lighthouse built?", TIME),
    ("How many passengers does the ferry carry?", AMOUNT),
    ("How much did the breakwater cost?", AMOUNT),
    ("How long did the strike last?", AMOUNT),
    ("How old is the harbour master?", AMOUNT),
    ("Which official cut the ribbon?", {"PERSON"}),
    ("Which Norwegian minister toured the harbour?", {"PERSON"}),
    ("Which shipping company won the contract?", {"ORG"}),
    ("Which companies bid for the contract?", {"ORG"}),
    ("What country builds the ferries?", {"GPE"}),
    ("Which countries joined the treaty?", {"GPE"}),
    ("What city hosts the fair?", {"GPE"}),
    ("On which island does the ferry stop?", PLACE),
    ("What percentage of voters backed the plan?", {"PERCENT"}),
    ("What is the name of the harbour master?", AGENT),
    ("He plays for which team?", {"ORG"}),
])
def test_each_kind_of_question_gets_its_answer_types(question, expects):
    assert understand(question, question, None).expects == frozenset(expects)


@pytest.mark.parametrize("question", [
    "Why did the ferry stop running?",            # an explanation: the extract is the answer
    "How does the ferry cross in winter?",        # a way
    "Who is Ingrid Solberg?",                     # a description of someone named
    "What did the mayor say about the strike?",   # what someone said
    "Which flavor did the bakery launch?",        # a kind of thing no entity type names
])
def test_questions_without_a_typed_answer_expect_none(question):
    assert understand(question, question, None).expects == frozenset()


def test_the_kinds_the_checks_know():
    assert understand("When did it open?", "When did it open?", None).kind == "date"
    assert understand("How many came?", "How many came?", None).kind == "number"
    assert understand("Which official came?", "Which official came?", None).kind == "name"
    assert understand("Why did it close?", "Why did it close?", None).kind == "cause"
    assert understand("What did Okafor say?", "What did Okafor say?", None).kind == "statement"
    assert understand("Who is Ingrid Solberg?", "Who is Ingrid Solberg?", None).kind == "definition"


def test_names_are_the_question_entities():
    question = understand("Did Ingrid Solberg visit Oslo in March?", "x", None)
    asked = understand("Did Ingrid Solberg visit Oslo in March?",
                       "Did Ingrid Solberg visit Oslo in March?", None)
    assert "Ingrid Solberg" in asked.names and "Oslo" in asked.names and "March" not in asked.names
    assert question.names == ()


def test_what_was_looked_for_is_said_in_words():
    assert describe(TIME) == "date or time"
    assert describe(AMOUNT) == "number"
    assert describe(frozenset({"PERSON"})) == "person"


def test_an_answer_must_bring_an_entity_the_question_does_not_hold():
    from qa.answering.extractive import has_expected

    question = understand("When did Okafor open the terminal?", "When did Okafor open the terminal?", None)
    assert has_expected(question, "Okafor opened the terminal on 12 May 2022.")
    assert not has_expected(question, "Okafor opened the terminal to loud applause.")
    who = understand("Who did Okafor send instead?", "Who did Okafor send instead?", None)
    assert not has_expected(who, "Okafor sent a Norwegian delegation.")  # a nationality describes, it does not answer
    assert not has_expected(who, "Mayor Okafor sent flowers.")  # the question's own name
    assert has_expected(who, "Okafor sent Ingrid Solberg.")


def test_the_head_noun_table_names_each_word_once():
    """A word in two lines of HEAD_WORDS would take both lines' labels unnoticed: each is written once."""
    from qa.text.questions import HEAD_WORDS

    words = [w for _, heads in HEAD_WORDS for w in heads.split()]
    assert len(words) == len(set(words)), sorted({w for w in words if words.count(w) > 1})
