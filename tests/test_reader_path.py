"""QA_READER also takes a candidate model file's path: a candidate is measured against the shipped
reader (bench.news, bench.reader_compare) without replacing the shipped file."""
import shutil

import pytest

from qa.answering.reader import MODELS, load_reader
from qa.errors import QAError
from qa.settings import Settings


def test_a_reader_by_path_reads_as_the_same_file_by_name(tmp_path):
    candidate = tmp_path / "reader-news-int8.onnx"
    shutil.copy(MODELS / "reader-news-int8.onnx", candidate)
    shutil.copy(MODELS / "reader-news.json", tmp_path)  # the card bench.train_reader --out writes beside it
    question, sentences = "Who won the race?", ["Smith won the race on Sunday.", "It rained all day."]
    by_path = load_reader(Settings(reader=str(candidate)).reader.reader)
    assert list(by_path.score(question, sentences)) == list(load_reader("news-reader").score(question, sentences))


def test_a_reader_path_without_its_card_or_not_a_model_is_refused(tmp_path):
    candidate = tmp_path / "reader-news-int8.onnx"
    shutil.copy(MODELS / "reader-news-int8.onnx", candidate)
    with pytest.raises(QAError, match="card"):
        load_reader(str(candidate))
    with pytest.raises(Exception, match="reader"):
        Settings(reader="some-other-reader")
