"""Sentence spans: exact offsets, abbreviations, quotes, lines."""
import pytest

from qa.text.sentences import split_sentences


@pytest.mark.parametrize("text, expected", [
    ("One. Two.", ["One.", "Two."]),
    ("Dr. Smith met Mr. J. Brown. He left.", ["Dr. Smith met Mr. J. Brown.", "He left."]),
    ("The U.S. President spoke. Then rain.", ["The U.S. President spoke.", "Then rain."]),
    ("He said “No.” Then left! Why? 3 came.", ["He said “No.”", "Then left!", "Why?", "3 came."]),
    ("Headline\n\nBody one. Body two", ["Headline", "Body one.", "Body two"]),
    ("PUTIN. . . disease averse", ["PUTIN. . . disease averse"]),
    ("  padded.  \n", ["padded."]),
    ("", []),
])
def test_sentences(text, expected):
    spans = split_sentences(text)
    assert [text[s.start:s.end] for s in spans] == expected


def test_spans_cover_the_seed_text_in_order(corpus):
    for path in corpus.iterdir():
        text = path.read_text(encoding="utf-8")
        spans = split_sentences(text)
        assert all(a.end <= b.start for a, b in zip(spans, spans[1:]))
        covered = "".join(text[s.start:s.end] for s in spans)
        assert "".join(covered.split()) == "".join(text.split())
