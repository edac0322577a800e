"""The quality harness on a small slice, so it cannot rot (the full run is a benchmark)."""
import json
from pathlib import Path

import pytest

from bench.evaluate import Dataset, Question, normalize, ranking_metrics, split, split_documents, token_f1

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "bench" / "data"


def test_squad_normalization_and_f1():
    assert normalize("The  Denver Broncos!") == "denver broncos"
    assert token_f1("the Denver Broncos won", "Denver Broncos") == pytest.approx(0.8)
    assert token_f1("nothing", "Denver") == 0.0


def test_ranking_metrics():
    assert ranking_metrics(["a", "b", "c"], "a")["ndcg@10"] == 1.0
    second = ranking_metrics(["x", "a"], "a")
    assert second["recall@1"] == 0.0 and second["mrr@10"] == 0.5 and second["recall@5"] == 1.0
    assert ranking_metrics(["x"], "a")["ndcg@10"] == 0.0


def test_split_is_by_article_and_fixed_by_the_seed():
    documents = {f"Article{a}_{p:02d}": "text" for a in range(20) for p in range(3)}
    questions = [Question(str(i), f"q{i}", "a", f"Article{i % 20}_{i % 3:02d}") for i in range(200)]
    dataset = Dataset("xquad-en", documents, questions)
    train, dev_docs, test_docs = split_documents(dataset)
    articles = [{d.rsplit("_", 1)[0] for d in part} for part in (train, dev_docs, test_docs)]
    assert [len(a) for a in articles] == [12, 4, 4] and not (articles[0] & articles[1] or articles[1] & articles[2])
    dev, test = split(dataset)
    assert {q.gold_doc for q in dev} <= dev_docs and {q.gold_doc for q in test} <= test_docs
    assert split(Dataset("xquad-en", documents, list(reversed(questions)))) == (dev, test)


@pytest.mark.slow
@pytest.mark.skipif(not (DATA / "xquad-en").exists(), reason="shared/bench data not beside the repo")
def test_harness_runs_end_to_end_on_a_slice(tmp_path):
    from bench.quality import main

    main(["--sets", "xquad-en", "--configs", "bm25", "hybrid", "--limit", "24",
          "--out", str(tmp_path / "out"), "--work", str(tmp_path / "work")])
    results = json.loads((tmp_path / "out" / "quality.json").read_text())
    test = results["xquad-en"]["test"]
    assert set(test) == {"bm25", "hybrid"}
    assert test["hybrid"]["citation_valid"] == 1.0
    assert test["hybrid"]["recall@10"] >= 0.8  # clean Wikipedia paragraphs: retrieval must work
    assert (tmp_path / "out" / "quality.png").stat().st_size > 1000
    assert "## xquad-en" in (tmp_path / "out" / "quality.md").read_text()
    assert 0.0 <= results["xquad-en"]["abstention"]["abstain_recall"] <= 1.0


def test_a_clean_news_positive_states_the_answer_about_what_was_asked():
    from bench.train_reader import news_positive

    question = "Which automaker recalled more than 380,000 pickup trucks this week?"
    evidence = "Ford is recalling 380,000 F-150 pickup trucks because the rear axle bolts can fracture."
    assert news_positive(question, evidence, "Ford",
                         "Ford recalled about 380,000 pickup trucks after reports of axle bolts breaking.")
    # the answer's word, but not about what was asked: noise the raw labels were full of
    assert not news_positive(question, evidence, "Ford", "Harrison Ford starred in the film.")
    assert not news_positive(question, evidence, "Ford",
                             "Ford is recalling 200 electric SUVs over a software fault.")  # another recall
    assert not news_positive(question, evidence, "Ford", "The pickup trucks were recalled this week.")  # no answer
