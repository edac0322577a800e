"""The wire shapes of every face, made from the domain values of qa/types.py and qa/requests.py.

A value whose JSON is its fields (a citation, a short answer, a segment, a document) gets its
pydantic model from its dataclass (`wire_model`): a field added to the dataclass is in the REST
schema the same moment. A value whose JSON adds or renames fields (a search hit, an answer) is
its dataclass's model with those changes spelled out here, once. `tests/test_schema.py` checks that
every `to_json()` holds exactly the fields of its model, so the two cannot drift apart.
REST (FastAPI's response models and /docs), MCP and the chat all return `to_json()`; this module
is where their shapes are written down. The other way, a request's body is its request's fields
(`request_model`, from qa.requests), each as `_REQUEST_WIRE` says it travels.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, create_model

from qa import requests
from qa import types as domain
from qa.requests import MAX_K

# A field's description, where the dataclass's own comment is not enough for a reader of /docs.
_DESCRIPTIONS = {
    "also_reported_by": "The story's other documents (near-duplicates) folded into this one.",
    "page": "1-based page of the extract, for documents with pages (PDF).",
    "pages": "Where each page starts in `text` (PDF).",
    "n": "The citation's number, as the answer's [n] markers use it.",
}


def wire_model(cls: type, name: str, exclude: tuple[str, ...] = (), **extra: Any) -> type[BaseModel]:
    """The pydantic model of a frozen dataclass's JSON: its fields (tuples as lists, nested values
    as their own wire models) without `exclude`, plus `extra` fields (name=(type, default)); a
    dataclass nested in a later one is given as this model."""
    hints = typing.get_type_hints(cls, vars(domain))
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name in exclude:
            continue
        default = f.default if f.default is not dataclasses.MISSING else ...
        if isinstance(default, tuple):
            default = list(default)
        fields[f.name] = (_wire_type(hints[f.name]), Field(default, description=_DESCRIPTIONS.get(f.name)))
    _MODELS[cls] = create_model(name, __doc__=cls.__doc__, **fields, **extra)
    return _MODELS[cls]


_MODELS: dict[type, type[BaseModel]] = {}  # each dataclass's wire model, as wire_model made it


def _wire_type(hint: Any) -> Any:
    """tuple[X, ...] -> list[X]; a dataclass -> its wire model; unions and optionals kept."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is tuple:
        return list[_wire_type(args[0])]  # type: ignore[misc]
    if origin in (typing.Union, types.UnionType):
        return typing.Union[tuple(_wire_type(a) for a in args)]  # noqa: UP007
    if dataclasses.is_dataclass(hint):
        return _MODELS[hint]  # type: ignore[index]
    return hint


ReporterOut = wire_model(domain.Reporter, "ReporterOut")
CitationOut = wire_model(domain.Citation, "CitationOut")
ShortAnswerOut = wire_model(domain.ShortAnswer, "ShortAnswerOut")
PartOut = wire_model(domain.Part, "PartOut")
SegmentOut = wire_model(domain.Segment, "SegmentOut")
DocumentOut = wire_model(domain.Document, "DocumentOut", exclude=("sha256", "root"))
DocumentListItem = wire_model(domain.DocFields, "DocumentListItem", exclude=("origin", "pages"))


class TimeOut(BaseModel):
    """The window a question's time words resolved to."""
    model_config = ConfigDict(populate_by_name=True)
    from_: str = Field(alias="from", description="YYYY-MM-DD, inclusive")
    to: str = Field(description="YYYY-MM-DD, inclusive")
    from_words: str = Field(description="The question's own words: \"this week\"")


_TIME: Any = (TimeOut | None, Field(None, description="The window its time words resolved to, if any."))
_AS_OF: Any = (str | None, Field(None, description="The date it was read as of (YYYY-MM-DD)."))

# A hit without what is only handed on inside the engine, with its document's outlet and date.
SearchResult = wire_model(domain.Hit, "SearchResult", exclude=("dense_rank", "bm25_rank", "doc", "sentences"),
                          outlet=(str | None, None), date=(str | None, None))
SearchResponse = create_model("SearchResponse", __doc__=domain.Results.__doc__, query=(str, ...),
                              results=(list[SearchResult], ...), as_of=_AS_OF, time=_TIME)  # type: ignore[valid-type]
# An answer with its prose rendered from the segments ("answer"), its passages as search results.
AskResponse = wire_model(
    domain.Answer, "AskResponse", exclude=("abstention", "scored", "passages", "time", "as_of"),
    answer=(str, Field(description="The prose with [n] markers (or, abstaining, why not).")),
    passages=(list[SearchResult], []), as_of=_AS_OF, time=_TIME)  # type: ignore[valid-type]


class Message(BaseModel):
    role: Literal["user", "assistant"]
    content: str = Field("", max_length=20_000)
    result: dict | None = Field(None, description="For an assistant turn: the ask result it came from (AskResponse). "
                                                  "Follow-ups are then condensed from it: what it was understood as, "
                                                  "its short answer, its extracts.")


class FiltersIn(BaseModel):
    """Which documents may be used. A date bound excludes undated documents."""
    model_config = ConfigDict(extra="forbid")
    outlet: list[str] = Field(default_factory=list, max_length=50, description="Any of these outlets.")
    date_from: str | None = Field(None, description="YYYY-MM-DD, inclusive.")
    date_to: str | None = Field(None, description="YYYY-MM-DD, inclusive.")
    doc_ids: list[str] = Field(default_factory=list, max_length=200, description="Only these documents.")


# How each field of a request (qa.requests) travels as JSON: the date as its YYYY-MM-DD text (checked
# by the request itself, the same one-line 422 on every face), the filters and turns as their objects.
_REQUEST_WIRE: dict[str, Any] = {
    "query": (str, dict(validation_alias=AliasChoices("query", "q"), serialization_alias="query")),
    "question": (str, {}),
    "history": (list[Message], dict(default_factory=list, max_length=50)),
    "k": (int | None, dict(ge=1, le=MAX_K)),
    "filters": (FiltersIn | None, {}),
    "as_of": (str | None, {}),
}


def request_model(cls: type, name: str, **extra: Any) -> type[BaseModel]:
    """The pydantic model of a request's JSON body: each of its fields (qa.requests) as
    _REQUEST_WIRE says it travels, described by the request itself; `extra` fields are the face's
    own (name=(type, FieldInfo)). A field added to a request without a wire form fails here."""
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        kind, options = _REQUEST_WIRE[f.name]
        if "default_factory" not in options:
            options = {**options, "default": ... if f.default is dataclasses.MISSING else None}
        fields[f.name] = (kind, Field(description=requests.doc(cls, f.name), **options))
    return create_model(name, __doc__=cls.__doc__, __config__=ConfigDict(populate_by_name=True), **fields, **extra)


class SearchRequest(request_model(requests.SearchRequest, "SearchRequestFields")):  # type: ignore[misc]
    """A search: the passages that best match `query`, one per story."""


class AskRequest(request_model(requests.AskRequest, "AskRequestFields", stream=(bool, Field(  # type: ignore[misc]
        False, description="Answer as server-sent events: `token` events while an LLM writes, then one `answer` "
                           "event with the final result.")))):
    """A question, with the conversation it follows."""


class VerifyRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    citations: list[dict] = Field(max_length=200)


class VerdictOut(BaseModel):
    n: int
    valid: bool
    reason: str
    found_at: dict | None = None


class VerifyResponse(BaseModel):
    all_valid: bool
    citations: list[VerdictOut]


DocumentList = create_model("DocumentList", total=(int, ...),
                            documents=(list[DocumentListItem], ...))  # type: ignore[valid-type]


class IngestReportOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    added: int
    updated: int
    unchanged: int
    removed: int
    documents: int
    chunks: int
    generation: str | None
    duplicates: list[dict] = Field([], description="Each new document that copies a stored one (the same story): "
                                   "{\"doc_id\", \"copy_of\"}. Answers and searches fold them into one.")


class DeleteOut(IngestReportOut):
    deleted: str
