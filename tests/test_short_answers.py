"""Short answers: the few words of a cited extract that answer. The span invariant over many
answers, none for why-questions, how readings of several extracts combine, the same span from
every face, and the article view marking it inside its extract."""
from __future__ import annotations

import asyncio
import json
import socket
import threading
import time

import pytest

from conftest import ROOT
from qa.answering.span import Reading, agreed, asks_for_a_thing, words
from qa.engine import Engine
from qa.faces.web import citations_html, cited_url, document_html
from qa.types import Citation, Document, ShortAnswer

HOW_LONG = "How long do visitors have to stay in quarantine before seeing Putin?"


def _citation(n: int, quote: str, doc_id: str = "d", start: int = 0) -> Citation:
    return Citation(n, doc_id, "t", "s", None, None, start, start + len(quote), quote, 1.0)


def test_only_questions_that_ask_for_a_thing_could_get_one():
    for question in ("Who received the letter?", "He plays for which team?", "How many days did it last?",
                     "In which city did they meet?", "When was it published?"):
        assert asks_for_a_thing(question), question
    for question in ("Why didn't Putin meet Qalibaf?", "How did the media report it?", "Is he running for president?"):
        assert not asks_for_a_thing(question), question


def test_readings_that_agree_outrank_one_surer_reading():
    one = _citation(1, "The Bills beat the Jets.", "a", 100)
    two = _citation(2, "Buffalo's Bills won again.", "b", 40)
    three = _citation(3, "The Jets were beaten.", "c")
    readings = [Reading(one, 4, 9, 0.6), Reading(two, 10, 15, 0.6), Reading(three, 4, 8, 0.7)]
    short = agreed("Which team won?", readings)
    assert (short.text, short.n, short.doc_id, short.start, short.end) == ("Bills", 1, "a", 104, 109)
    assert short.score == pytest.approx(1 - 0.4 * 0.4)  # at least one of the two readings right


def test_a_span_of_the_question_s_own_words_is_no_answer():
    c = _citation(1, "The team won the final.")
    assert agreed("Which team won the final?", [Reading(c, 4, 8, 0.9)]) is None
    assert words("The Buffalo Bills!") == ("buffalo", "bills")


class _SureReader:
    """Reads a fixed span of every extract with a fixed probability: a reader with no near ties."""

    def __init__(self, span: str, probability: float):
        self.span, self.probability = span, probability

    def read(self, question, citations, candidates=None):
        return [Reading(c, c.quote.index(self.span), c.quote.index(self.span) + len(self.span), self.probability)
                for c in citations if self.span in c.quote]


def test_a_short_answer_is_only_what_the_answer_s_own_claim_states():
    """An LLM's claim pinned to an extract that says something else gives no short answer from
    that extract, however sure the reader is of its reading; the same extract cited by a claim
    that says the same words gives one."""
    from qa.answering.span import with_short_answer
    from qa.text.questions import understand
    from qa.types import Answer, Part, Segment

    extract = _citation(1, "Qalibaf waited almost a year for the meeting.")
    question = understand(HOW_LONG, HOW_LONG, None)
    reader = _SureReader("almost a year", 0.99)
    for claim, expected in (("Visitors spend two weeks in quarantine.", None),
                            ("Qalibaf waited almost a year.", "almost a year")):
        answer = Answer(HOW_LONG, False, (extract,), (Segment(None, (Part(claim, (1,)),)),), answerer="llm")
        short = with_short_answer(answer, question, reader, threshold=0.0).short_answer
        assert (short.text if short else None) == expected, claim


def test_the_article_view_marks_the_short_answer_inside_its_extract():
    doc = Document("d", "s", "Qalibaf gave the letter to Vyacheslav Volodin in Moscow.", "T")
    html = document_html(doc, 0, 55, answer=(27, 45))
    assert "<mark id='cited'>" in html and "<strong class='short-answer'>Vyacheslav Volodin</strong>" in html
    assert "short-answer" not in document_html(doc, 0, 20, answer=(27, 45))  # outside the extract: not marked
    short = ShortAnswer("Vyacheslav Volodin", "d", 27, 45, 0.9, 1)
    assert "answer_start=27&answer_end=45" in cited_url(_citation(1, doc.text[:55]), short)
    assert "answer_start" not in cited_url(_citation(2, "other", "e"), short)
    panel = citations_html([_citation(1, doc.text[:55]), _citation(2, "Volodin <b>again</b>", "e")], short)
    assert "<strong class='short-answer'>Vyacheslav Volodin</strong>" in panel and panel.count("short-answer") == 1
    assert "&lt;b&gt;again" in panel  # the rest of each quote is still escaped text


def test_extracts_read_together_read_as_they_do_alone():
    """An extract's reading does not depend on what else is read with it (int8 dynamic
    quantization would make a padded batch read each one differently)."""
    from qa.answering.span import SpanReader

    reader = SpanReader()
    quotes = ["He meets face-to-face with others only after they have spent two weeks in quarantine near his dacha.",
              "Qalibaf left Moscow after three days.",
              "Ever since the start of the coronavirus epidemic, he has quarantined himself at his dacha outside "
              "Moscow and meets with government officials over the Russian equivalent of Zoom."]
    citations = [_citation(n, q, f"d{n}") for n, q in enumerate(quotes, 1)]
    together = reader.read(HOW_LONG, citations)
    alone = [r for c in citations for r in reader.read(HOW_LONG, [c])]
    assert ([(r.citation.n, r.text, r.probability) for r in together]
            == [(r.citation.n, r.text, r.probability) for r in alone])
    assert together and together[0].text == "two weeks"


@pytest.fixture(scope="module")
def eager(real_engine):
    """The shipped models with every short answer shown (threshold 0), over the seed articles."""
    return Engine(real_engine.settings.updated(**{"short_answers": True, "short_answer_threshold": 0.0}))


def _questions_about_the_seeds() -> list[str]:
    """Every question of our own seed question set (bench/seedqa, answerable or not, each turn of
    the dialogues), and each again in lower case without its question mark, as people type them."""
    lines = (ROOT / "bench" / "seedqa" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    asked = [turn["q"] for line in lines for turn in json.loads(line)["turns"]]
    return asked + [q.lower().rstrip("?") for q in asked]


def test_every_short_answer_is_a_span_of_its_cited_extract(eager):
    shown = 0
    for question in _questions_about_the_seeds():
        answer = eager.ask(question)
        short = answer.short_answer
        if short is None:
            continue
        shown += 1
        text = eager.library.document(short.doc_id).text
        assert text[short.start:short.end] == short.text
        cited = next(c for c in answer.citations if c.n == short.n)
        assert cited.doc_id == short.doc_id and cited.start <= short.start < short.end <= cited.end
        assert 0.0 < short.score <= 1.0 and short.text.strip() == short.text
    assert shown >= 20  # the property was checked on many answers, not vacuously


def test_why_and_how_questions_get_none(eager):
    for question in ("Why didn't Putin meet Qalibaf?", "How does Putin meet government officials?"):
        answer = eager.ask(question)
        assert answer.citations and answer.short_answer is None


def test_a_how_long_question_gets_the_duration(eager):
    short = eager.ask(HOW_LONG).short_answer
    assert short is not None and short.text == "two weeks"


def test_a_typed_question_is_answered_by_an_entity_of_its_type(eager):
    """Asked when or which person, the reader chooses among the dates or the people of the cited
    extracts, never other words of them."""
    from qa.text.nlp import entities

    for question, labels in (("When did Tasnim react to the news?", {"DATE", "TIME"}),
                             (HOW_LONG, {"DATE", "TIME", "CARDINAL", "QUANTITY"})):
        answer = eager.ask(question)
        short = answer.short_answer
        assert short is not None, question
        cited = next(c for c in answer.citations if c.n == short.n)
        found = {(e.start + cited.start, e.end + cited.start, e.label) for e in entities([cited.quote])[0]}
        assert any((short.start, short.end) == (a, b) and label in labels for a, b, label in found), short


def _serve(engine: Engine):
    import uvicorn

    from qa.faces.server import build_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(build_app(engine.settings, engine), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not server.started and time.time() < deadline:
        time.sleep(0.1)
    return server, thread, f"http://127.0.0.1:{port}"


async def _mcp_ask(url: str, question: str) -> dict:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async with streamable_http_client(f"{url}/mcp") as (read, write, *_):
        async with ClientSession(read, write) as session:
            await session.initialize()
            return json.loads((await session.call_tool("ask", {"question": question})).content[0].text)


@pytest.mark.slow
def test_every_face_returns_the_same_short_answer(eager, cli, monkeypatch, tmp_path):
    import httpx

    expected = eager.ask(HOW_LONG).to_json()["short_answer"]
    assert expected and expected["text"] == "two weeks"
    server, thread, url = _serve(eager)
    try:
        rest = httpx.post(f"{url}/api/ask", json={"question": HOW_LONG}, timeout=60).json()["short_answer"]
        chat = httpx.post(f"{url}/v1/chat/completions", timeout=60, json={
            "model": "corpus-qa", "messages": [{"role": "user", "content": HOW_LONG}]}).json()
        mcp = asyncio.run(asyncio.wait_for(_mcp_ask(url, HOW_LONG), 120))["short_answer"]
    finally:
        server.should_exit = True
        thread.join(30)
    assert rest == expected and mcp == expected and chat["corpus_qa"]["short_answer"] == expected
    assert chat["choices"][0]["message"]["content"].startswith(f"{expected['text']} [{expected['n']}]")
    monkeypatch.setenv("QA_SHORT_ANSWERS", "true")
    monkeypatch.setenv("QA_SHORT_ANSWER_THRESHOLD", "0")
    store = str(eager.settings.store.store_dir)
    assert cli("ask", HOW_LONG, "--json", "--store", store).json()["short_answer"] == expected
    batch = tmp_path / "questions.jsonl"
    batch.write_text(json.dumps({"question": HOW_LONG}) + "\n")
    assert cli("ask", "--batch", str(batch), "--json", "--store", store).json_lines()[0]["short_answer"] == expected
    assert cli("ask", HOW_LONG, "--store", store).out.startswith(f"Answer: {expected['text']} [{expected['n']}]")
