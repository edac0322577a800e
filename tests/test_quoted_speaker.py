"""A quotation introduced by its speaker (on a line of its own, as news pages set them) answers
"which <role> ...?" with the speaker: the quote and its introduction are one claim.
Unit level: the tiny deterministic embedder."""
from __future__ import annotations

import pytest

from conftest import engine_over

ARTICLES = {
    "fares": "Title: Ferry fares\n\nThe harbour board met on Monday to discuss the ferry timetable for the "
             "winter. Pia Holm, the spokeswoman of the harbour board, wrote on her page:\n“The news about a fare "
             "rise for the island ferry was not accurate.” The board will publish the winter timetable in "
             "October.\n\nMayor Okafor wrote about the island ferry and the news of its winter timetable.",
}


@pytest.fixture
def engine(hash_env, tmp_path):
    return engine_over(tmp_path / "articles", ARTICLES)


def test_a_quote_whose_speaker_answers_leads_with_its_introduction(engine):
    """The quote holds the question's words, its introduction the person asked for: it is not
    weighed down as a sentence without a person, and it is cited with its speaker."""
    answer = engine.ask("Which spokeswoman wrote about the news of a fare rise for the island ferry?")
    assert not answer.abstained
    first = answer.citations[0].quote
    assert first.startswith("Pia Holm, the spokeswoman") and "fare rise" in first


def test_what_did_x_say_is_answered_by_x_not_by_another_name_of_the_question():
    """"What did Zarif say about Qalibaf's trip?" asks for Zarif's words: an adviser of Qalibaf's
    is not him, though the question names Qalibaf too."""
    from qa.answering.extractive import fits_question
    from qa.text.questions import understand

    asked = "What did Zarif say about Qalibaf's trip?"
    question = understand(asked, asked, None)
    assert fits_question(question, "Zarif said the trip was a mistake.")
    assert fits_question(question, "“It was a mistake,” he said.", before="Zarif spoke on Monday.")
    assert not fits_question(question, "According to an adviser to Qalibaf, the trip was a success.")
    asked = "What did the ministry say about Qalibaf's trip?"  # no name before the verb: any quotation may be it
    assert fits_question(understand(asked, asked, None), "“It went well,” an official said.")
    asked = "What did Indiana's governor say about India?"  # a name inside another is not it
    assert not fits_question(understand(asked, asked, None), "India's minister said the talks went well.")
