"""Chunking: offsets into the text, whole sentences, overlap, size limits."""
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.ingest.chunking import Chunker, encoding
from qa.text.sentences import split_sentences


def _tokens(text: str) -> int:
    return len(encoding().encode_ordinary(text))


def test_chunks_are_exact_slices_with_whole_sentences(corpus):
    text = (corpus / "000_782ea98495621ebe.txt").read_text(encoding="utf-8")
    chunks = Chunker(100, 20).chunk("doc", text)
    starts = {s.start for s in split_sentences(text)}
    ends = {s.end for s in split_sentences(text)}
    assert len(chunks) > 3
    for chunk in chunks:
        assert text[chunk.start:chunk.end] == chunk.text
        assert chunk.start in starts and chunk.end in ends  # never inside a sentence
        assert _tokens(chunk.text) <= 100 + 5  # joined sentences may merge a token or two


def test_consecutive_chunks_overlap_and_cover_everything(corpus):
    text = (corpus / "001_fef7cdd3c9f4f1a3.txt").read_text(encoding="utf-8")
    chunks = Chunker(80, 30).chunk("doc", text)
    article = text.rstrip().removesuffix("Exit mobile version").rstrip()  # site furniture is never chunked
    assert chunks[0].start == 0 and chunks[-1].end == len(article)
    pairs = list(zip(chunks, chunks[1:]))
    assert all(before.start < after.start <= before.end + 2 for before, after in pairs), "no gaps"
    # whole sentences within the overlap budget are repeated; a longer last sentence is not
    assert sum(after.start < before.end for before, after in pairs) >= len(pairs) // 2


def test_an_over_long_sentence_is_cut_at_words():
    text = "word " * 500 + "end."
    chunks = Chunker(50, 10).chunk("d", text)
    assert len(chunks) >= 10
    assert all(_tokens(c.text) <= 55 and text[c.start:c.end] == c.text for c in chunks)


def test_model_limit_splits_chunks_again():
    text = " ".join(f"Sentence number {i} is here." for i in range(60))
    chunks = Chunker(200, 0, model_tokens=lambda t: len(t.split()), model_limit=40).chunk("d", text)
    assert all(len(c.text.split()) <= 40 for c in chunks)
    assert "".join(c.text for c in chunks).replace(" ", "") == text.replace(" ", "")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80),
                max_size=20))
def test_any_text_gives_exact_slices(parts):
    text = ". ".join(parts)
    for chunk in Chunker(32, 8).chunk("d", text):
        assert text[chunk.start:chunk.end] == chunk.text and chunk.text.strip()


def test_lexical_terms_match_bm25s_tokenization():
    import bm25s

    from qa.text.lexical import _stemmer, _stopwords, terms
    from tests_support import SEED_TEXTS

    for text in SEED_TEXTS + ["Why didn't Putin meet Qalibaf?", "U.S. 2021-02-26 e-mail naïve café", ""]:
        expected = bm25s.tokenize([text], stopwords=_stopwords(), stemmer=_stemmer(), show_progress=False,
                                  return_ids=False)[0]
        assert terms(text) == [t for t in expected if t], text
