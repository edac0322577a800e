"""What an extract carries with it: the sentence that completes it and the one it points back to.
Unit level: the tiny deterministic embedder over articles written here."""
from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import engine_over
from qa.engine import Engine
from qa.settings import load_settings

ARTICLES = {
    "opening": "Title: Harbour opening\n\nMayor Okafor could not attend the opening of the new ferry terminal "
               "because of a council vote. Okafor instead sent his deputy to the ceremony at the terminal. "
               "Ingrid Solberg cut the ribbon at noon and thanked the builders.\n\nThe terminal opened to "
               "passengers the next morning.",
    "visit": "Title: The minister's visit\n\nThe fisheries minister Tomas Lind toured the harbour on Friday. "
             "“We will pay for the new breakwater,” he said.\n\nThe harbour board welcomed the promise.",
    "exchange": "Title: Markets of the city\n\nThe Warsaw stock exchange opened in 1817 and traded until the war "
                "closed every bourse in the country. It was re-established in April 1991, after the end of "
                "communist control of the economy.\n\nToday the exchange lists hundreds of companies from across "
                "the whole region and beyond.",
    "plague": "Title: Plague theories\n\nDoctors wrote many tracts that sought to give advice to sufferers. "
              "Physicians agreed that the plague spread through foul vapours rising from rotting matter in "
              "the streets. Today, this is known as the miasma theory.\n\nThe word plague had no special "
              "meaning at the time for the writers of those tracts.",
    "harbour": "Title: Harbour works\n\nThe harbour board approved the dredging plan on a narrow vote. "
               "Engineers will deepen the main channel by two metres over the coming summer.\n\nThey "
               "expect the first large ships to berth there next spring.",
    "final": "Title: Chess final\n\nNobody in Nordic chess has an answer for Anna Berg at the moment.\n\n"
             "The 23-year-old Norwegian won her second straight Oslo Open title on Sunday in a one-sided "
             "final.\n\nThe next Oslo Open starts in May.",
    "rival": "Title: Chess talk\n\nTom Hale said who won the Oslo Open title on Sunday did not matter to him.",
    "ratings": "Title: Ratings\n\nThe network sold 40 advertising slots for the drama in 2024.\n\nThe season "
               "finale drew 12 million viewers on Sunday night.",
}


@pytest.fixture
def engine(hash_env, tmp_path):
    return engine_over(tmp_path / "articles", ARTICLES)


def _first_quote(engine, question: str) -> str:
    answer = engine.ask(question)
    assert not answer.abstained, question
    assert engine.verifier.verify(answer.to_json())[0]
    return answer.citations[0].quote


def test_a_sentence_that_points_back_is_cited_with_the_one_it_continues(engine):
    quote = _first_quote(engine, "When did the Warsaw stock exchange open and trade until the war closed every bourse?")
    assert quote.startswith("The Warsaw stock exchange opened in 1817")
    assert quote.endswith("after the end of communist control of the economy.")  # "It was re-established ..."


def test_a_sentence_that_points_back_is_cited_with_its_antecedent(engine):
    quote = _first_quote(engine, "What is this known as today?")
    assert "Today, this is known as the miasma theory." in quote
    assert quote.startswith("Physicians agreed that the plague spread through foul vapours")


def test_a_continuation_never_crosses_a_paragraph(engine):
    quote = _first_quote(engine, "How deep will engineers dredge the main harbour channel over the summer?")
    assert "Engineers will deepen the main channel by two metres" in quote
    assert "They expect" not in quote  # the next paragraph's "They" starts a new thought


def test_the_reader_prefers_the_sentence_that_answers_and_scores_each_on_its_own():
    from qa.answering.reader import load_reader

    reader = load_reader("minilm-reader")
    question = "In which year did the Warsaw stock exchange reopen?"
    answers = "The Warsaw stock exchange reopened in 1991 after the end of communist rule."
    about = "The Warsaw stock exchange is the largest market in the region by capitalisation."
    alone = reader.score(question, [answers])[0]
    together = reader.score(question, [about, answers, "Warsaw has many parks."])
    assert together[1] > together[0] + 0.1
    assert together[1] == pytest.approx(alone, abs=1e-6)  # what else is read never changes a score


def test_the_reader_is_a_setting_and_none_switches_it_off(engine, monkeypatch):
    assert engine._current().answerer.reader is not None  # on by default
    monkeypatch.setenv("QA_READER", "none")
    plain = Engine(load_settings())
    assert plain._current().answerer.reader is None
    answer = plain.ask("When did the Warsaw stock exchange open?")
    assert answer.citations and plain.verifier.verify(answer.to_json())[0]


def test_the_reader_is_skipped_only_when_relevance_alone_is_decisive(engine, monkeypatch):
    """A clear lead in relevance answers without the reader; a close call is read. Either way the
    answer cites and verifies."""
    read = []
    answerer = engine._current().extractive
    reader = answerer.reader
    question = "How deep will engineers dredge the main harbour channel?"
    monkeypatch.setattr(answerer, "reader", None)
    ranked = engine.sentences(question)  # as relevance alone orders them
    lead = ranked[0].score - ranked[1].score
    monkeypatch.setattr(answerer, "reader", reader)
    monkeypatch.setattr(reader, "score",
                        lambda q, texts, score=reader.score: read.append(len(texts)) or score(q, texts))
    for margin, reads in ((lead + 0.001, True), (lead - 0.001, False)):
        read.clear()
        monkeypatch.setattr(answerer, "tuning", replace(answerer.tuning, reader_skip_margin=margin))
        answer = engine.ask(question)
        assert bool(read) == reads
        assert answer.citations and engine.verifier.verify(answer.to_json())[0]


@pytest.fixture(scope="module")
def reader():
    from qa.answering.reader import load_reader

    return load_reader("minilm-reader")


@settings(max_examples=40, deadline=None)
@given(question=st.integers(1, 2000), sentence=st.integers(1, 2000))
def test_the_reader_reads_inputs_of_any_length_up_to_the_limit(reader, question, sentence):
    words = "Volodin received the letter from the speaker in Moscow during the quarantine "
    q = (words * (question // len(words) + 1))[:question]
    s = (words * (sentence // len(words) + 1))[:sentence]
    probability = reader.score(q, [s, "A short one."])
    assert probability.shape == (2,) and all(0.0 <= p <= 1.0 for p in probability)


def test_an_extract_naming_the_answer_only_by_role_takes_in_the_sentence_that_names_them(engine):
    """Asked who, "…sent his deputy…" is cited with the next sentence, which names her."""
    quote = _first_quote(engine, "Who did Okafor send instead to the ceremony at the terminal?")
    assert "sent his deputy" in quote and "Ingrid Solberg" in quote


def test_an_extract_naming_the_answer_only_by_a_description_takes_in_the_one_before_that_names_them(engine,
                                                                                                   monkeypatch):
    """Asked who won, "The 23-year-old Norwegian won …" is cited with the paragraph before, which
    names her, and leads: it names the winner as well as a sentence naming someone else (Tom Hale).
    The span check is left out: read as cited it still leads, but by 0.008 of score over "Tom Hale
    said who won the Oslo Open title on Sunday did not matter to him", which the span reader reads
    as answering (bench/results/span-check.md): too thin for a verdict on every CPU."""
    monkeypatch.setenv("QA_SPAN_CHECK_SENTENCES", "0")
    unchecked = type(engine)(type(engine.settings)())
    quote = _first_quote(unchecked, "Who won the Oslo Open title on Sunday?")
    assert quote.startswith("Nobody in Nordic chess has an answer for Anna Berg") and "The 23-year-old" in quote
    # a number or a date is never named by description: the sentence that states it stands alone
    assert _first_quote(engine, "How many viewers did the season finale draw?").startswith("The season finale")
    # asked when, "The next Oslo Open" is no description of a date: it stands alone
    assert _first_quote(engine, "When does the next Oslo Open start?").startswith("The next Oslo Open")


def test_a_quote_attributed_by_a_pronoun_comes_with_the_sentence_naming_its_speaker(engine):
    quote = _first_quote(engine, "What did Tomas Lind say about paying for the new breakwater at the harbour?")
    assert quote.startswith("The fisheries minister Tomas Lind") and quote.endswith("he said.")


def test_widened_extracts_are_contiguous_and_verify(engine):
    texts = {name: engine.library.document(name).text for name in ARTICLES}
    for question in ("Who did Okafor send instead to the ceremony at the terminal?",
                     "What did Tomas Lind say about paying for the new breakwater at the harbour?"):
        for c in engine.ask(question).citations:
            assert texts[c.doc_id][c.start:c.end] == c.quote  # one span, exact
