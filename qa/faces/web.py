"""HTML renderings shared by the chat UI and the source page; everything from users or the corpus is escaped."""
from __future__ import annotations

from html import escape
from urllib.parse import quote as urlquote

from qa import messages
from qa.answering.citations import Location
from qa.types import Answer, Citation, Document, Hit, ShortAnswer


def source_url(doc_id: str, start: int, end: int, answer: tuple[int, int] | None = None) -> str:
    """The article page with start:end marked and, given, the short answer's offsets in bold inside."""
    inner = f"&answer_start={answer[0]}&answer_end={answer[1]}" if answer else ""
    return f"/source/{urlquote(doc_id)}?start={start}&end={end}{inner}#cited"


def cited_url(c: Citation, short: ShortAnswer | None = None) -> str:
    """The article page with the extract marked and, when the extract holds the short answer, that
    in bold inside it."""
    marked = (short.start, short.end) if short is not None and short_answer_in(c, short) else None
    return source_url(c.doc_id, c.start, c.end, marked)


def _byline(outlet: str | None, date: str | None) -> str:
    return " · ".join(escape(x) for x in (outlet, date) if x)


def citations_html(citations: list[Citation], short: ShortAnswer | None = None, abstained: bool = False) -> str:
    """The cited extracts, the short answer in bold inside the one that holds it."""
    if abstained:
        return "<p class='muted'>No citations: the corpus does not say.</p>"
    if not citations:
        return "<p class='muted'>No citations yet.</p>"
    items = []
    for c in citations:
        byline = _byline(c.outlet, c.date)
        items.append(
            f"<div class='citation' data-n='{c.n}'><span class='marker'>[{c.n}]</span> "
            f"<q class='quote'>{_extract_html(c.quote, 0, len(c.quote), short_answer_in(c, short))}</q>"
            f"<div class='meta'><b>{escape(c.title)}</b>{' — ' + byline if byline else ''} "
            f"{f'p. {c.page} ' if c.page else ''}<code>{escape(c.doc_id)} {c.start}-{c.end}</code> "
            f"<a class='open-source' href='{escape(source_url(c.doc_id, c.start, c.end))}' target='_blank' "
            f"rel='noopener'>open in article ↗</a>{_also_html(c.also_reported_by)}</div></div>")
    return "\n".join(items)


def passages_html(hits: list[Hit]) -> str:
    if not hits:
        return "<p class='muted'>No passages retrieved.</p>"
    # in rank order, without the fused score: its scale (reciprocal ranks) means nothing to a reader
    rows = [f"<div class='passage'><div class='meta'>{h.rank}. <b>{escape(h.title)}</b> "
            f"{_byline(getattr(h.doc, 'outlet', None), getattr(h.doc, 'date', None))} "
            f"<a href='{escape(source_url(h.doc_id, h.start, h.end))}' target='_blank' rel='noopener'>open ↗</a>"
            f"{_also_html(h.also_reported_by)}</div>"
            f"<div class='text'>{escape(_excerpt(h.text))}</div></div>" for h in hits]
    return "\n".join(rows)


def _also_html(reporters) -> str:
    """"also in Reuters, AP": the story's other documents, each opening its own article."""
    if not reporters:
        return ""
    links = [f"<a href='/source/{escape(urlquote(r.doc_id))}' target='_blank' rel='noopener'>"
             f"{escape(r.outlet or r.doc_id)}</a>" for r in reporters[:8]]
    more = f" and {len(reporters) - 8} more" if len(reporters) > 8 else ""
    return f"<div class='also'>also in {', '.join(links)}{more}</div>"


def _excerpt(text: str, limit: int = 320) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit].rsplit(" ", 1)[0] + " …"


def answer_markdown(answer: Answer, links: bool = False) -> str:
    """The chat message: each source's account its own paragraph; corpus text escaped. With
    links, every [n] opens its extract highlighted in the article, and the message ends with its
    own numbered sources, so earlier answers keep their citations."""
    if answer.abstained:
        said = _md_escape(messages.in_chat(answer.answer))
        head = messages.ABSTENTION_HEAD
        return f"**{head}**{said[len(head):]}" if said.startswith(head) else said
    by_n = {c.n: c for c in answer.citations}
    short = answer.short_answer

    def marker(n: int) -> str:
        c = by_n.get(n)
        return f" [\\[{n}\\]]({cited_url(c, short)})" if links and c else f" [{n}]"

    paragraphs = []
    if short:  # the words that answer first, linked to their extract in the article
        link = f" [\\[{short.n}\\]]({cited_url(by_n[short.n], short)})" if links else ""
        paragraphs.append(f"**{_md_escape(short.text)}**{link}")
    for segment in answer.segments:
        body = " ".join(_md_escape(part.text) + "".join(marker(n) for n in part.cites) for part in segment.parts)
        paragraphs.append(f"**{_md_escape(segment.attribution)}:** {body}" if segment.attribution else body)
    if links and answer.citations:
        paragraphs.append("<small>" + "<br>".join(
            f"[\\[{c.n}\\]]({cited_url(c, short)}) {_md_escape(c.title)}"
            + (f", p. {c.page}" if c.page else "") for c in answer.citations) + "</small>")
    return "\n\n".join(paragraphs)


def chat_markdown(answer: Answer) -> str:
    """The chat's message, short first: the short answer in bold (when there is one), then the lead
    extract with its marker; the further extracts folded under "N more from M sources" (open on a
    click); then the citations as chips with outlet and date. Every [n] opens its extract in the
    article. An answer an LLM wrote, or an abstention, is shown whole (answer_markdown). A digest
    ("What happened this week?") is a list of the window's stories, every one shown: one line each,
    its outlet and date, its lead sentence and marker."""
    if answer.abstained or answer.answerer != "extractive" or not answer.segments:
        return answer_markdown(answer, links=True)
    by_n, short = {c.n: c for c in answer.citations}, answer.short_answer

    def cited(part) -> str:
        return _md_escape(part.text) + "".join(
            f" [\\[{n}\\]]({cited_url(by_n[n], short)})" if n in by_n else f" [{n}]" for n in part.cites)

    def paragraph(attribution: str | None, parts) -> str:
        body = " ".join(cited(part) for part in parts)
        return f"**{_md_escape(attribution)}:** {body}" if attribution else body

    if answer.kind == "digest":  # a window's stories: every one, one line each naming outlet and date
        return "\n".join(f"- {paragraph(segment.attribution, segment.parts)}" for segment in answer.segments)
    paragraphs = []
    if short and short.n in by_n:
        paragraphs.append(f"**{_md_escape(short.text)}** [\\[{short.n}\\]]({cited_url(by_n[short.n], short)})")
    first, *others = answer.segments
    paragraphs.append(paragraph(first.attribution, first.parts[:1]))
    rest = [(first.attribution, first.parts[1:])] if first.parts[1:] else []
    rest += [(segment.attribution, segment.parts) for segment in others]
    if rest:
        lead = set(first.parts[0].cites)
        extracts = {n for _, parts in rest for part in parts for n in part.cites if n not in lead} or {
            n for _, parts in rest for part in parts for n in part.cites}
        count = len(extracts) or sum(len(parts) for _, parts in rest)
        sources = len({by_n[n].doc_id for n in extracts if n in by_n}) or 1
        label = f"{count} more from {sources} source{'s' if sources != 1 else ''}"
        paragraphs.append(f"<details class='more'><summary>{label}</summary>\n\n"
                          + "\n\n".join(paragraph(a, parts) for a, parts in rest) + "\n\n</details>")
    if answer.citations:
        paragraphs.append("<span class='chips'>" + " ".join(_chip(c, short) for c in answer.citations) + "</span>")
    return "\n\n".join(paragraphs)


def _chip(c: Citation, short: ShortAnswer | None) -> str:
    """A citation as a chip: its marker opening the extract, its outlet and date (the title when
    it has neither), the title on hover."""
    where = " · ".join(_md_escape(x) for x in (c.outlet, c.date, f"p. {c.page}" if c.page else None) if x)
    return (f"<span class='chip' title='{escape(c.title, quote=True)}'>[\\[{c.n}\\]]({cited_url(c, short)}) "
            f"{where or _md_escape(c.title)}</span>")


def _md_escape(text: str) -> str:
    """Shown as text: no HTML, no markdown links or emphasis from corpus or user text."""
    text = escape(text, quote=False)
    for ch in "\\`*_{}[]()#+!|~>":
        if ch in "[]":
            continue  # keep the [n] markers readable; links need "](" which is broken below
        text = text.replace(ch, "\\" + ch)
    return text.replace("](", "]\\(")


def document_html(doc: Document, start: int | None, end: int | None, label: str = "",
                  answer: tuple[int, int] | None = None) -> str:
    """The article with the extract start:end marked, and inside it the short answer `answer`
    (document offsets) in bold, when it lies within the extract."""
    text = doc.text
    if start is not None and end is not None and 0 <= start <= end <= len(text):
        body = (escape(text[:start]) + f"<mark id='cited'>{_extract_html(text, start, end, answer)}</mark>"
                + escape(text[end:]))
    else:
        body = escape(text)
    byline = _byline(doc.outlet, doc.date)
    return (f"<div class='article'><h3>{escape(doc.title)}</h3>"
            f"<div class='meta'>{byline + ' · ' if byline else ''}<code>{escape(doc.doc_id)}</code>"
            f"{' · ' + escape(label) if label else ''}</div>"
            f"<div class='article-text'>{body}</div></div>")


def short_answer_in(c: Citation, short: ShortAnswer | None) -> tuple[int, int] | None:
    """The short answer's offsets inside citation c's quote, when c holds it."""
    if short and short.doc_id == c.doc_id and c.start <= short.start < short.end <= c.end:
        return short.start - c.start, short.end - c.start
    return None


def _extract_html(text: str, start: int, end: int, answer: tuple[int, int] | None) -> str:
    if answer is None or not start <= answer[0] < answer[1] <= end:
        return escape(text[start:end])
    a, b = answer
    return escape(text[start:a]) + f"<strong class='short-answer'>{escape(text[a:b])}</strong>" + escape(text[b:end])


def location_html(quote: str, found: Location | None, doc: Document | None,
                  closest: tuple[Document, int, int] | None = None) -> str:
    """Where a pasted quote is in the corpus; when it is nowhere, the closest passage and how
    the quote differs from it."""
    if found is None or doc is None:
        verdict = "<p class='verdict not-found'>Not found: this quote does not appear in the corpus.</p>"
        if closest is None:
            return verdict
        near, start, end = closest
        return (verdict + f"<p class='meta closest'>The closest passage, in <b>{escape(near.title)}</b> at "
                f"characters {start}-{end}:</p>" + quote_diff_html(quote, _whole_words(near.text, start, end))
                + document_html(near, start, end))
    how = "Exact match" if found.exact else f"Approximate match ({found.similarity:.0f}% similar)"
    differences = "" if found.exact else quote_diff_html(quote, _whole_words(doc.text, found.start, found.end))
    return (f"<p class='verdict {'exact' if found.exact else 'approximate'}'>{how} in "
            f"<b>{escape(doc.title)}</b> at characters {found.start}-{found.end}.</p>"
            + differences + document_html(doc, found.start, found.end))


def _whole_words(text: str, start: int, end: int) -> str:
    """The span widened to whole words: an approximate match may begin or end inside one."""
    while start > 0 and text[start - 1].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum():
        end += 1
    return text[start:end]


def quote_diff_html(pasted: str, source: str) -> str:
    """How a pasted quote differs from the source, word by word: what the source does not have
    struck through, what the paste left out or changed underlined."""
    import difflib

    a, b = pasted.split(), source.split()
    pieces = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            pieces.append(escape(" ".join(a[i1:i2])))
            continue
        if i2 > i1:
            pieces.append(f"<del title='in your quote, not in the source'>{escape(' '.join(a[i1:i2]))}</del>")
        if j2 > j1:
            pieces.append(f"<ins title='in the source'>{escape(' '.join(b[j1:j2]))}</ins>")
    return ("<div class='quote-diff'><div class='meta'>Your quote against the source "
            "(<del>not in the source</del>, <ins>what the source says</ins>):</div>"
            f"<p>{' '.join(pieces)}</p></div>")


SOURCE_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><style>
body{{font:16px/1.6 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#222}}
.article-text{{white-space:pre-wrap;overflow-wrap:anywhere}} mark{{background:#ffe066;padding:.1em 0}}
.short-answer{{background:#ffc800}} .meta{{color:#666}}
</style></head><body>{body}
<script>document.getElementById('cited')?.scrollIntoView({{block:'center'}});</script></body></html>"""


def source_page(doc: Document, start: int | None, end: int | None, answer: tuple[int, int] | None = None) -> str:
    return SOURCE_PAGE.format(title=escape(doc.title), body=document_html(doc, start, end, answer=answer))


def missing_source_page(doc_id: str) -> str:
    """A link to a document that has left the corpus (deleted, or never there), as a page."""
    return SOURCE_PAGE.format(title="Document not found", body=(
        f"<h3>This document was deleted</h3><p class='meta'>No document <code>{escape(doc_id)}</code> is in the "
        "corpus now: it was deleted or replaced after this link was made, so its extract cannot be shown.</p>"))


def documents_table_html(total: int, docs: list) -> str:
    if not docs:
        return "<p class='muted'>No documents yet: add some above.</p>"
    rows = "".join(
        f"<tr><td><code>{escape(d.doc_id)}</code></td><td>{escape(d.title)}</td>"
        f"<td>{_byline(d.outlet, d.date)}</td><td>{d.chunks}</td><td class='source'>{escape(d.source)}</td></tr>"
        for d in docs)
    shown = f"{len(docs)} of {total}" if len(docs) < total else f"{total}"
    return (f"<p class='meta'>{shown} documents</p><table class='documents'><thead><tr><th>id</th><th>title</th>"
            f"<th>outlet · date</th><th>chunks</th><th class='source'>source</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")
