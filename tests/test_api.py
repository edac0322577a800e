"""The REST API through FastAPI's TestClient: every endpoint, every bad input."""
import pytest
from fastapi.testclient import TestClient

from conftest import SEEDS
from qa.engine import Engine
from qa.faces.server import build_app
from qa.settings import Settings


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    store = tmp_path_factory.mktemp("api") / "store"
    settings = Settings(store_dir=store, embedding_model="hash")
    Engine(settings).ingest([SEEDS])
    return settings


@pytest.fixture(scope="module")
def client(settings):
    return TestClient(build_app(settings), raise_server_exceptions=False)


def test_healthz(client):
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["documents"] == 2 and body["chunks"] > 0


def test_search_get_and_post_agree(client):
    got = client.get("/api/search", params={"q": "Volodin adviser", "k": 3})
    posted = client.post("/api/search", json={"q": "Volodin adviser", "k": 3})
    assert got.status_code == posted.status_code == 200
    assert got.json() == posted.json()
    results = got.json()["results"]
    assert len(results) == 3 and "Volodin" in results[0]["text"]
    assert set(results[0]) == {"rank", "chunk_id", "doc_id", "title", "source", "start", "end", "text", "score",
                               "outlet", "date", "also_reported_by"}
    assert results[0]["source"] == "seeds/001_fef7cdd3c9f4f1a3.txt" or not results[0]["source"].startswith("/")


def test_ask_with_history_then_verify(client):
    answer = client.post("/api/ask", json={
        "question": "What did he tweet after the visit?",
        "history": [{"role": "user", "content": "Who is Qalibaf?"}, {"role": "assistant", "content": "A speaker."}],
    }).json()
    assert answer["condensed_question"] == "What did Qalibaf tweet after the visit?"
    assert set(answer) >= {"question", "answer", "abstained", "citations"}
    verdict = client.post("/api/verify", json={"citations": answer["citations"]}).json()
    assert verdict["all_valid"] is True and len(verdict["citations"]) == len(answer["citations"])


def test_verify_flags_a_tampered_quote_and_finds_it(client):
    quote = "Putin is a notable germo-phobe."
    body = client.post("/api/verify", json={"citations": [
        {"n": 1, "doc_id": "001_fef7cdd3c9f4f1a3", "start": 3, "end": 3 + len(quote), "quote": quote}]}).json()
    assert body["all_valid"] is False
    assert body["citations"][0]["found_at"]["exact"] is True


def test_document_and_source_page(client):
    doc = client.get("/api/documents/001_fef7cdd3c9f4f1a3").json()
    assert doc["title"].startswith("Qalibaf carries message") and doc["text"].startswith("Iran Times")
    page = client.get("/source/001_fef7cdd3c9f4f1a3", params={"start": 0, "end": 10})
    assert page.status_code == 200 and "<mark id='cited'>Iran Times</mark>" in page.text


@pytest.mark.parametrize("method, url, payload, status, message", [
    ("post", "/api/ask", {"question": ""}, 422, "question"),
    ("post", "/api/ask", {"question": "   "}, 422, "empty"),
    ("post", "/api/ask", {"question": "x" * 2001}, 422, "question"),
    ("post", "/api/ask", {"question": "hi", "k": 0}, 422, "k"),
    ("post", "/api/ask", {"question": "hi", "history": [{"role": "system", "content": "x"}]}, 422, "role"),
    ("post", "/api/search", {"q": "Putin", "k": 51}, 422, "k"),
    ("get", "/api/search?q=Putin&k=0", None, 422, "k"),
    ("get", "/api/search?q=", None, 422, "q"),
    ("get", "/api/search", None, 422, "q"),
    ("get", "/api/documents/no-such-doc", None, 404, "no document"),
    ("post", "/api/verify", {"nothing": 1}, 422, "citations"),
])
def test_bad_input_is_a_clear_4xx(client, method, url, payload, status, message):
    response = getattr(client, method)(url, json=payload) if payload is not None else getattr(client, method)(url)
    assert response.status_code == status
    assert message in response.json()["detail"] and "Traceback" not in response.text


def test_a_source_link_to_a_missing_document_is_a_page_that_says_so(client):
    response = client.get("/source/no-such-doc")
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")
    assert "This document was deleted" in response.text and "no-such-doc" in response.text


def test_malformed_json_is_422(client):
    response = client.post("/api/ask", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422 and "Traceback" not in response.text


def test_api_key_is_required_when_set(settings):
    locked = TestClient(build_app(settings.updated(**{"api_key": "s3cret"})))
    assert locked.get("/api/search", params={"q": "Putin"}).status_code == 401
    wrong = locked.get("/api/search", params={"q": "Putin"}, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    right = locked.get("/api/search", params={"q": "Putin"}, headers={"Authorization": "Bearer s3cret"})
    assert right.status_code == 200
    assert locked.get("/healthz").status_code == 200


def test_missing_store_is_reported_with_the_command(tmp_path):
    engine = Engine(Settings(store_dir=tmp_path / "none", embedding_model="hash"))
    from qa.faces.api import create_api

    client = TestClient(create_api(engine))
    response = client.get("/api/search", params={"q": "x"})
    assert response.status_code == 503 and "qa ingest" in response.json()["detail"]
    assert client.get("/healthz").status_code == 503


def test_openapi_documents_the_endpoints(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/search", "/api/ask", "/api/verify", "/api/documents/{doc_id}", "/healthz"} <= set(paths)
    assert client.get("/docs").status_code == 200


def test_no_file_outside_the_corpus_is_served(client):
    for url in ("/source/../../etc/passwd", "/source/%2e%2e/%2e%2e/etc/passwd", "/api/documents/..%2F..%2Fetc%2Fpasswd",
                "/gradio_api/file=/etc/passwd", "/file=/etc/passwd", "/gradio_api/file=pyproject.toml"):
        response = client.get(url)
        assert "root:" not in response.text and "[project]" not in response.text, url
        assert response.status_code in (400, 403, 404, 405), (url, response.status_code)


def test_the_question_limit_is_the_setting_in_every_face(tmp_path):
    from conftest import SEEDS
    from qa.engine import Engine
    from qa.faces.api import create_api

    engine = Engine(Settings(store_dir=tmp_path / "store", embedding_model="hash", max_question_chars=50))
    engine.ingest([SEEDS])
    client = TestClient(create_api(engine))
    long = "Why did Qalibaf travel to Moscow to deliver the letter?"  # 55 characters
    for reply in (client.post("/api/ask", json={"question": long}), client.get("/api/search", params={"q": long}),
                  client.post("/api/search", json={"query": long})):
        assert reply.status_code == 422 and "the limit is 50" in reply.json()["detail"]
    assert client.post("/api/ask", json={"question": long[:50]}).status_code == 200


def test_verify_places_an_altered_quote_at_its_first_letter(client):
    """An altered copy one character shorter than the source (a dropped hyphen) is found where the
    sentence starts, not one character late with its first letter cut off."""
    text = client.get("/api/documents/001_fef7cdd3c9f4f1a3").json()["text"]
    at = text.index("Putin is a notable germo-phobe.")
    altered = ("Putin is a notable germophobe.  Ever since the start of the coronavirus epidemic, "
               "he has quarantined himself at his dacha outside Moscow.")
    body = client.post("/api/verify", json={"citations": [
        {"n": 1, "doc_id": "001_fef7cdd3c9f4f1a3", "start": 0, "end": len(altered), "quote": altered}]}).json()
    found = body["citations"][0]["found_at"]
    assert found["exact"] is False and found["start"] == at
    assert text[found["start"]:found["end"]].endswith("outside Moscow.")


def test_every_face_reads_filters_by_one_rule(client):
    """One parser (Filters.of) behind the CLI, REST, MCP and the chat: a single string counts as a
    one-item list, a blank date is no bound, and a wrong type is one line, not a 500."""
    from qa.errors import InputError
    from qa.types import Filters

    assert Filters.of("Iran Times", " ", None, None) == Filters(("Iran Times",))
    assert Filters.from_json({"outlet": "Iran Times", "date_from": ""}) == Filters(("Iran Times",))
    with pytest.raises(InputError, match="filters.doc_ids must be a list of strings"):
        Filters.of(doc_ids=[3])
    question = {"question": "Why didn't Putin meet Qalibaf?"}
    blank = client.post("/api/ask", json={**question, "filters": {"date_from": "", "outlet": []}})
    plain = client.post("/api/ask", json=question)
    assert blank.status_code == plain.status_code == 200
    assert blank.json()["citations"] == plain.json()["citations"]
    wrong = client.post("/api/ask", json={**question, "filters": {"doc_ids": 5}})
    assert wrong.status_code == 422 and "filters.doc_ids" in wrong.text
