"""Assistants reach the corpus through MCP: `qa mcp` on stdio and /mcp on the web server, driven
by the SDK's own client; results are docs/design.md's JSON and their citations verify."""
from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import SEEDS
from qa.engine import Engine
from qa.settings import Settings

QUESTION = "Why didn't Putin meet Qalibaf?"


async def _exercise(session) -> dict:
    await session.initialize()
    tools = sorted(t.name for t in (await session.list_tools()).tools)
    search = json.loads(
        (await session.call_tool("search", {"query": "Who is Mojtaba Tavangar?", "k": 3})).content[0].text)
    ask = json.loads((await session.call_tool("ask", {"question": QUESTION})).content[0].text)
    verify = json.loads((await session.call_tool("verify", {"citations": ask["citations"]})).content[0].text)
    doc = json.loads(
        (await session.call_tool("get_document", {"doc_id": ask["citations"][0]["doc_id"]})).content[0].text)
    missing = await session.call_tool("get_document", {"doc_id": "no-such-doc"})
    empty = await session.call_tool("search", {"query": "  "})
    return {"tools": tools, "search": search, "ask": ask, "verify": verify, "doc": doc,
            "missing": (missing.is_error, missing.content[0].text), "empty": (empty.is_error, empty.content[0].text)}


def _check(result: dict) -> None:
    assert result["tools"] == ["ask", "get_document", "search", "verify"]
    assert len(result["search"]["results"]) == 3 and result["search"]["results"][0]["rank"] == 1
    ask = result["ask"]
    assert ask["citations"] and not ask["abstained"] and ask["condensed_question"]
    texts = {p.stem: p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt")}
    assert all(texts[c["doc_id"]][c["start"]:c["end"]] == c["quote"] for c in ask["citations"])
    assert result["verify"]["all_valid"] is True
    assert result["doc"]["text"] == texts[result["doc"]["doc_id"]]
    assert result["missing"][0] and "no document 'no-such-doc'" in result["missing"][1]
    assert result["empty"][0] and "empty" in result["empty"][1]


@pytest.fixture
def seeded_store(tmp_path) -> Path:
    store = tmp_path / "store"
    Engine(Settings(store_dir=store, embedding_model="hash")).ingest([SEEDS])
    return store


def test_stdio_server_through_the_sdk_client(seeded_store, tmp_path):
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    env = {**os.environ, "QA_EMBEDDING_MODEL": "hash", "QA_SETTINGS_FILE": str(tmp_path / "absent.toml")}
    params = StdioServerParameters(command=sys.executable, args=["-m", "qa", "mcp", "--store", str(seeded_store)],
                                   env=env, cwd=str(Path(__file__).resolve().parent.parent))

    async def run():
        # errlog given: its default (sys.stderr when mcp was first imported) may be a closed capture
        async with stdio_client(params, errlog=sys.__stderr__) as (read, write):
            async with ClientSession(read, write) as session:
                return await _exercise(session)

    _check(asyncio.run(asyncio.wait_for(run(), 120)))


def test_streamable_http_on_the_web_server(seeded_store):
    import uvicorn
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    from qa.faces.server import build_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = build_app(Settings(store_dir=seeded_store, embedding_model="hash", port=port))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.time() + 60
        while not server.started and time.time() < deadline:
            time.sleep(0.1)

        async def run():
            async with streamable_http_client(f"http://127.0.0.1:{port}/mcp") as (read, write, *_):
                async with ClientSession(read, write) as session:
                    return await _exercise(session)

        _check(asyncio.run(asyncio.wait_for(run(), 120)))
    finally:
        server.should_exit = True
        thread.join(30)


def test_mcp_command_without_an_index_is_one_line(hash_env, cli):
    result = cli("mcp")
    assert result.code == 2 and "qa ingest" in result.err and len(result.err.strip().splitlines()) == 1


def test_mcp_over_http_needs_the_api_key_when_one_is_set(seeded_store):
    from fastapi.testclient import TestClient

    from qa.faces.server import build_app

    app = build_app(Settings(store_dir=seeded_store, embedding_model="hash", api_key="s3cret"))
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-06-18"}
    with TestClient(app, base_url="http://127.0.0.1:7860") as client:  # the host the server binds
        assert client.post("/mcp", json=body, headers=headers).status_code == 401
        ok = client.post("/mcp", json=body, headers={**headers, "Authorization": "Bearer s3cret"})
        assert ok.status_code == 200, ok.text
        assert {t["name"] for t in ok.json()["result"]["tools"]} == {"search", "ask", "verify", "get_document"}
