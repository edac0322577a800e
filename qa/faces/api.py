"""The REST API (FastAPI): search, ask, verify, documents, health — as docs/design.md specifies."""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping

import anyio
from fastapi import Depends, FastAPI, File, HTTPException, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from qa import __version__
from qa.codec import ask_request_from_json, search_request_from_json
from qa.engine import Engine
from qa.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    QAError,
    ServerBusyError,
    StoreLockedError,
    TooLargeError,
    UnsafeNameError,
    UnsupportedTypeError,
)
from qa.faces.access import bearer_ok
from qa.faces.lanes import ANSWERS, SEARCHES
from qa.faces.openai_api import add_openai_routes, error_response
from qa.faces.render import documents_json
from qa.faces.schema import (
    AskRequest,
    AskResponse,
    DeleteOut,
    DocumentList,
    DocumentOut,
    IngestReportOut,
    SearchRequest,
    SearchResponse,
    VerifyRequest,
    VerifyResponse,
)
from qa.messages import INTERNAL_ERROR, for_client
from qa.requests import MAX_K, as_of_day
from qa.requests import AskRequest as Ask
from qa.requests import SearchRequest as Search
from qa.types import Filters

# Lengths and dates are the engine's to check (QA_MAX_QUESTION_CHARS, valid dates): one rule for
# every face, a 422 naming it here. The models only shape the JSON.
# At most this many /api requests are handled or waiting at once; more get 503 + Retry-After
# at once, so a flood is shed instead of piling up threads and memory (the CPU-bound model can
# only do a couple of answers at a time on a small machine anyway).
MAX_IN_FLIGHT = 48
RETRY_AFTER_SECONDS = 5  # another process (an ingest) is writing the index: it usually takes seconds


# most specific first: the first matching class decides
_STATUS = {UnsafeNameError: 400, UnsupportedTypeError: 415, TooLargeError: 413, ConflictError: 409, InputError: 422,
           NotFoundError: 404}


def status_for(error: QAError) -> int:
    """Bad input is the caller's to fix (4xx); a missing or mismatched index is the server's (503)."""
    return next((code for kind, code in _STATUS.items() if isinstance(error, kind)), 503)


def create_api(engine: Engine) -> FastAPI:
    from fastapi_offline import FastAPIOffline

    # /docs and /redoc with their scripts served from this server: they work offline
    app = FastAPIOffline(title="corpus QA", version=__version__, docs_url="/docs", redoc_url="/redoc",
                         description="Retrieval and answers over the corpus, every citation checkable.")
    auth = Depends(_bearer(engine.settings.server.api_key))
    _shed_load(app)
    _error_handlers(app)
    _question_routes(app, engine, auth)
    _document_routes(app, engine, auth)
    add_openai_routes(app, engine)
    return app


SHED_PATHS = ("/api/", "/v1/", "/mcp")  # every face that runs the model for a client
SEARCH_PATHS = ("/api/search", "/api/verify")  # the search lane's: never counted with the answers
SEARCH_IN_FLIGHT = SEARCHES.workers + SEARCHES.queue


def _shed_load(app: FastAPI) -> None:
    """At most MAX_IN_FLIGHT requests of /api, /v1 and /mcp together, searches apart (they have a
    lane of their own, qa.faces.lanes); more get 503 + Retry-After at once."""
    in_flight = {"answers": 0, "searches": 0}

    @app.middleware("http")
    async def shed(request: Request, call_next):
        path = request.url.path
        if not path.startswith(SHED_PATHS):
            return await call_next(request)
        lane, limit = ("searches", SEARCH_IN_FLIGHT) if path.startswith(SEARCH_PATHS) else ("answers", MAX_IN_FLIGHT)
        if in_flight[lane] >= limit:
            return _error(request, 503, "server busy; retry shortly", {"Retry-After": "1"})
        in_flight[lane] += 1  # single event loop thread: no lock needed
        try:
            return await call_next(request)
        finally:
            in_flight[lane] -= 1


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(QAError)
    async def _domain_error(request: Request, exc: QAError):
        retry = {"Retry-After": str(RETRY_AFTER_SECONDS)} if isinstance(exc, StoreLockedError) else None
        if isinstance(exc, ServerBusyError):
            retry = {"Retry-After": "1"}
        return _error(request, status_for(exc), str(exc), retry)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        """One readable line in `detail`; the structured list stays in `errors`."""
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"] if p != "body") or "request"
        if _openai_path(request):
            return error_response(400, f"{where}: {first['msg']}")
        return JSONResponse({"detail": f"{where}: {first['msg']}", "errors": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        """FastAPI answers a body it cannot parse at all (invalid UTF-8, JSON nested too deeply)
        with a bare 400; it is bad input like any other: 422 with a readable line."""
        if exc.status_code == 400 and "parsing the body" in str(exc.detail):
            return JSONResponse({"detail": "body: not readable as JSON (invalid UTF-8, or nested too deeply)",
                                 "errors": [{"loc": ["body"], "msg": "unreadable JSON"}]}, status_code=422)
        return _error(request, exc.status_code, str(exc.detail), exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):  # never a traceback to a client
        return _error(request, 500, INTERNAL_ERROR)


def _openai_path(request: Request) -> bool:
    return request.url.path.startswith("/v1/")


def _error(request: Request, status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """{"detail": ...} as docs/design.md says; in OpenAI's {"error": {...}} shape under /v1. No
    server path reaches a client (qa.messages.for_client)."""
    message = for_client(message)
    if _openai_path(request):
        response = error_response(status, message, "server_error" if status >= 500 else "invalid_request_error")
        response.headers.update(headers or {})
        return response
    return JSONResponse({"detail": message}, status_code=status, headers=headers)


def _question_routes(app: FastAPI, engine: Engine, auth) -> None:
    @app.get("/healthz")
    async def healthz() -> dict:
        """On the event loop, from the version in memory: never queued behind the answers that
        hold the worker threads. Only before anything is loaded does it go to the store."""
        try:
            stats = engine.loaded_stats()
            if stats is None:
                stats = await anyio.to_thread.run_sync(engine.stats)
        except QAError as exc:
            raise HTTPException(503, for_client(str(exc))) from None
        return {"status": "ok", **stats}

    @app.get("/api/search", response_model=SearchResponse, dependencies=[auth])
    async def search_get(q: str = Query(description="What to look for."),
                   k: int | None = Query(None, ge=1, le=MAX_K, description="Results (default QA_SEARCH_K)."),
                   outlet: list[str] = Query([], description="Only these outlets (repeat the parameter)."),
                   date_from: str | None = Query(None, description="YYYY-MM-DD, inclusive."),
                   date_to: str | None = Query(None, description="YYYY-MM-DD, inclusive."),
                   doc_id: list[str] = Query([], description="Only these documents (repeat the parameter)."),
                   as_of: str | None = Query(None, description="Ask as of this date (YYYY-MM-DD).")) -> dict:
        request = Search(q, k, Filters.of(outlet, date_from, date_to, doc_id), as_of_day(as_of))
        return await SEARCHES.run(lambda: engine.retrieve(request).to_json())

    @app.post("/api/search", response_model=SearchResponse, dependencies=[auth])
    async def search_post(body: SearchRequest) -> dict:
        request = search_request_from_json(body.model_dump(exclude_none=True))
        return await SEARCHES.run(lambda: engine.retrieve(request).to_json())

    @app.post("/api/ask", response_model=AskResponse, dependencies=[auth],
              responses={200: {"content": {"text/event-stream": {}}}})
    async def ask(body: AskRequest, request: Request):
        # checked as it is made: a bad date is a 422 here, never an event after a 200
        asked = ask_request_from_json(body.model_dump(exclude_none=True, exclude={"stream"}))
        if body.stream or "text/event-stream" in request.headers.get("accept", ""):
            ANSWERS.admit()  # then it waits for an answer's turn like the rest, and holds it to its end
            return StreamingResponse(ANSWERS.stream(stream_answer(engine, asked)), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache"})
        return await ANSWERS.run(lambda: engine.answer(asked).to_json())

    @app.post("/api/verify", response_model=VerifyResponse, dependencies=[auth])
    async def verify(body: VerifyRequest) -> dict:
        all_valid, verdicts = await SEARCHES.run(engine.verifier.verify, {"citations": body.citations})
        return {"all_valid": all_valid, "citations": [v.to_json() for v in verdicts]}


def _document_routes(app: FastAPI, engine: Engine, auth) -> None:
    @app.get("/api/documents", response_model=DocumentList, dependencies=[auth])
    def list_documents(limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0, le=10**9)) -> dict:
        return documents_json(*engine.library.documents(limit, offset))

    @app.post("/api/documents", response_model=IngestReportOut, status_code=201, dependencies=[auth],
              responses={409: {"description": "id taken by another file"}, 413: {"description": "too large"},
                         415: {"description": "unsupported type"}, 422: {"description": "unreadable"}})
    def upload_documents(file: list[UploadFile] = File(description="One or more files (txt, md, html, pdf, docx).")):
        """Add documents: answerable when this returns; nothing changes if any file is refused."""
        limit = engine.settings.server.max_upload_bytes
        files = [(f.filename or "", f.file.read(limit + 1)) for f in file]
        return engine.library.upload(files).to_json()

    @app.delete("/api/documents/{doc_id:path}", response_model=DeleteOut, dependencies=[auth])
    def delete_document(doc_id: str) -> dict:
        return {"deleted": doc_id, **engine.library.delete(doc_id).to_json()}

    @app.get("/api/documents/{doc_id:path}", response_model=DocumentOut, dependencies=[auth])
    def document(doc_id: str) -> dict:
        return engine.library.document(doc_id).to_json()


def stream_answer(engine: Engine, request: Ask) -> Iterator[str]:
    """Server-sent events: `token` while the answer is written, then `answer` (or `error`)."""
    for kind, value in engine.ask_streamed(request):
        if kind == "token":
            yield _event("token", {"text": value})
        elif kind == "answer":
            yield _event("answer", value.to_json())
        else:
            yield _event("error", {"detail": for_client(str(value))})


def _event(name: str, data: dict) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _bearer(api_key: str | None):
    """With QA_API_KEY set, /api/* requires `Authorization: Bearer <key>` (compared in constant time)."""

    def check(request: Request) -> None:
        if not api_key:
            return
        if not bearer_ok(request.headers.get("authorization", ""), api_key):
            raise HTTPException(401, "missing or wrong API key: send Authorization: Bearer <key>",
                                headers={"WWW-Authenticate": "Bearer"})

    return check
