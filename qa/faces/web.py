"""HTML renderings shared by the chat UI and the source page; everything from users or the corpus is escaped."""
from __future__ import annotations

from html import escape
from urllib.parse import quote as urlquote

from qa.answering.citations import Location
from qa.types import Answer, Citation, Document, Hit


def source_url(doc_id: str, start: int, end: int) -> str:
    return f"/source/{urlquote(doc_id)}?start={start}&end={end}#cited"


def _byline(outlet: str | None, date: str | None) -> str:
    return " · ".join(escape(x) for x in (outlet, date) if x)


def citations_html(citations: list[Citation]) -> str:
    if not citations:
        return "<p class='muted'>No citations yet.</p>"
    items = []
    for c in citations:
        byline = _byline(c.outlet, c.date)
        items.append(
            f"<div class='citation' data-n='{c.n}'><span class='marker'>[{c.n}]</span> "
            f"<q class='quote'>{escape(c.quote)}</q>"
            f"<div class='meta'><b>{escape(c.title)}</b>{' — ' + byline if byline else ''} "
            f"<code>{escape(c.doc_id)} {c.start}-{c.end}</code> "
            f"<a class='open-source' href='{escape(source_url(c.doc_id, c.start, c.end))}' target='_blank' "
            f"rel='noopener'>open in article ↗</a></div></div>")
    return "\n".join(items)


def passages_html(hits: list[Hit]) -> str:
    if not hits:
        return "<p class='muted'>No passages retrieved.</p>"
    rows = [f"<div class='passage'><div class='meta'>{h.rank}. <b>{escape(h.title)}</b> "
            f"<span class='score'>score {h.score:.4f}</span> "
            f"<a href='{escape(source_url(h.doc_id, h.start, h.end))}' target='_blank' rel='noopener'>open ↗</a></div>"
            f"<div class='text'>{escape(_excerpt(h.text))}</div></div>" for h in hits]
    return "\n".join(rows)


def _excerpt(text: str, limit: int = 320) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit].rsplit(" ", 1)[0] + " …"


def answer_markdown(answer: Answer) -> str:
    """The chat message: each source's account its own paragraph; corpus text escaped."""
    if answer.abstained:
        return ("**The corpus does not say.** No passage answers this closely enough; "
                "the closest passages are in the sources panel.")
    paragraphs = []
    for segment in answer.segments:
        body = " ".join(_md_escape(part.text) + "".join(f" [{n}]" for n in part.cites) for part in segment.parts)
        paragraphs.append(f"**{_md_escape(segment.attribution)}:** {body}" if segment.attribution else body)
    return "\n\n".join(paragraphs)


def _md_escape(text: str) -> str:
    """Shown as text: no HTML, no markdown links or emphasis from corpus or user text."""
    text = escape(text, quote=False)
    for ch in "\\`*_{}[]()#+!|~>":
        if ch in "[]":
            continue  # keep the [n] markers readable; links need "](" which is broken below
        text = text.replace(ch, "\\" + ch)
    return text.replace("](", "]\\(")


def document_html(doc: Document, start: int | None, end: int | None, label: str = "") -> str:
    text = doc.text
    if start is not None and end is not None and 0 <= start <= end <= len(text):
        body = (escape(text[:start]) + f"<mark id='cited'>{escape(text[start:end])}</mark>" + escape(text[end:]))
    else:
        body = escape(text)
    byline = _byline(doc.outlet, doc.date)
    return (f"<div class='article'><h3>{escape(doc.title)}</h3>"
            f"<div class='meta'>{byline + ' · ' if byline else ''}<code>{escape(doc.doc_id)}</code>"
            f"{' · ' + escape(label) if label else ''}</div>"
            f"<div class='article-text'>{body}</div></div>")


def location_html(quote: str, found: Location | None, doc: Document | None) -> str:
    if found is None or doc is None:
        return "<p class='verdict not-found'>Not found: this quote does not appear in the corpus.</p>"
    how = "Exact match" if found.exact else f"Approximate match ({found.similarity:.0f}% similar)"
    return (f"<p class='verdict {'exact' if found.exact else 'approximate'}'>{how} in "
            f"<b>{escape(doc.title)}</b> at characters {found.start}-{found.end}.</p>"
            + document_html(doc, found.start, found.end))


SOURCE_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{title}</title><style>
body{{font:16px/1.6 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#222}}
.article-text{{white-space:pre-wrap}} mark{{background:#ffe066;padding:.1em 0}} .meta{{color:#666}}
</style></head><body>{body}
<script>document.getElementById('cited')?.scrollIntoView({{block:'center'}});</script></body></html>"""


def source_page(doc: Document, start: int | None, end: int | None) -> str:
    return SOURCE_PAGE.format(title=escape(doc.title), body=document_html(doc, start, end))
