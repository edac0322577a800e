"""The Model Context Protocol face: tools search, ask, verify and get_document for assistants,
on stdio (`qa mcp`) and over streamable HTTP at /mcp on the web server. Results are the JSON
of DESIGN.md, so an assistant can check every citation the way a person would."""
from __future__ import annotations

import anyio

from qa import __version__
from qa.engine import Engine
from qa.errors import QAError
from qa.types import Filters, Turn

INSTRUCTIONS = ("Search and question answering over a news corpus. Every citation is an exact extract: "
                "document_text[start:end] == quote. Use `verify` to check citations and `get_document` "
                "to read a source.")


def build_mcp(engine: Engine):
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    server = MCPServer("corpus-qa", version=__version__, instructions=INSTRUCTIONS)

    async def run(function, *args):
        """The engine is blocking (CPU-bound model): run it off the event loop; domain errors
        become tool errors with their one-line message."""
        try:
            return await anyio.to_thread.run_sync(function, *args)
        except QAError as exc:
            raise ToolError(str(exc)) from None

    @server.tool()
    async def search(query: str, k: int = 5, outlet: list[str] | None = None, date_from: str | None = None,
                     date_to: str | None = None, doc_ids: list[str] | None = None) -> dict:
        """Passages of the corpus that best match the query (hybrid dense + BM25), with offsets.
        Optional filters: outlet names, date_from/date_to (YYYY-MM-DD), doc_ids."""
        filters = Filters(tuple(outlet or ()), date_from, date_to, tuple(doc_ids or ()))
        hits = await run(engine.search, query, k, filters)
        return {"query": query, "results": [h.to_json() for h in hits]}

    @server.tool()
    async def ask(question: str, history: list[dict] | None = None, k: int | None = None,
                  outlet: list[str] | None = None, date_from: str | None = None, date_to: str | None = None,
                  doc_ids: list[str] | None = None) -> dict:
        """An answer made of cited extracts (or abstained=true when the corpus does not say).
        history: earlier turns as {"role": "user"|"assistant", "content": str}, for follow-ups."""
        turns = [Turn(t.get("role", "user"), str(t.get("content", ""))) for t in history or []
                 if isinstance(t, dict) and t.get("role") in ("user", "assistant")]
        filters = Filters(tuple(outlet or ()), date_from, date_to, tuple(doc_ids or ()))
        answer = await run(lambda: engine.ask(question, turns, k, filters=filters))
        return answer.to_json()

    @server.tool()
    async def verify(citations: list[dict]) -> dict:
        """Check citations (each with doc_id, start, end, quote) against the stored source text."""
        all_valid, verdicts = await run(engine.verify, {"citations": citations})
        return {"all_valid": all_valid, "citations": [v.to_json() for v in verdicts]}

    @server.tool()
    async def get_document(doc_id: str) -> dict:
        """A document's full stored text (what citation offsets point into) and its fields."""
        doc = await run(engine.document, doc_id)
        return {"doc_id": doc.doc_id, "title": doc.title, "source": doc.source, "outlet": doc.outlet,
                "date": doc.date, "text": doc.text}

    return server


def run_stdio(engine: Engine) -> None:
    engine.store  # fail now, with the one-line message, if there is no usable index
    anyio.run(build_mcp(engine).run_stdio_async)
