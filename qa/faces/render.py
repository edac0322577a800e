"""Plain-text renderings of results for the terminal."""
from __future__ import annotations

import textwrap
from collections.abc import Sequence

from qa.ingest.ingestor import IngestReport
from qa.types import Answer, Citation, Hit, Reporter, Results


def hits_text(query: str, hits: Sequence[Hit]) -> str:
    if not hits:
        return f"No passages for “{query}”."
    lines = []
    for hit in hits:
        where = ", ".join(x for x in (getattr(hit.doc, "outlet", None), getattr(hit.doc, "date", None)) if x)
        lines.append(f"{hit.rank}. {hit.title}" + (f" — {where}" if where else "")
                     + f"  [{hit.doc_id} {hit.start}-{hit.end}, score {hit.score:.4f}]")
        if hit.also_reported_by:
            lines.append(f"   {also_in(hit.also_reported_by)}")
        lines.append(textwrap.indent(textwrap.fill(" ".join(hit.text.split()), 96), "   "))
    return "\n".join(lines)


def results_text(results: Results) -> str:
    return time_line(results.as_of, results.time) + "\n" + hits_text(results.query, results.hits)


def time_line(as_of: str | None, time: dict | None) -> str:
    """"As of 2026-01-07 · read as 2026-01-01 to 2026-01-07 (“this week”)"."""
    line = f"As of {as_of}" if as_of else ""
    if time:
        span = time["from"] if time["from"] == time["to"] else f"{time['from']} to {time['to']}"
        line += f" · read as {span} (“{time['from_words']}”)"
    return line


def also_in(reporters: tuple[Reporter, ...]) -> str:
    """"also in Reuters, AP and 2 more": the other documents of a story."""
    names = list(dict.fromkeys(r.outlet or r.doc_id for r in reporters))
    shown = names[:6]
    return "also in " + ", ".join(shown) + (f" and {len(names) - len(shown)} more" if len(names) > len(shown) else "")


def citation_where(c: Citation) -> str:
    """Outlet, date and PDF page of a citation, those it has: "Iran Times, 2021-02-26, p. 2"."""
    return ", ".join(x for x in (c.outlet, c.date, f"p. {c.page}" if c.page else None) if x)


def answer_text(answer: Answer) -> str:
    """The short answer first; then how the question was read (rewritten, the date it was read
    as of, warnings); then the answer and its citations."""
    head = [f"Answer: {answer.short_answer.text} [{answer.short_answer.n}]\n"] if answer.short_answer else []
    if answer.condensed_question and answer.condensed_question != answer.question:
        head.append(f"(understood as: {answer.condensed_question})")
    if answer.as_of:
        head.append(f"({time_line(answer.as_of, answer.time)})")
    head += [f"(warning: {warning})" for warning in answer.warnings]
    lines = head + [answer.answer, ""]
    if answer.answerer != "extractive":
        lines.append(f"(answered by: {answer.answerer})")
    for c in answer.citations:
        where = citation_where(c)
        lines.append(f"[{c.n}] {c.title}" + (f" — {where}" if where else ""))
        lines.append(f"    {c.doc_id} {c.start}-{c.end}, score {c.score:.3f}"
                     + (f"; {also_in(c.also_reported_by)}" if c.also_reported_by else ""))
        lines.append(textwrap.indent(textwrap.fill(f"“{c.quote}”", 96), "    "))
    if answer.abstained:
        lines.append("Closest passages:")
        lines.append(hits_text(answer.question, answer.passages[:3]))
    return "\n".join(lines).rstrip()


def ingest_text(report: IngestReport, store: str) -> str:
    lines = [f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
             f"{report.removed} removed, {len(report.skipped)} skipped",
             f"store {store}: {report.documents} documents, {report.chunks} chunks "
             f"({report.embedded} embedded, {report.reused} reused) in {report.seconds:.1f} s"]
    lines += [f"{doc_id} is a copy of {copy_of}: one story, cited as one" for doc_id, copy_of in report.duplicates[:20]]
    if len(report.duplicates) > 20:
        lines.append(f"... and {len(report.duplicates) - 20} more copies")
    return "\n".join(lines)


def marked_document(text: str, start: int | None, end: int | None, colour: bool) -> str:
    if start is None or end is None:
        return text
    open_mark, close_mark = ("\x1b[7m", "\x1b[0m") if colour else ("⟦", "⟧")
    return text[:start] + open_mark + text[start:end] + close_mark + text[end:]


def documents_text(total: int, docs: list, offset: int = 0) -> str:
    if not docs:
        return f"{total} documents" + (" (none at this offset)" if total else "")
    rows = [f"{d.doc_id}  {d.title[:60]}  {' · '.join(x for x in (d.outlet, d.date) if x)}  ({d.chunks} chunks)"
            for d in docs]
    return "\n".join(rows + [f"{offset + 1}-{offset + len(docs)} of {total} documents"])


def documents_json(total: int, docs: list) -> dict:
    """docs/design.md's document list."""
    return {"total": total, "documents": [d.to_json() for d in docs]}
