"""Our own questions about the seeds (bench/seedqa/questions.jsonl, written before tuning): the
product must keep answering them as well as it does now, as a user asking them in a chat would."""
import pytest

from bench.seed_questions import evaluate

pytestmark = pytest.mark.slow


def test_seed_questions_score(real_engine):
    score = evaluate(real_engine)
    # the figures of `python -m bench.seed_questions` in docs/measurements.md, less one question of slack each
    assert score["answerable_right"] >= 18, score  # of 24
    assert score["unanswerable_abstained"] >= 5, score  # of 11
    assert score["dialogues_right"] >= 6, score  # of 11
    assert score["turns_right"] >= 41, score  # of 58
