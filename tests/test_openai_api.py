"""The OpenAI-compatible endpoint, driven by the official `openai` client over real HTTP: the way
Open WebUI, LibreChat or a script would use the corpus."""
import json

import httpx
import openai
import pytest

from conftest import SEEDS

KEY = "sk-test-corpus-key"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`python app.py` on a free port with an API key; it builds its index from seeds/ (hash embedder)."""
    from server_fixture import start_server, stop_server

    folder = tmp_path_factory.mktemp("openai")
    process, url = start_server(folder / "store", folder / "server.log",
                                extra_env={"QA_EMBEDDING_MODEL": "hash", "QA_API_KEY": KEY})
    yield url
    stop_server(process)


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=f"{server}/v1", api_key=KEY, max_retries=0)


def test_lists_one_model(client):
    assert [m.id for m in client.models.list().data] == ["corpus-qa"]


def test_chat_answers_with_cited_extracts_and_the_ask_result(client):
    reply = client.chat.completions.create(model="corpus-qa", messages=[
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": "Who did Qalibaf give the letter to?"}])
    content = reply.choices[0].message.content
    result = reply.model_extra["corpus_qa"]
    assert reply.choices[0].finish_reason == "stop" and not result["abstained"]
    assert "[1]" in content and "Sources:" in content
    first = result["citations"][0]
    assert f"{first['doc_id']} {first['start']}-{first['end']}" in content  # the source list says where
    assert first["quote"] in SEEDS.joinpath(first["doc_id"] + ".txt").read_text(encoding="utf-8")


def test_follow_up_is_understood_from_earlier_messages(client):
    first = client.chat.completions.create(model="corpus-qa", messages=[
        {"role": "user", "content": "Who is Qalibaf?"}])
    follow = client.chat.completions.create(model="corpus-qa", messages=[
        {"role": "user", "content": "Who is Qalibaf?"},
        {"role": "assistant", "content": first.choices[0].message.content},
        {"role": "user", "content": "What did he tweet after the visit?"}])
    result = follow.model_extra["corpus_qa"]
    assert "Qalibaf" in result["condensed_question"]
    assert "mighty Russia" in " ".join(c["quote"] for c in result["citations"])


def test_streamed_chunks_rebuild_the_same_reply(client):
    messages = [{"role": "user", "content": "Who did Qalibaf give the letter to?"}]
    whole = client.chat.completions.create(model="corpus-qa", messages=messages).choices[0].message.content
    stream = client.chat.completions.create(model="corpus-qa", messages=messages, stream=True)
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == whole
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["corpus_qa"]["citations"]


def test_stream_ends_with_done(server):
    with httpx.stream("POST", f"{server}/v1/chat/completions", headers={"Authorization": f"Bearer {KEY}"},
                      json={"model": "corpus-qa", "stream": True,
                            "messages": [{"role": "user", "content": "Why didn't Putin meet Qalibaf?"}]}) as response:
        events = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    assert all(json.loads(e)["object"] == "chat.completion.chunk" for e in events[:-1])


def test_wrong_key_is_refused_in_openai_shape(server):
    bad = openai.OpenAI(base_url=f"{server}/v1", api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        bad.models.list()
    assert caught.value.status_code == 401 and caught.value.body["type"] == "invalid_api_key"


def test_bad_requests_get_openai_errors(client, server):
    with pytest.raises(openai.BadRequestError) as caught:  # no user question at the end
        client.chat.completions.create(model="corpus-qa", messages=[{"role": "assistant", "content": "Hello"}])
    assert "last message" in caught.value.body["message"]
    with pytest.raises(openai.APIStatusError) as caught:  # a question over the length limit
        client.chat.completions.create(model="corpus-qa", messages=[{"role": "user", "content": "why " * 3000}])
    assert caught.value.status_code == 422 and "limit" in caught.value.body["message"]
    raw = httpx.post(f"{server}/v1/chat/completions", headers={"Authorization": f"Bearer {KEY}"},
                     json={"messages": "not a list"})
    assert raw.status_code == 400 and set(raw.json()["error"]) == {"message", "type", "param", "code"}
