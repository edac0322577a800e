"""Follow-up questions made self-contained, from the questions and the assistant's answers."""
import pytest

from qa.codec import answer_from_json
from qa.text.condense import condense
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


def test_they_is_the_people_the_answer_named_together():
    history = _history("Who met the ministers?", "Anna Berg and Tom Hale met them in Oslo. [1]")
    assert condense("What did they say?", history) == "What did Anna Berg and Tom Hale say?"


@pytest.mark.parametrize("history, question, expected", [
    # "instead" names what was replaced; he is the one the last question named last
    (_history("Why didn't Putin meet Qalibaf?", "Qalibaf instead handed the letter to Volodin. [1]"),
     "Who did he meet instead?", "Who did Qalibaf meet instead of Putin?"),
    # him is not the question's own subject
    (_history("Who is Volodin?", "Speaker of the Duma. [1]"), "Did Qalibaf meet him?", "Did Qalibaf meet Volodin?"),
    # "it": the thing the last question asked about, not a name
    (_history("Who sent the letter to Putin?", "Khamenei sent it. [1]"), "What was it about?",
     "What was the letter about?"),
    # "there": the place the last question named
    (_history("What happened in Moscow?", "A meeting. [1]"), "Who was there?", "Who was in Moscow?"),
    # ellipsis: the new question phrase takes the rest of the last question
    (_history("Why does Putin avoid meeting people?", "He fears the virus. [1]"), "Since when?",
     "Since when does Putin avoid meeting people?"),
    (_history("What was Khamenei's letter to Putin about?", "The nuclear deal. [1]"), "And what about Biden?",
     "What was Khamenei's letter to Biden about?"),
    # after a yes/no question: the question phrase goes before it, "Why not?" asks it negated
    (_history("Did Putin agree to meet Qalibaf?", "Putin refused to see Qalibaf. [1]"), "Why not?",
     "Why didn't Putin agree to meet Qalibaf?"),
    (_history("Did Putin meet Volodin?", "Volodin met Qalibaf. [1]"), "When?", "When did Putin meet Volodin?"),
    # "it" after a question about a named place or group: the place, not "the latest news"
    (_history("What is the latest news about the UK?", "A vote. [1]"), "When did it leave the EU?",
     "When did the UK leave the EU?"),
    # the pronoun comes before the question's own thing: it still points back ("Nasa" is not "it")
    (_history("What is the latest news about Boeing?", "A launch. [1]"), "Did it fly a Nasa astronaut?",
     "Did Boeing fly a Nasa astronaut?"),
    # a question phrase with its noun takes the rest of the last question too
    (_history("How many stores does Kroger plan to close?", "Sixty. [1]"), "Over what period?",
     "Over what period does Kroger plan to close stores?"),
    (_history("How many stores does Kroger run in Ohio?", "Twenty. [1]"), "And how many workers?",
     "How many workers does Kroger run in Ohio?"),
    # "it" is one thing: not the answer to a question asking for several, but the thing it named
    (_history("Which countries signed the long-awaited minerals and reconstruction deal?", "Ukraine and the US. [1]"),
     "Why did it collapse?", "Why did the long-awaited minerals and reconstruction deal collapse?"),
    # "which <a person's role>" asks who: "his" is the one the answer named
    (_history("Which official delivered the letter?", "Speaker Mohammad Qalibaf delivered it in Moscow. [1]"),
     "What was his job?", "What was Mohammad Qalibaf's job?"),
    # "whose" asks for someone too
    (_history("Whose company bought the newspaper?", "Rupert Murdoch's group bought it in May. [1]"),
     "How old is he?", "How old is Rupert Murdoch?"),
    # a subject pronoun keeps the subject it follows; "them" after the question's own plural noun is that noun
    (_history("Why didn't Putin agree to meet Qalibaf?", "Quarantine rules. [1]"),
     "How long do people have to quarantine before he meets them in person?",
     "How long do people have to quarantine before Putin meets them in person?"),
    # "what about X?": X takes the place of the name of its kind (read in the question: "Medvedev"
    # alone is nothing to the tagger), else of the question's subject, and brings its own article
    (_history("Has the Kremlin commented on the Ukraine-U.S. deal?", "Not yet. [1]"), "What about Medvedev?",
     "Has Medvedev commented on the Ukraine-U.S. deal?"),
    # "And in 2014?": the date of its kind replaced, or added when there was none
    (_history("How many viewers did the 2025 Oscars draw?", "19.7 million. [1]"), "And in 2014?",
     "How many viewers did the 2014 Oscars draw?"),
    (_history("How many stores does Kroger run?", "Twenty. [1]"), "What about in Ohio?",
     "How many stores does Kroger run in Ohio?"),
    # "the <title>": the one person of the last turn who bears it
    (_history("Which Milwaukee judge was arrested by federal authorities?", "Judge Hannah Dugan was arrested. [1]"),
     "When is the judge due in court?", "When is Judge Hannah Dugan due in court?"),
])
def test_references_are_resolved_in_place(history, question, expected):
    assert condense(question, history) == expected


def test_it_is_one_thing_they_may_be_the_group_that_answered():
    """"It" is not the answer to "which countries ...?"; "they" may be the answer to "which
    faction ...?" (a group is often "they"), read from its short answer."""
    result = {"question": "Which faction took the city?", "condensed_question": "Which faction took the city?",
              "short_answer": {"text": "the Taliban", "doc_id": "d", "start": 0, "end": 11, "score": 0.9, "n": 1},
              "citations": [{"n": 1, "doc_id": "d", "title": "t", "source": "s", "outlet": None, "date": None,
                             "start": 0, "end": 26, "quote": "the Taliban took the city."}],
              "answer": "the Taliban took the city. [1]", "abstained": False}
    history = [Turn("user", result["question"]), Turn("assistant", result["answer"], answer_from_json(result))]
    assert condense("Who leads them?", history) == "Who leads the Taliban?"
    assert condense("Who leads it?", history) == "Who leads the Taliban?"


def test_the_answer_to_a_who_question_is_read_from_its_result():
    """The result's short answer names the person, whichever face showed the answer."""
    result = {"condensed_question": "Who received the letter instead?", "short_answer": {"text": "Vyacheslav Volodin"},
              "citations": [{"quote": "Qalibaf handed the letter to Vyacheslav Volodin, the Duma's speaker."}]}
    history = [Turn("user", "Who received the letter instead?"),
               Turn("assistant", "shown text", answer_from_json(result))]
    assert condense("What is his position?", history) == "What is Vyacheslav Volodin's position?"


def test_the_person_who_answered_is_read_in_the_lead_else_the_likeliest_elsewhere():
    """A "who" answer without a short answer whose extracts name different new people: the person
    the span reader reads in the first extract that names any (the answer leads with it), even when
    it is surer of someone in a later one; when it reads no one there, its likeliest elsewhere."""
    result = {"condensed_question": "Who was Harry's co-claimant?", "short_answer": None,
              "citations": [{"quote": "Harry settled his claim against Rupert Murdoch's group."},
                            {"quote": "Harry and his co-claimant Tom Watson said in a statement."}]}
    history = [Turn("user", "Who was Harry's co-claimant?"), Turn("assistant", "shown", answer_from_json(result))]

    def unsure_of_the_lead(question, text, spans):
        found = [text[a:b] for a, b in spans or []]
        return ("Tom Watson", 0.9) if "Tom Watson" in found else (found[0], 0.2) if found else None

    def no_one_in_the_lead(question, text, spans):
        found = [text[a:b] for a, b in spans or []]
        return ("Tom Watson", 0.3) if "Tom Watson" in found else None

    assert condense("What was his background?", history, unsure_of_the_lead) == "What was Rupert Murdoch's background?"
    assert condense("What was his background?", history, no_one_in_the_lead) == "What was Tom Watson's background?"
    assert condense("What was his background?", history) == "What was Rupert Murdoch's background?"  # no reader


def test_nothing_is_ever_appended():
    history = _history("What did the council decide?", "It voted on the budget. [1]")
    for question in ("But why?", "What did they say?", "Instead of what?", "Is that so?"):
        condensed = condense(question, history)
        assert "(" not in condensed and len(condensed) < len(question) + 60


@pytest.mark.parametrize("turn", ["ok", "thanks!", "Thank you", "👍", "asdfgh jkl", "qwertyuiop zxcv"])
def test_a_turn_with_no_question_content_is_recognised(turn):
    from qa.text.condense import no_question_content

    assert no_question_content(turn, lambda term: term in {"putin", "meet", "letter"})


@pytest.mark.parametrize("turn", ["Putin?", "Who is Zelda Fitzgerald?", "letter to Putin", "Did they meet"])
def test_a_real_question_is_not_taken_for_noise(turn):
    from qa.text.condense import no_question_content

    assert not no_question_content(turn, lambda term: term in {"putin", "meet", "letter"})


def test_a_turn_with_nothing_to_look_up_gets_one_line_and_no_search(tmp_path):
    from conftest import SEEDS
    from qa.engine import Engine
    from qa.messages import NOTHING_ASKED
    from qa.settings import Settings

    engine = Engine(Settings(store_dir=tmp_path / "store", embedding_model="hash", short_answers=False))
    engine.ingest([SEEDS])
    searched = []
    engine._current().retriever.search = lambda *a, **k: searched.append(a) or []
    for turn in ("thanks!", "asdfgh qwerty", "ok"):
        answer = engine.ask(turn, [Turn("user", "Who is Qalibaf?"), Turn("assistant", "The speaker. [1]")])
        assert answer.abstained and answer.answer == NOTHING_ASKED and "\n" not in answer.answer
        assert answer.condensed_question is None and not answer.passages
    assert searched == []


def test_an_unresolved_follow_up_is_read_with_the_previous_question_and_says_so(tmp_path):
    """Nothing in "What was that about?" can be put in place ("that" is no noun phrase of the
    last question): it is searched and read with the previous question, the question shown stays
    the user's, and a warning names what it was read with. A question that stands alone, asked
    in the same conversation, is read alone."""
    from conftest import SEEDS
    from qa.engine import Engine
    from qa.settings import Settings

    engine = Engine(Settings(store_dir=tmp_path / "store", embedding_model="hash", short_answers=False))
    engine.ingest([SEEDS])
    first = engine.ask("Did Putin agree to meet Qalibaf?")
    history = [Turn("user", first.question), Turn("assistant", first.answer, first)]
    searched = []
    search = engine._current().retriever.search
    engine._current().retriever.search = lambda query, *a, **k: searched.append(query) or search(query, *a, **k)
    follow = engine.ask("What was that about?", history=history)
    assert follow.condensed_question == "What was that about?"
    assert any("read with the previous question: Did Putin agree to meet Qalibaf?" in w for w in follow.warnings)
    assert "Did Putin agree to meet Qalibaf?" in searched[-1]
    alone = engine.ask("Where does Putin live?", history=history)
    assert not any("read with" in w for w in alone.warnings) and searched[-1] == "Where does Putin live?"


def test_an_unresolved_follow_up_is_answered_from_the_documents_the_conversation_cited(tmp_path):
    """A reference nothing could resolve is to what was being discussed: it is searched within the
    documents the conversation's answers cited (an article added to the folder about something
    else never answers it); a question that stands alone searches everything."""
    from conftest import SEEDS
    from qa.engine import Engine
    from qa.settings import Settings

    engine = Engine(Settings(store_dir=tmp_path / "store", embedding_model="hash", short_answers=False))
    engine.ingest([SEEDS])
    first = engine.ask("Did Putin agree to meet Qalibaf?")
    cited = {c.doc_id for c in first.citations}
    history = [Turn("user", first.question), Turn("assistant", first.answer, first)]
    searched = []
    search = engine._current().retriever.search
    engine._current().retriever.search = lambda q, v, k, filters=None, **kw: (
        searched.append(filters) or search(q, v, k, filters=filters, **kw))
    follow = engine.ask("What did the council say about it?", history=history)
    assert any("read with the previous question" in w for w in follow.warnings)
    assert searched[-1] is not None and set(searched[-1].doc_ids) == cited
    assert {c.doc_id for c in follow.citations} <= cited
    engine.ask("What did the council say about Putin?", history=history)  # stands alone
    assert searched[-1] is None or not searched[-1].doc_ids


def test_odd_histories_get_an_answer_read_alone_or_with_the_last_question_and_say_so(tmp_path):
    """A first question that names someone only by a pronoun says it was read alone; fifty
    unrelated turns, assistant turns without a result and a pronoun nothing earlier can fill are
    answered, never a guess presented as understood."""
    from conftest import SEEDS
    from qa.engine import Engine
    from qa.messages import READ_ALONE
    from qa.settings import Settings

    engine = Engine(Settings(store_dir=tmp_path / "store", embedding_model="hash", short_answers=False))
    engine.ingest([SEEDS])
    alone = engine.ask("Why did he refuse the meeting?")
    assert READ_ALONE in alone.warnings and alone.condensed_question == "Why did he refuse the meeting?"
    noise = [Turn("user" if i % 2 == 0 else "assistant", f"turn {i} about the weather in Lisbon") for i in range(50)]
    answer = engine.ask("Why did she leave?", history=noise)
    assert answer.condensed_question == "Why did she leave?"  # nobody earlier: nothing put in her place
    assert any(w.startswith("read with the previous question") for w in answer.warnings)


def test_a_pronoun_goes_to_the_referent_the_conversations_documents_speak_of_as_asked(tmp_path):
    """After "Who is handling Judge Olsen's cases?" (answered: Judge Lind), "her trial" is Olsen's:
    the cited article says "Olsen's trial", never Lind's. With nothing said either way ("his
    pension"), the answer to the who question keeps the pronoun, as the rules prefer."""
    from qa.engine import Engine
    from qa.settings import Settings

    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "court.txt").write_text(
        "Judge Maria Olsen of the Harbor County court was suspended on Monday after her arrest. "
        "Her cases are being handled by Judge Peter Lind, the court said. "
        "Olsen's trial is set to begin on June 3, according to her lawyer. "
        "The court did not say how long the suspension would last.\n", encoding="utf-8")
    (folder / "port.txt").write_text("The harbor authority opened a new ferry terminal on Friday.\n", encoding="utf-8")
    engine = Engine(Settings(store_dir=tmp_path / "store", embedding_model="hash", short_answers=False))
    engine.ingest([folder])
    first = engine.ask("Who is handling Judge Maria Olsen's cases after her arrest?")
    assert "Peter Lind" in first.citations[0].quote
    history = [Turn("user", first.question), Turn("assistant", first.answer, first)]
    assert engine.ask("When does her trial begin?", history=history).condensed_question \
        == "When does Maria Olsen's trial begin?"
    assert engine.ask("How large is his pension?", history=history).condensed_question \
        == "How large is Peter Lind's pension?"
    # an answer known only by its text (an OpenAI client's history): its quotes find its documents
    as_text = [Turn("user", first.question), Turn("assistant", first.answer)]
    assert engine.ask("When does her trial begin?", history=as_text).condensed_question \
        == "When does Maria Olsen's trial begin?"


def test_it_is_never_given_a_person_however_much_the_documents_say_of_them():
    """"Who signed it?" after a question naming Trump and a deal: whatever the documents say of
    Trump and signing, "it" is the deal (a person is "he" or "she")."""
    from qa.text.condense import Exchange, condensed_from

    earlier = [Exchange("What did Trump say about the trade agreement?", None, "Trump praised the deal. [1]")]
    understood = condensed_from("Who signed it and when?", earlier,
                                support=lambda referent, rest: float(referent == "Trump"))
    assert understood == "Who signed the trade agreement and when?"
