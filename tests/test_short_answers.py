"""Short answers are off until a span reader reaches the precision bar (bench/results/short-answers.md):
every ask result still carries the field, null; and which questions could ever get one."""
from conftest import SEEDS
from qa.answering.span import asks_for_a_thing
from qa.engine import Engine
from qa.settings import Settings


def test_ask_results_carry_a_null_short_answer_by_default(tmp_path):
    engine = Engine(Settings(store_dir=tmp_path / "store", embedding_model="hash"))
    engine.ingest([SEEDS])
    result = engine.ask("Who did Qalibaf give the letter to?").to_json()
    assert "short_answer" in result and result["short_answer"] is None


def test_only_questions_that_ask_for_a_thing_could_get_one():
    for question in ("Who received the letter?", "He plays for which team?", "How many days did it last?",
                     "In which city did they meet?", "When was it published?"):
        assert asks_for_a_thing(question), question
    for question in ("Why didn't Putin meet Qalibaf?", "How did the media report it?", "Is he running for president?"):
        assert not asks_for_a_thing(question), question
