"""One request, six faces: the same question with the same k, as_of and filter gives the same
answer through the library, the CLI, REST, `/v1`, MCP and the chat's API, and a search left
without k gets QA_SEARCH_K results in each (issue 47: each face used to read its own names and
defaults, and QA_SEARCH_K reached only the CLI)."""
from __future__ import annotations

import asyncio
import json
from datetime import date

import pytest

from conftest import dated_articles, engine_over
from qa.engine import Engine
from qa.requests import AskRequest, SearchRequest
from qa.types import Filters

ARTICLES = {
    "times-june": ("Harbour council report", "Harbour Times", "2025-06-02",
                   "The harbour council chose Mara Lind as harbour master. Lind promised new cranes for the port."),
    "times-jan": ("Harbour council report", "Harbour Times", "2026-01-05",
                  "The harbour council chose Piet Oster as harbour master. Oster promised to dredge the channel."),
    "post-jan": ("Council names a harbour master", "Island Post", "2026-01-06",
                 "The harbour council chose Ada Brekke as harbour master on Monday. "
                 "Brekke said the ferries come first."),
    "post-quay": ("Ferries wait at the quay", "Island Post", "2026-01-03",
                  "The harbour master kept the ferries at the quay while the council met. The storm passed by noon."),
    "wire": ("Storm closes ferries", "Coast Wire", "2026-01-02",
             "A winter storm closed every ferry route on Tuesday. The harbour master said the storm would pass."),
}
QUESTION = "Who did the harbour council choose as harbour master this week?"
AS_OF = "2026-01-07"
OUTLET = "Island Post"
SEARCH_K = 2  # QA_SEARCH_K, which every face's search without k must honour


@pytest.fixture
def faces(hash_env, tmp_path, monkeypatch, cli):
    from fastapi.testclient import TestClient

    from qa.faces.server import build_app

    monkeypatch.setenv("QA_SEARCH_K", str(SEARCH_K))
    engine = engine_over(tmp_path / "corpus", dated_articles(ARTICLES))
    with TestClient(build_app(engine.settings, engine)) as client:
        yield engine, client, cli


def _mcp(engine: Engine, tool: str, arguments: dict) -> dict:
    from qa.faces.mcp import build_mcp

    return json.loads(asyncio.run(build_mcp(engine).call_tool(tool, arguments)).content[0].text)


def _same(results: dict[str, dict]) -> None:
    """Every face's JSON is the library's, byte for byte once serialised alike."""
    library = json.dumps(results.pop("library"), sort_keys=True)
    differ = [face for face, result in results.items() if json.dumps(result, sort_keys=True) != library]
    assert differ == []


def test_one_question_through_six_faces(faces):
    from qa.faces.ui import Handlers

    engine, client, cli = faces
    library = engine.answer(AskRequest(QUESTION, (), 1, Filters((OUTLET,)), date(2026, 1, 7))).to_json()
    assert not library["abstained"] and library["as_of"] == AS_OF and len(library["passages"]) == 1
    assert {c["outlet"] for c in library["citations"]} == {OUTLET}  # the filter held
    assert "Brekke" in library["answer"]  # the one report of that outlet this week
    # each of k, the filter and as_of changes the answer: a face that dropped one would differ below
    for changed in ({"k": None}, {"filters": None}, {"as_of": date(2025, 6, 4)}):
        other = AskRequest(**{"question": QUESTION, "k": 1, "filters": Filters((OUTLET,)), "as_of": date(2026, 1, 7),
                              **changed})
        assert engine.answer(other).to_json() != library, changed
    body = {"question": QUESTION, "k": 1, "as_of": AS_OF, "filters": {"outlet": [OUTLET]}}
    _same({
        "library": library,
        "cli": cli("ask", QUESTION, "--json", "-k", "1", "--as-of", AS_OF, "--outlet", OUTLET).json(),
        "rest": client.post("/api/ask", json=body).json(),
        "v1": client.post("/v1/chat/completions", json={
            "model": "corpus-qa", "messages": [{"role": "user", "content": QUESTION}],
            "k": 1, "as_of": AS_OF, "filters": {"outlet": [OUTLET]}}).json()["corpus_qa"],
        "mcp": _mcp(engine, "ask", {"question": QUESTION, "k": 1, "as_of": AS_OF, "outlet": [OUTLET]}),
        "chat": Handlers(engine).ask(QUESTION, [], as_of=AS_OF, k=1, outlet=[OUTLET]),
    })


def test_one_search_through_every_face_that_searches(faces):
    from qa.faces.ui import Handlers

    engine, client, cli = faces
    since = "2026-01-01"
    library = engine.retrieve(SearchRequest("harbour master", None, Filters(date_from=since),
                                            date(2026, 1, 7))).to_json()
    assert len(library["results"]) == SEARCH_K and library["as_of"] == AS_OF
    assert all(r["date"] >= since for r in library["results"])
    assert engine.retrieve(SearchRequest("harbour master", None, None, date(2026, 1, 7))).to_json() != library
    _same({
        "library": library,
        "cli": cli("search", "harbour master", "--json", "--since", since, "--as-of", AS_OF).json(),
        "rest get": client.get("/api/search", params={"q": "harbour master", "date_from": since,
                                                      "as_of": AS_OF}).json(),
        "rest post": client.post("/api/search", json={"query": "harbour master", "filters": {"date_from": since},
                                                      "as_of": AS_OF}).json(),
        "mcp": _mcp(engine, "search", {"query": "harbour master", "date_from": since, "as_of": AS_OF}),
        "chat": Handlers(engine).search("harbour master", None, AS_OF, date_from=since),
    })
