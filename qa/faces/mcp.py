"""The Model Context Protocol face: tools search, ask, verify and get_document for assistants,
on stdio (`qa mcp`) and over streamable HTTP at /mcp on the web server. Results are the JSON
of docs/design.md, so an assistant can check every citation the way a person would."""
from __future__ import annotations

import dataclasses
import inspect
import logging
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import FastAPI
from pydantic import Field

from qa import __version__, requests
from qa.codec import ask_request_from_json, search_request_from_json
from qa.engine import Engine
from qa.errors import QAError
from qa.faces.lanes import ANSWERS, SEARCHES
from qa.messages import INTERNAL_ERROR, for_client

log = logging.getLogger("qa.mcp")
INSTRUCTIONS = ("Search and question answering over a news corpus. Every citation is an exact extract: "
                "document_text[start:end] == quote. Use `verify` to check citations and `get_document` "
                "to read a source.")


SEARCH = """Passages of the corpus that best match the query (hybrid dense + BM25), with offsets, one
per story (near-duplicates folded into also_reported_by). Optional filters: outlet names,
date_from/date_to (YYYY-MM-DD), doc_ids. as_of (YYYY-MM-DD): the date time words such as
"this week" are read against (default: today, or the newest document's date)."""
ASK = """An answer made of cited extracts (or abstained=true when the corpus does not say), with
short_answer: the few words of cited extract n that answer, when the readings agree enough
(else null); document_text[start:end] == text, like every citation.
history: earlier turns as {"role": "user"|"assistant", "content": str}, for follow-ups; an
assistant turn may carry "result", the ask result it came from.
as_of (YYYY-MM-DD): the date time words such as "this week" are read against."""

# How each field of a request (qa.requests) is passed to a tool: the filters as four arguments of
# their own (the tools have always taken them so), the rest by their names, as in a JSON body.
_ARGUMENTS: dict[str, list[tuple[str, Any, Any, str | None]]] = {
    "query": [("query", str, inspect.Parameter.empty, None)],
    "question": [("question", str, inspect.Parameter.empty, None)],
    "history": [("history", list[dict] | None, None, None)],
    "k": [("k", int | None, None, None)],
    "filters": [("outlet", list[str] | None, None, "Only these outlets."),
                ("date_from", str | None, None, "Only documents dated on/after YYYY-MM-DD (undated ones excluded)."),
                ("date_to", str | None, None, "Only documents dated on/before YYYY-MM-DD (undated ones excluded)."),
                ("doc_ids", list[str] | None, None, "Only these documents.")],
    "as_of": [("as_of", str | None, None, None)],
}
_FILTER_ARGUMENTS = {"outlet", "date_from", "date_to", "doc_ids"}


def _taking(cls: type, tool: Callable) -> Callable:
    """`tool(**arguments)` with the arguments of request `cls` as its signature, each described by the
    request: the MCP SDK makes the tool's input schema from it. A request field without an argument
    form fails here."""
    parameters = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=Annotated[
                      kind, Field(description=described or requests.doc(cls, f.name))])
                  for f in dataclasses.fields(cls) for name, kind, default, described in _ARGUMENTS[f.name]]
    tool.__signature__ = inspect.Signature(parameters, return_annotation=dict)  # type: ignore[attr-defined]
    return tool


def _as_json(arguments: dict) -> dict:
    """A tool's arguments as the request's JSON (qa.codec): the four filter arguments in "filters"."""
    filters = {k: v for k, v in arguments.items() if k in _FILTER_ARGUMENTS and v is not None}
    return {**{k: v for k, v in arguments.items() if k not in _FILTER_ARGUMENTS and v is not None},
            "filters": filters or None}


def build_mcp(engine: Engine):
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    server = MCPServer("corpus-qa", version=__version__, instructions=INSTRUCTIONS)

    async def run(function, *args, lane=SEARCHES):
        """The engine is blocking (CPU-bound model): run it off the event loop in its lane
        (qa.faces.lanes: answers one per core, searches apart, the rest waiting without a thread);
        domain errors, a full lane included, become tool errors with the one line REST gives
        (no server path in it); anything else is the same "internal error" line, logged here."""
        try:
            return await lane.run(function, *args)
        except QAError as exc:
            raise ToolError(for_client(str(exc))) from None
        except Exception:
            log.exception("MCP tool failed")
            raise ToolError(INTERNAL_ERROR) from None

    # the request is read inside run(): a bad date is a tool error with its one line, like any other
    async def search(**arguments) -> dict:
        return (await run(lambda: engine.retrieve(search_request_from_json(_as_json(arguments))))).to_json()

    async def ask(**arguments) -> dict:
        return (await run(lambda: engine.answer(ask_request_from_json(_as_json(arguments))), lane=ANSWERS)).to_json()

    server.tool(description=SEARCH)(_taking(requests.SearchRequest, search))
    server.tool(description=ASK)(_taking(requests.AskRequest, ask))

    @server.tool()
    async def verify(citations: list[dict]) -> dict:
        """Check citations (each with doc_id, start, end, quote) against the stored source text."""
        all_valid, verdicts = await run(engine.verifier.verify, {"citations": citations})
        return {"all_valid": all_valid, "citations": [v.to_json() for v in verdicts]}

    @server.tool()
    async def get_document(doc_id: str) -> dict:
        """A document's full stored text (what citation offsets point into) and its fields."""
        return (await run(engine.library.document, doc_id)).to_json()

    return server


def mount_mcp(app: FastAPI, engine: Engine, host: str, api_key: str | None = None) -> None:
    """The MCP tools over streamable HTTP at /mcp: stateless JSON responses, so any worker can
    answer any request. The SDK's session manager runs once per instance, so each start of the
    app's lifespan gets a fresh one (tests start an app many times)."""
    from contextlib import asynccontextmanager

    from starlette.responses import JSONResponse
    from starlette.routing import Route

    server = build_mcp(engine)
    current: dict = {}

    async def endpoint(scope, receive, send):
        if api_key and not _bearer_ok(scope, api_key):  # the same key as /api/*
            await JSONResponse({"detail": "missing or wrong API key: send Authorization: Bearer <key>"},
                               status_code=401, headers={"WWW-Authenticate": "Bearer"})(scope, receive, send)
            return
        handler = current.get("app")
        if handler is None:
            await JSONResponse({"detail": "MCP is starting"}, status_code=503)(scope, receive, send)
            return
        await handler(scope, receive, send)

    app.router.routes.append(Route("/mcp", endpoint=_AsgiEndpoint(endpoint), include_in_schema=False))
    outer = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application):
        mcp_app = server.streamable_http_app(streamable_http_path="/mcp", stateless_http=True,
                                             json_response=True, host=host)
        async with server.session_manager.run(), outer(application) as state:
            current["app"] = mcp_app
            try:
                yield state
            finally:
                current.pop("app", None)

    app.router.lifespan_context = lifespan


def _bearer_ok(scope, api_key: str) -> bool:
    from qa.faces.access import bearer_ok

    return bearer_ok(dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1"), api_key)


class _AsgiEndpoint:
    """An ASGI callable that Starlette's Route passes requests to unchanged (any method)."""

    def __init__(self, handler):
        self.handler = handler

    async def __call__(self, scope, receive, send):
        await self.handler(scope, receive, send)


def run_stdio(engine: Engine) -> None:
    import anyio

    _ = engine.store  # fail now, with the one-line message, if there is no usable index
    anyio.run(build_mcp(engine).run_stdio_async)
