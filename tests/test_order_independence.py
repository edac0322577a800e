"""One answer per question, whatever else is asked: the same questions asked forwards, backwards
and as a batch from fresh engines give identical answers and scores."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.engine import Engine

pytestmark = pytest.mark.slow
QUESTIONS = [json.loads(line)["question"] for line in
             (Path(__file__).resolve().parent.parent / "bench" / "calibration" / "seeds.jsonl").read_text().splitlines()
             if line.strip()]


def _answers(engine: Engine, questions: list[str]) -> dict[str, dict]:
    out = {}
    for question in questions:
        result = engine.ask(question).to_json()
        result.pop("passages")
        out[question] = result
    return out


def test_answers_do_not_depend_on_what_was_asked_before(real_engine):
    settings = real_engine.settings
    forwards = _answers(Engine(settings), QUESTIONS)
    backwards = _answers(Engine(settings), list(reversed(QUESTIONS)))
    shuffled = _answers(Engine(settings), QUESTIONS[1::2] + QUESTIONS[::2])
    assert len(QUESTIONS) >= 20
    for question in QUESTIONS:
        assert forwards[question] == backwards[question] == shuffled[question], question


def test_search_scores_do_not_depend_on_the_batch(real_engine, cli, monkeypatch, tmp_path):
    queries = tmp_path / "q.jsonl"
    queries.write_text("\n".join(json.dumps({"query": q, "k": 5}) for q in QUESTIONS))
    backwards = tmp_path / "b.jsonl"
    backwards.write_text("\n".join(json.dumps({"query": q, "k": 5}) for q in reversed(QUESTIONS)))
    store = str(real_engine.settings.store.store_dir)
    first = {r["query"]: r for r in cli("search", "--batch", queries, "--store", store).json_lines()}
    second = {r["query"]: r for r in cli("search", "--batch", backwards, "--store", store).json_lines()}
    assert first == second
