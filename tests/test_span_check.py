"""The span reader checks the best sentences after the sentence reader: a sentence that states the
thing asked for outranks a more general one about the same event (bench/results/span-check.md)."""
from __future__ import annotations

from types import SimpleNamespace

from qa.answering.extractive import ExtractiveAnswerer, Tuning
from qa.settings import Settings
from qa.types import PassageSentence

HOW_LONG = "How long do visitors have to stay in quarantine before seeing Putin?"
GENERAL = ("Ever since the start of the coronavirus epidemic, he has quarantined himself at his dacha outside "
           "Moscow and meets with government officials over the Russian equivalent of Zoom.")
STATING = "He meets face-to-face with others only after they have spent two weeks in quarantine near his dacha."


class _Spans:
    """A span reader that is sure of the sentences holding `words`, and of no other."""

    def __init__(self, words: str):
        self.words, self.read = words, []

    def holds_answer(self, question, texts):
        self.read.append(list(texts))
        return [0.95 if self.words in t else 0.05 for t in texts]


class _Store:
    """Each sentence its own document (what the extracts are widened from)."""

    def __init__(self):
        self.texts: dict[str, str] = {}

    def document(self, doc_id):
        return SimpleNamespace(text=self.texts[doc_id])


_STORE = _Store()


def _answerer(spans, **changes) -> ExtractiveAnswerer:
    return ExtractiveAnswerer(_STORE, Tuning.from_settings(Settings(**changes)), None, spans)


def _sentence(text: str, score: float, row: int, prob: float | None = 0.5) -> PassageSentence:
    _STORE.texts[f"d{row}"] = text
    return PassageSentence(f"d{row}", 0, len(text), text, row, row, relevance=score, answer_prob=prob, score=score)


def test_the_sentence_that_states_the_answer_outranks_a_general_one():
    general, stating = _sentence(GENERAL, 0.60, 1), _sentence(STATING, 0.50, 2)
    spans = _Spans("two weeks")
    checked = _answerer(spans)._span_checked(_question(), [general, stating])
    assert [s.text for s in checked] == [STATING, GENERAL]
    assert spans.read == [[GENERAL, STATING]]


def test_only_the_best_few_are_checked_and_the_rest_keep_their_place():
    ranked = [_sentence(f"Sentence {i} says nothing.", 0.9 - i / 20, i) for i in range(6)]
    spans = _Spans("Sentence 5")
    checked = _answerer(spans, span_check_sentences=2)._span_checked(_question(), ranked)
    assert spans.read == [[ranked[0].text, ranked[1].text]]
    assert [s.text for s in checked[2:]] == [s.text for s in ranked[2:]]  # the sixth is never lifted


def test_no_check_when_off_or_when_the_reader_did_not_read():
    general, stating = _sentence(GENERAL, 0.60, 1), _sentence(STATING, 0.50, 2)
    spans = _Spans("two weeks")
    assert _answerer(spans, span_check_sentences=0)._span_checked(_question(), [general, stating])[0] is general
    unread = [_sentence(GENERAL, 0.6, 1, None), _sentence(STATING, 0.5, 2, None)]
    assert _answerer(spans)._span_checked(_question(), unread)[0].text == GENERAL
    assert spans.read == []


def test_the_shipped_span_reader_tells_the_stating_sentence_from_the_general_one():
    from qa.answering.span import SpanReader

    general, stating = SpanReader().holds_answer(HOW_LONG, [GENERAL, STATING])
    assert stating > 0.5 > general


def _question():
    from qa.text.questions import understand

    return understand(HOW_LONG, HOW_LONG, None)


def test_why_and_how_questions_are_not_checked():
    general, stating = _sentence(GENERAL, 0.60, 1), _sentence(STATING, 0.50, 2)
    spans = _Spans("two weeks")
    for asked in ("Why does Putin meet visitors only after a quarantine?", "How does Putin meet his officials?"):
        from qa.text.questions import understand

        assert _answerer(spans)._span_checked(understand(asked, asked, None), [general, stating])[0] is general
    assert spans.read == []


def test_the_span_reader_is_loaded_for_the_check_even_without_short_answers(hash_env, tmp_path):
    """Short answers off, the check on: the span reader checks sentences but gives no short
    answer (nor a follow-up's referent); both off, or the check's weight 0: it is not loaded."""
    from conftest import engine_over

    store = engine_over(tmp_path / "articles", {"a": "Putin meets visitors after two weeks in quarantine."})

    def loaded(**changes):
        engine = type(store)(Settings(**changes))
        return engine.models.readers()[1] is not None, engine._current().spans is not None, \
            engine._current().extractive.spans is not None

    assert loaded(short_answers=False) == (True, False, True)
    assert loaded(short_answers=False, span_check_sentences=0) == (False, False, False)
    assert loaded(short_answers=False, span_check_weight=0.0) == (False, False, False)
    assert loaded() == (True, True, True)
