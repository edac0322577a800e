"""What happened in a window (issue 44): a question with a time window and no topic is answered
with a digest of the window's stories, most widely reported first, each one cited lead sentence
that verifies; a window with nothing in it says so and names the nearest dated documents."""
from __future__ import annotations

from datetime import date

import pytest

from conftest import dated_articles, engine_over
from qa.engine import Engine
from qa.retrieval.digest import digest_request
from qa.text.timewords import read_time

WIRE = ("A winter storm closed every ferry route on the islands on Tuesday. The coast guard said the storm "
        "would pass by Thursday and crews stood ready along the whole coast.")
ARTICLES = {
    "old-report": ("Harbour council report", "Harbour Times", "2025-06-02",
                   "The harbour council chose Mara Lind as harbour master last night. Lind promised new cranes."),
    "new-report": ("Harbour council report", "Harbour Times", "2026-01-05",
                   "The harbour council chose Piet Oster as harbour master last night. Oster promised to dredge."),
    "wire-a": ("Storm closes ferries", "Coast Wire", "2026-01-02", WIRE + " The routes reopen later in the week."),
    "wire-b": ("Storm closes ferries", "Island Post", "2026-01-03", WIRE + " The routes reopen on Friday."),
    "school": ("School prize", "Island Post", "2026-01-06",
               "Pupils of the island school won the national robotics prize with a boat that sails itself."),
}


@pytest.fixture
def engine(hash_env, tmp_path) -> Engine:
    return engine_over(tmp_path / "news", dated_articles(ARTICLES))


def test_what_happened_this_week_is_the_weeks_stories_most_reported_first(engine):
    answer = engine.ask("What happened this week?", as_of="2026-01-07")
    assert not answer.abstained and answer.time["from"] == "2026-01-01" and answer.time["to"] == "2026-01-07"
    cited = [c.doc_id for c in answer.citations]
    assert cited[0] == "wire-a"  # carried by two outlets: first, with the other copy named
    assert [r.doc_id for r in answer.citations[0].also_reported_by] == ["wire-b"]
    assert set(cited) == {"wire-a", "new-report", "school"}  # one citation per story, nothing from June
    assert all("2026-01-01" <= c.date <= "2026-01-07" for c in answer.citations)
    # one segment per story, naming its outlet and date; every quote is the story's lead and verifies
    assert [s.parts[0].cites for s in answer.segments] == [(1,), (2,), (3,)]
    assert answer.segments[0].attribution.startswith("Coast Wire, 2026-01-02")
    assert answer.citations[0].quote == "A winter storm closed every ferry route on the islands on Tuesday."
    ok, verdicts = engine.verifier.verify(answer.to_json())
    assert ok and len(verdicts) == 3


@pytest.mark.parametrize("question,as_of,expected", [
    ("What's new?", "2026-01-07", {"wire-a", "new-report", "school"}),
    ("Anything new today?", "2026-01-06", {"school"}),
    ("What is the latest news?", "2026-01-07", {"wire-a", "new-report", "school"}),
    ("What happened in June?", "2026-01-07", {"old-report"}),
    ("What's new about the harbour council?", "2026-01-07", {"new-report"}),
])
def test_other_ways_of_asking(engine, question, as_of, expected):
    answer = engine.ask(question, as_of=as_of)
    assert {c.doc_id for c in answer.citations} == expected
    assert engine.verifier.verify(answer.to_json())[0]


def test_this_week_with_nothing_in_it_says_so_and_names_the_nearest_dated_documents(engine):
    answer = engine.ask("What happened this week?", as_of="2025-09-03")
    assert answer.abstained and not answer.citations
    assert "Nothing in it is dated 2025-08-28 to 2025-09-03 (“this week”)" in answer.answer
    assert "Harbour Times, 2025-06-02" in answer.answer and "Coast Wire, 2026-01-02" in answer.answer


def test_the_digest_is_the_same_in_the_cli_json(engine, cli):
    shown = cli("ask", "What happened this week?", "--json", "--as-of", "2026-01-07").json()
    assert shown == engine.ask("What happened this week?", as_of="2026-01-07").to_json()
    assert [c["doc_id"] for c in shown["citations"]][0] == "wire-a" and shown["segments"]


@pytest.mark.parametrize("question", [
    "Which strike ended this week?", "Who did the harbour council choose this week?", "What happened?",
    "What happened to the ferries this week?", "Why did Putin refuse to meet Qalibaf?"])
def test_questions_about_something_are_not_digests(question):
    assert digest_request(question, read_time(question, date(2026, 1, 7))) is None


def test_new_about_x_keeps_x():
    request = digest_request("What's new about the harbour council?", read_time("x", date(2026, 1, 7)))
    assert request is not None and request.topic == "the harbour council"


def test_the_chat_shows_every_story_of_a_digest_one_line_each_with_outlet_and_date(engine):
    """An answer's further extracts fold under "N more from M sources"; a digest's stories are what
    was asked for, so the chat shows them all, as asked and as a client sends the result back."""
    from qa.codec import answer_from_json
    from qa.faces.web import chat_markdown

    answer = engine.ask("What happened this week?", as_of="2026-01-07")
    assert answer.to_json()["kind"] == "digest" and len(answer.citations) == 3
    for shown in (answer, answer_from_json(answer.to_json())):
        text = chat_markdown(shown)
        assert "more from" not in text and "<details" not in text
        lines = text.splitlines()
        assert len(lines) == 3  # one per story, most reported first
        for line, citation in zip(lines, answer.citations):
            assert f"{citation.outlet}, {citation.date}" in line and citation.quote[:40] in line
            assert f"[\\[{citation.n}\\]](" in line  # its marker opens the extract
    ordinary = engine.ask("Who did the harbour council choose as harbour master?", as_of="2026-01-07")
    assert ordinary.to_json()["kind"] == "answer" and not ordinary.abstained
