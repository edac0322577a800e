"""Citation checks as pure functions: given text, offsets and a quote, the verdict."""
import pytest

from qa.answering.citations import check_span, locate

TEXT = "Putin is a notable germo-phobe.  He meets others only after quarantine."


@pytest.mark.parametrize("start, end, quote, valid, reason", [
    (0, 31, "Putin is a notable germo-phobe.", True, "matches"),
    (1, 31, "Putin is a notable germo-phobe.", False, "differs"),
    (None, 31, "Putin", False, "missing offsets"),
    (0, 999, "Putin", False, "outside the document"),
    (5, 2, "x", False, "outside the document"),
    (0, 5, "", False, "no quote"),
    (True, 5, "Putin", False, "missing offsets"),
])
def test_check_span(start, end, quote, valid, reason):
    ok, why = check_span(TEXT, start, end, quote)
    assert ok is valid and reason in why


def test_unknown_document():
    assert check_span(None, 0, 1, "x") == (False, "unknown document")


def test_locate_exact_and_approximate():
    docs = [("a", "nothing here"), ("b", TEXT)]
    exact = locate("He meets others only after quarantine.", docs)
    assert (exact.doc_id, exact.exact, TEXT[exact.start:exact.end]) == (
        "b", True, "He meets others only after quarantine.")
    fuzzy = locate("He meets others only  after a quarantine", docs)
    assert fuzzy.doc_id == "b" and not fuzzy.exact and fuzzy.similarity >= 80
    assert "quarantine" in TEXT[fuzzy.start:fuzzy.end]
    assert locate("Completely unrelated words about baking bread", docs) is None


def test_answer_kind_checks_are_general():
    """The kind of answer a question asks for, checked on text no test corpus contains."""
    from qa.answering.extractive import answers_kind

    said = "What did Okafor say about the harbour?"
    assert answers_kind(said, "Okafor said the harbour would reopen in May.")
    assert answers_kind(said, "“It will reopen in May,” he said.", before="Mayor Okafor visited the harbour.")
    assert not answers_kind(said, "The council said the harbour would reopen in May.")  # someone else's words
    assert answers_kind("What is the name of the ferry's captain?", "The captain, Ingrid Solberg, sails daily.")
    assert not answers_kind("What is the name of the ferry's captain?", "The captain sails daily.")
    assert not answers_kind("When did the ferry start?", "The ferry carries many passengers.")


def test_number_words_past_ten_are_numbers():
    from qa.answering.extractive import answers_kind

    assert answers_kind("How many researchers work at the glacier station?",
                        "The station reopened with twelve researchers after the repairs.")
    assert answers_kind("How many people came?", "Hundreds of people came to the harbour.")


def test_menus_bylines_and_title_case_headlines_are_never_cited(tmp_path):
    from qa.engine import Engine
    from qa.settings import Settings

    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "ferry.txt").write_text(
        "Home News Island Transport Ferries The Tindra Ferry Story And Its Passengers Across The Sound\n\n"
        "By Ingrid Solberg | Island Weekly | Updated June 14, 2022\n\n"
        "The Tindra ferry carries 340 passengers between Oskarvik and Selholmen every day.\n", encoding="utf-8")
    engine = Engine(Settings(store_dir=tmp_path / "store", embedding_model="hash"))
    engine.ingest([folder])
    answer = engine.ask("What is the story of the Tindra ferry and its passengers?")
    assert answer.citations and all(not c.quote.startswith(("Home News", "By Ingrid")) for c in answer.citations)
    assert "340 passengers" in answer.citations[0].quote
