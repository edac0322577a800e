"""An OpenAI-compatible chat endpoint on the same server, for the chat clients people already
have (Open WebUI, LibreChat, the `openai` package): `GET /v1/models`, `POST /v1/chat/completions`.

The reply's content is the cited answer in plain text (its short answer first, [n] markers, a
numbered source list); the structured ask result rides along in `corpus_qa`. Earlier messages are
the history, so follow-ups are understood as in the chat; system messages are ignored (the answer
is always extracts of the corpus). `"stream": true` sends `chat.completion.chunk` events and then
`[DONE]`. The API key applies (bearer), and errors come in OpenAI's `{"error": {...}}` shape.
Only the model `corpus-qa` is served (another name is 404 `model_not_found`, as OpenAI answers).
The body may carry what an ask body carries (`as_of`, `k`, `filters`: extra_body in the openai
package), read into the same request as every face's (qa.requests); other options (temperature,
max_tokens, ...) are accepted and named in the reply's `ignored_options`; `n` above 1 is refused.
"""
from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Literal

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StrictStr, model_validator

from qa.engine import Engine
from qa.faces.access import bearer_ok
from qa.faces.lanes import ANSWERS
from qa.faces.render import also_in, citation_where, time_line
from qa.faces.schema import FiltersIn
from qa.messages import SOURCES, UNDERSTOOD, for_client  # the first two: left out when a reply comes back as history
from qa.requests import MAX_K, AskRequest, as_of_day
from qa.types import Answer, Filters, Turn

MODEL = "corpus-qa"

MAX_MODEL_NAME = 200  # a model name longer than any real one is refused, never echoed back
# Options clients send that an answer made of cited extracts cannot honour (temperature,
# max_tokens, tools, ...) are accepted, so that those clients work, and named in `ignored_options`.
MAX_ECHOED_OPTIONS = 20


class ContentPart(BaseModel):
    """One part of a message's content: text parts are read; other kinds (images, audio) are skipped."""
    model_config = ConfigDict(extra="allow")
    type: StrictStr = Field(max_length=64)
    text: StrictStr | None = Field(None, max_length=20_000)

    @model_validator(mode="after")
    def _text_part_has_text(self):
        if self.type == "text" and self.text is None:
            raise ValueError("a text part needs a string `text`")
        return self


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: StrictStr | list[ContentPart] | None = Field(None)

    def text(self) -> str:
        if isinstance(self.content, list):  # content parts: only text parts are read
            return " ".join(p.text or "" for p in self.content if p.type == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # options this server cannot honour: listed in ignored_options
    model: StrictStr = Field(MODEL, max_length=MAX_MODEL_NAME)
    messages: list[ChatMessage] = Field(min_length=1, max_length=100)
    stream: bool = False
    n: int = Field(1, ge=1, le=1, description="One choice: the answer is the corpus's, not a sample.")
    as_of: StrictStr | None = Field(None, description="Ask as of this date (YYYY-MM-DD), e.g. extra_body="
                                    "{\"as_of\": \"2025-03-01\"} in the openai package.")
    k: int | None = Field(None, ge=1, le=MAX_K, description="Passages read to compose the answer "
                          "(default QA_ANSWER_K).")
    filters: FiltersIn | None = Field(None, description="Which documents may be used, as in POST /api/ask.")

    def request(self) -> AskRequest:
        """The question (the last user message), the turns before it, and the options the answer honours."""
        question, history = conversation(self.messages)
        filters = Filters.from_json(self.filters.model_dump()) if self.filters else None
        return AskRequest(question, tuple(history), self.k, filters, as_of_day(self.as_of))

    def ignored(self) -> list[str]:
        """The options sent that the answer does not use (names capped: they are echoed)."""
        return sorted(k[:64] for k in (self.model_extra or {}))[:MAX_ECHOED_OPTIONS]


class OpenAIError(Exception):
    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", code: str | None = None):
        super().__init__(message)
        self.status, self.kind, self.code = status, kind, code


def error_response(status: int, message: str, kind: str = "invalid_request_error", code: str | None = None):
    return JSONResponse({"error": {"message": message, "type": kind, "param": None, "code": code}},
                        status_code=status)


def reply_text(answer: Answer) -> str:
    """The answer as a chat client shows it: short answer, prose with [n], numbered sources."""
    lines = [answer.answer]
    if answer.short_answer:
        lines.insert(0, f"{answer.short_answer.text} [{answer.short_answer.n}]\n")
    for warning in answer.warnings:
        lines.insert(0, f"({warning})\n")
    if answer.time:  # the window the question's time words were read as
        lines.insert(0, f"({time_line(answer.as_of, answer.time)})\n")
    if answer.condensed_question and answer.condensed_question != answer.question:
        lines.insert(0, f"{UNDERSTOOD}{answer.condensed_question}\n")
    text = "\n".join(lines)
    sources = []
    for c in answer.citations:
        where = citation_where(c)
        sources.append(f"[{c.n}] {c.title}" + (f" ({where})" if where else "") + f" — {c.doc_id} {c.start}-{c.end}"
                       + (f"; {also_in(c.also_reported_by)}" if c.also_reported_by else ""))
    return text + (SOURCES + "\n".join(sources) if sources else "")


def conversation(messages: list[ChatMessage]) -> tuple[str, list[Turn]]:
    """The question (the last user message) and the turns before it; our own source lists are
    cut from assistant turns so that follow-ups are condensed from the answers alone."""
    turns = [m for m in messages if m.role in ("user", "assistant")]
    if not turns or turns[-1].role != "user":
        raise OpenAIError(400, "the last message must be the user's question", code="invalid_messages")
    history = [Turn(m.role, _answer_part(m.text()) if m.role == "assistant" else m.text()) for m in turns[:-1]]
    return turns[-1].text(), history


def _answer_part(reply: str) -> str:
    """An earlier reply of ours without its "Understood as" line, its notes and its source list."""
    body = reply.split(SOURCES)[0]
    if body.startswith(UNDERSTOOD):
        body = body.split("\n", 1)[1] if "\n" in body else ""
    lines = body.strip().split("\n")
    while lines and (lines[0].startswith("(") and lines[0].endswith(")") or not lines[0].strip()):
        lines.pop(0)  # our notes: the time it was read in, warnings
    return "\n".join(lines).strip()


def add_openai_routes(app: FastAPI, engine: Engine) -> None:
    api_key = engine.settings.server.api_key

    def check_key(request: Request) -> None:
        if api_key and not bearer_ok(request.headers.get("authorization", ""), api_key):
            raise OpenAIError(401, "missing or wrong API key (send it as a bearer token)", "invalid_api_key",
                              "invalid_api_key")

    @app.exception_handler(OpenAIError)
    async def _openai_error(request: Request, exc: OpenAIError):
        return error_response(exc.status, for_client(str(exc)), exc.kind, exc.code)

    @app.get("/v1/models")
    def models(request: Request) -> dict:
        check_key(request)
        return {"object": "list", "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "corpus-qa"}]}

    @app.post("/v1/chat/completions")
    async def chat(body: ChatRequest, request: Request):
        check_key(request)
        if body.model != MODEL:
            raise OpenAIError(404, f"The model {body.model[:80]!r} does not exist: this server serves {MODEL!r}",
                              "invalid_request_error", "model_not_found")
        asked = body.request()  # checked as it is made: a bad date is a 400, not an event after a 200
        completion = {"id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "created": int(time.time()), "model": MODEL,
                      "ignored_options": body.ignored()}
        if body.stream:
            ANSWERS.admit()  # then it waits for an answer's turn like the rest, and holds it to its end
            return StreamingResponse(ANSWERS.stream(_chunks(engine, asked, completion)),
                                     media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
        answer = await ANSWERS.run(lambda: engine.answer(asked))
        return {**completion, "object": "chat.completion",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": reply_text(answer)},
                             "finish_reason": "stop", "logprobs": None}],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
                "corpus_qa": answer.to_json()}


def _chunks(engine: Engine, request: AskRequest, completion: dict) -> Iterator[str]:
    """chat.completion.chunk events: the role, the reply's text, a last chunk with finish_reason
    and the ask result, then [DONE]. An error mid-stream is sent as an error event."""
    def chunk(delta: dict, finish: str | None = None, **extra) -> str:
        body = {**completion, "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **extra}
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    for kind, value in engine.ask_streamed(request):
        if kind == "answer":
            yield chunk({"content": reply_text(value)})
            yield chunk({}, "stop", corpus_qa=value.to_json())
        elif kind == "error":
            error = {"message": for_client(str(value)), "type": "invalid_request_error", "param": None, "code": None}
            yield f"data: {json.dumps({'error': error})}\n\n"
    yield "data: [DONE]\n\n"
