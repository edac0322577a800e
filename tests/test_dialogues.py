"""One dialogue, one understanding: the same conversations through the CLI's batch file, REST, the
chat's Gradio endpoint and MCP give the same condensed question and the same citations, turn by
turn. Each face hands the earlier turns on as its users do: REST, MCP and batch files with the
previous answers' plain text, the chat with its own conversation state."""
from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import urllib.request

import pytest

from conftest import ROOT, SEEDS

pytestmark = pytest.mark.slow

DIALOGUES = [
    ["Why didn't Putin meet Qalibaf?", "Who did he meet instead?"],  # the one the chat got wrong
    ["Who is Qalibaf?", "Why did he go to Moscow?"],
    ["Who received the letter instead?", "What is his position?"],
    ["Who sent the letter to Putin?", "What was it about?"],
    ["Where does Putin live?", "How long must visitors quarantine before meeting him?"],
    ["What did Qalibaf tweet after the visit?", "Who is Tavangar?"],
    ["Who is Abdollahian?", "What did he say about the trip?"],
    ["Why does Putin avoid meeting people?", "Since when?"],
    ["Who is Mojtaba Tavangar?", "What did he write on Twitter?"],
    ["What was Khamenei's letter to Putin about?", "And what about Biden?"],
    ["Who is Zarif?", "When did he meet Putin?"],
    ["Who is Volodin?", "Did Qalibaf meet him?", "What did the Iranian media report?"],
    ["Where did Qalibaf travel to deliver the letter?", "Who did he meet there instead of Putin?"],
    ["How does Putin meet government officials?", "Since when?"],
    ["Who wrote a letter to Mikhail Gorbachev?", "And what about Putin?", "thanks!"],
]
# and the conversations written from a fresh reading of the seeds by someone who had not seen the code
DIALOGUES += [[turn["q"] for turn in json.loads(line)["turns"]]
              for line in (ROOT / "bench" / "seedqa" / "followups.jsonl").read_text(encoding="utf-8").splitlines()]
_LINK = re.compile(r"\(/source/([^?)]+)\?start=(\d+)&end=(\d+)#cited\)")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from server_fixture import start_server, stop_server

    folder = tmp_path_factory.mktemp("dialogues")
    env = {**os.environ, "QA_SETTINGS_FILE": str(folder / "absent.toml")}
    env.pop("QA_EMBEDDING_MODEL", None)
    subprocess.run([sys.executable, "-m", "qa", "ingest", str(SEEDS), "--store", str(folder / "store")],
                   check=True, env=env, cwd=ROOT, capture_output=True)
    process, url = start_server(folder / "store", folder / "server.log")
    yield url, folder / "store", env
    stop_server(process)


def _key(result: dict) -> tuple:
    return result["condensed_question"], [(c["doc_id"], c["start"], c["end"]) for c in result["citations"]]


def _history(turns: list[str], results: list[dict]) -> list[dict]:
    """As the chat keeps it: each answer with its result, what follow-ups are understood from."""
    history = []
    for question, result in zip(turns, results):
        history += [{"role": "user", "content": question},
                    {"role": "assistant", "content": result["answer"], "result": result}]
    return history


def _rest(url: str) -> list[list[tuple]]:
    out = []
    for dialogue in DIALOGUES:
        results = []
        for i, question in enumerate(dialogue):
            body = json.dumps({"question": question, "history": _history(dialogue[:i], results)}).encode()
            request = urllib.request.Request(url + "/api/ask", data=body, headers={"Content-Type": "application/json"})
            results.append(json.load(urllib.request.urlopen(request, timeout=120)))
        out.append([_key(r) for r in results])
    return out


def _cli_batch(store, env, tmp_path) -> list[list[tuple]]:
    """Turn by turn: each round's batch file carries the histories the earlier rounds printed."""
    results: list[list[dict]] = [[] for _ in DIALOGUES]
    for turn in range(max(map(len, DIALOGUES))):
        active = [d for d, dialogue in enumerate(DIALOGUES) if turn < len(dialogue)]
        lines = [json.dumps({"question": DIALOGUES[d][turn], "history": _history(DIALOGUES[d][:turn], results[d])})
                 for d in active]
        batch = tmp_path / f"turn{turn}.jsonl"
        batch.write_text("\n".join(lines) + "\n")
        done = subprocess.run([sys.executable, "-m", "qa", "ask", "--batch", str(batch), "--store", str(store)],
                              capture_output=True, text=True, env=env, cwd=ROOT, timeout=600, check=True)
        for d, line in zip(active, done.stdout.splitlines()):
            results[d].append(json.loads(line))
    return [[_key(r) for r in dialogue] for dialogue in results]


def _chat(url: str) -> list[list[tuple]]:
    from gradio_client import Client

    out = []
    for dialogue in DIALOGUES:
        chat, shown, keys = Client(url + "/", verbose=False), [], []  # a session per conversation
        for question in dialogue:
            shown = chat.predict(question, shown, [], api_name="/chat")[0]
            message = shown[-1]["content"]
            message = message if isinstance(message, str) else message[0]["text"]
            understood = re.search(r"\*Understood as: (.+?)\*\n", message)
            condensed = understood.group(1).replace("\\", "") if understood else question
            if "does not look like a question" in message:
                condensed = None  # a turn with nothing to look up is not rewritten
            cited = list(dict.fromkeys((d, int(s), int(e)) for d, s, e in _LINK.findall(message)))
            keys.append((condensed, cited))
        out.append(keys)
    return out


def _mcp(url: str) -> list[list[tuple]]:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async def run():
        out = []
        async with streamable_http_client(url + "/mcp") as (read, write, *_):
            async with ClientSession(read, write) as session:
                await session.initialize()
                for dialogue in DIALOGUES:
                    results = []
                    for i, question in enumerate(dialogue):
                        reply = await session.call_tool("ask", {"question": question,
                                                                "history": _history(dialogue[:i], results)})
                        results.append(json.loads(reply.content[0].text))
                    out.append([_key(r) for r in results])
        return out

    return asyncio.run(asyncio.wait_for(run(), 600))


def test_every_face_understands_each_dialogue_the_same_way(served, tmp_path):
    url, store, env = served
    rest = _rest(url)
    faces = {"cli --batch": _cli_batch(store, env, tmp_path), "chat": _chat(url), "mcp": _mcp(url)}
    assert sum(len(d) for d in DIALOGUES) >= 25
    for name, understood in faces.items():
        for dialogue, expected, got in zip(DIALOGUES, rest, understood):
            assert got == expected, f"{name} differs from REST on {dialogue}"
    follow_up = rest[0][1]
    assert follow_up[0] == "Who did Qalibaf meet instead of Putin?"
    assert any(doc == "001_fef7cdd3c9f4f1a3" for doc, *_ in follow_up[1])
    there = rest[DIALOGUES.index(["Where did Qalibaf travel to deliver the letter?",
                                  "Who did he meet there instead of Putin?"])][1]
    assert there[0] == "Who did Qalibaf meet in Moscow instead of Putin?"
    thanks = rest[DIALOGUES.index(["Who wrote a letter to Mikhail Gorbachev?", "And what about Putin?", "thanks!"])][2]
    assert thanks == (None, [])  # nothing to look up: no search, no citations
