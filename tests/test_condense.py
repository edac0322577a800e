"""Follow-up questions made self-contained, from the questions and the assistant's answers."""
import pytest

from qa.retrieval.condense import condense
from qa.types import Turn


def _history(question: str, answer: str) -> list[Turn]:
    return [Turn("user", question), Turn("assistant", answer)]


@pytest.mark.parametrize("history, question, expected", [
    # the pronoun is the person who answered a "who" question: from the assistant's answer
    (_history("Who received the report?", "Smith instead handed the report to his deputy. The meeting "
              "with Jane Roe took place on Monday. [1]"), "What was her role?", "What was Jane Roe's role?"),
    # "who is X?" then "he": X
    (_history("Who is Abdollahian?", "An adviser to the speaker, Amir Hussain. [1]"), "Where did he publish it?",
     "Where did Abdollahian publish it?"),
    # one name in play
    (_history("Who is Qalibaf?", "Iran's parliament speaker."), "Why did he go to Moscow?",
     "Why did Qalibaf go to Moscow?"),
    # not a follow-up: unchanged
    (_history("Who is Qalibaf?", "x"), "What did Tasnim report about the meeting with Putin?",
     "What did Tasnim report about the meeting with Putin?"),
])
def test_condense(history, question, expected):
    assert condense(question, history) == expected


def test_ambiguous_follow_ups_carry_the_answer_names_first():
    history = _history("Who met the ministers?", "Anna Berg and Tom Hale met them in Oslo. [1]")
    condensed = condense("What did they say?", history)
    assert condensed.startswith("What did they say? (Anna Berg, Tom Hale")
