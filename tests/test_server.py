"""The real server, driven by gradio_client as another program would."""
import json
import re
import urllib.request

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(live_server):
    from gradio_client import Client

    return Client(live_server + "/", verbose=False)


def test_search_endpoint(client):
    result = client.predict("Tavangar Twitter", 2, api_name="/search")
    assert result["query"] == "Tavangar Twitter" and len(result["results"]) == 2
    assert "Tavangar" in result["results"][0]["text"]


def test_ask_endpoint_with_history(client):
    result = client.predict("Why did he go to Moscow?", [{"role": "user", "content": "Who is Qalibaf?"}],
                            api_name="/ask")
    assert result["condensed_question"] == "Why did Qalibaf go to Moscow?"
    assert result["citations"] and not result["abstained"]


def test_chat_endpoint_answers_with_markers(client):
    outputs = client.predict("Why didn't Putin meet Qalibaf?", [], [], api_name="/chat")
    history = outputs[0]
    text = history[-1]["content"] if isinstance(history[-1]["content"], str) else history[-1]["content"][0]["text"]
    assert history[-1]["role"] == "assistant"
    # each [n] is a link to its extract highlighted in the article, and the message lists its own sources
    link = re.search(r"\[\\\[1\\\]\]\((/source/[^)]+\?start=\d+&end=\d+#cited)\)", text)
    assert link and text.count(link.group(1)) >= 2
    assert "class='citation'" in outputs[2]


def test_rest_api_is_served_alongside(live_server):
    body = json.dumps({"question": "Who received the letter instead?"}).encode()
    request = urllib.request.Request(live_server + "/api/ask", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = json.loads(response.read())
    assert any("Volodin" in c["quote"] for c in answer["citations"])


def test_a_follow_up_in_the_chat_is_understood_as_over_rest(live_server):
    """The chat condenses from the conversation as data (questions asked, answers' plain text),
    as REST clients send it, never from its own rendered markup."""
    from gradio_client import Client

    chat = Client(live_server + "/", verbose=False)  # a session of its own: the conversation is its state
    first = chat.predict("Why didn't Putin meet Qalibaf?", [], [], api_name="/chat")
    second = chat.predict("Who did he meet instead?", first[0], [], api_name="/chat")
    message = second[0][-1]["content"]
    message = message if isinstance(message, str) else message[0]["text"]
    understood = re.search(r"\*Understood as: (.+?)\*", message)

    def ask(body):
        request = urllib.request.Request(live_server + "/api/ask", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        return json.load(urllib.request.urlopen(request, timeout=120))

    rest_first = ask({"question": "Why didn't Putin meet Qalibaf?"})
    rest = ask({"question": "Who did he meet instead?",
                "history": [{"role": "user", "content": "Why didn't Putin meet Qalibaf?"},
                            {"role": "assistant", "content": rest_first["answer"]}]})
    assert understood and understood.group(1).replace("\\", "") == rest["condensed_question"]
    assert rest["condensed_question"] == "Who did Qalibaf meet instead of Putin?"
    # the same question as understood, so the same extracts (what the corpus holds just now decides which)
    linked = set(re.findall(r"/source/([^?]+)\?start=(\d+)&end=(\d+)", message))
    assert linked == {(c["doc_id"], str(c["start"]), str(c["end"])) for c in rest["citations"]}
