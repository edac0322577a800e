"""HTML and markdown renderings: accounts attributed per source, corpus and user text escaped."""
from qa.faces.web import answer_markdown, citations_html, document_html
from qa.types import Answer, Citation, Document, Part, Segment


def _answer(*segments: Segment) -> Answer:
    return Answer("q", False, [], list(segments))


def test_accounts_are_attributed_even_when_titles_have_colons():
    answer = _answer(Segment("According to Iran Times (2021-02-26)", (Part("A", (1,)),)),
                     Segment("According to “Iran: A title”", (Part("B", (2,)),)))
    first, second = answer_markdown(answer).split("\n\n")
    assert first.startswith("**According to Iran Times") and first.endswith("A [1]")
    assert second.startswith("**According to “Iran: A title”:**") and second.endswith("B [2]")
    assert answer.answer == "According to Iran Times (2021-02-26): A [1]\n\nAccording to “Iran: A title”: B [2]"


def test_markup_from_the_corpus_is_escaped():
    answer = _answer(Segment(None, (Part("<script>alert(1)</script> see [link](http://x)", (1,)),)))
    shown = answer_markdown(answer)
    assert "<script>" not in shown and "](" not in shown
    citation = Citation(1, "d", "<b>T</b>", "s", None, None, 0, 8, "<i>q</i>", 1.0)
    assert "<i>q</i>" not in citations_html([citation]) and "&lt;i&gt;" in citations_html([citation])


def test_document_marks_the_span():
    doc = Document("d", "s", "abc <x> def", "T")
    assert "<mark id='cited'>&lt;x&gt;</mark>" in document_html(doc, 4, 7)


def test_abstention_says_so():
    assert "does not say" in answer_markdown(Answer("q", True, [], abstention="The corpus does not say."))
