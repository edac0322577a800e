"""One shape for each thing: every face's JSON is the domain value's `to_json()`, its REST schema is
made from the same dataclass (qa.faces.schema), and an answer read back by the codec is the answer
the next turn needs."""
from __future__ import annotations

import json

import pytest

from conftest import SEEDS
from qa.codec import answer_from_json, turns_from_json
from qa.engine import Engine
from qa.errors import InputError
from qa.faces import schema
from qa.settings import Settings
from qa.types import Answer, Turn


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    engine = Engine(Settings(store_dir=tmp_path_factory.mktemp("schema") / "store", embedding_model="hash"))
    engine.ingest([SEEDS])
    return engine


@pytest.fixture(scope="module")
def answer(engine) -> Answer:
    answer = engine.ask("Why didn't Putin meet Qalibaf?", as_of="2021-03-01")
    assert not answer.abstained and answer.citations and answer.passages
    return answer


def _fields(model) -> set[str]:
    return {f.alias or name for name, f in model.model_fields.items()}


def _same_shape(model, data: dict) -> None:
    """The JSON has exactly the model's fields, and the model accepts it."""
    assert set(data) == _fields(model), f"{model.__name__}: {set(data) ^ _fields(model)}"
    model.model_validate(data)


def test_an_answer_and_all_it_holds_have_the_shape_rest_documents(answer):
    data = answer.to_json()
    _same_shape(schema.AskResponse, data)
    _same_shape(schema.CitationOut, data["citations"][0])
    _same_shape(schema.SearchResult, data["passages"][0])
    _same_shape(schema.SegmentOut, data["segments"][0])
    _same_shape(schema.PartOut, data["segments"][0]["parts"][0])


def test_search_results_documents_and_lists_have_their_documented_shape(engine):
    results = engine.find("Qalibaf Moscow letter", 3, as_of="2021-03-01").to_json()
    _same_shape(schema.SearchResponse, results)
    _same_shape(schema.SearchResult, results["results"][0])
    doc = engine.library.document(results["results"][0]["doc_id"]).to_json()
    _same_shape(schema.DocumentOut, doc)
    total, docs = engine.library.documents(limit=2)
    _same_shape(schema.DocumentListItem, docs[0].to_json())


def test_rest_returns_every_field_of_an_answer_including_its_segments(engine):
    from fastapi.testclient import TestClient

    from qa.faces.server import build_app

    client = TestClient(build_app(engine.settings))
    body = client.post("/api/ask", json={"question": "Why didn't Putin meet Qalibaf?", "as_of": "2021-03-01"}).json()
    assert body["segments"] and body["segments"][0]["parts"][0]["cites"] == [1]
    assert set(body) == _fields(schema.AskResponse)


def test_an_answer_read_back_is_the_same_answer(answer):
    """What a client sends back as an earlier turn's result is decoded into the answer it was:
    its prose, citations, segments, short answer and what it was understood as."""
    back = answer_from_json(json.loads(json.dumps(answer.to_json())))
    assert back.to_json() == {**answer.to_json(), "passages": []}
    assert back.answer == answer.answer and back.segments == answer.segments


def test_a_follow_up_reads_the_earlier_answer_as_data_whatever_was_displayed(engine, answer):
    """The same follow-up, the earlier answer sent as JSON (REST, MCP, the chat) or kept as an
    object (CLI, benches): the same question is understood."""
    as_json = turns_from_json([{"role": "user", "content": answer.question},
                               {"role": "assistant", "content": "(shown differently)", "result": answer.to_json()}])
    as_objects = [Turn("user", answer.question), Turn("assistant", answer.answer, answer)]
    follow_up = "Who did he meet instead?"
    assert engine.ask(follow_up, as_json, as_of="2021-03-01").condensed_question == \
        engine.ask(follow_up, as_objects, as_of="2021-03-01").condensed_question
    assert as_json[1].text == answer.answer


def test_an_older_client_result_without_segments_keeps_its_prose():
    back = answer_from_json({"answer": "It rained [1].", "citations": [{"n": 1, "quote": "It rained."}]})
    assert back.answer == "It rained [1]." and back.citations[0].quote == "It rained."


@pytest.mark.parametrize("result, message", [
    ({"citations": "none"}, "result.citations must be a list"),
    ({"short_answer": {"text": 3}}, "result.short_answer.text must be a string"),
    ({"segments": [{"parts": [{"text": "x", "cites": ["1"]}]}]}, "cites must be a list of citation numbers"),
    ({"abstained": "no"}, "result.abstained must be true or false"),
])
def test_a_malformed_result_is_one_line_naming_its_field(result, message):
    with pytest.raises(InputError, match=message):
        turns_from_json([{"role": "assistant", "content": "", "result": result}])


def test_answers_do_not_change_once_made(answer):
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        answer.abstained = True  # type: ignore[misc]
    assert isinstance(answer.citations, tuple) and isinstance(answer.warnings, tuple)
