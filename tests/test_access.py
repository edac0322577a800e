"""Only what was uploaded, only this origin, only valid text: the door of the server as an attacker
with the key (or a stolen session) would try it. Each attack is replayed as it was reported."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import SEEDS
from qa.engine import Engine
from qa.settings import Settings

KEY = "s3cret-key"
BEARER = {"Authorization": f"Bearer {KEY}"}
SECRET = "The vault code of the lighthouse keeper is zebra-4471."


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    store = tmp_path_factory.mktemp("access") / "store"
    Engine(Settings(store_dir=store, embedding_model="hash")).ingest([SEEDS])
    return store


@pytest.fixture
def client(store):
    from qa.faces.server import build_app

    app = build_app(Settings(store_dir=store, embedding_model="hash", api_key=KEY))
    with TestClient(app, follow_redirects=False) as client:
        yield client


def _file_events(client) -> list[tuple[int, list]]:
    """(event id, input data) for every chat event that takes files, the data naming `path`."""
    config = client.get("/config", headers=BEARER).json()
    kinds = {c["id"]: c.get("type", "") for c in config["components"]}
    events = []
    for dep in config["dependencies"]:
        if any(kinds.get(i) == "file" for i in dep["inputs"]):
            events.append((dep["id"], [kinds.get(i) for i in dep["inputs"]]))
    return events


def _join(client, fn_index: int, inputs: list, path: str):
    fd = {"path": path, "meta": {"_type": "gradio.FileData"}, "orig_name": "privnote.txt"}
    data = [[fd] if kind == "file" else None for kind in inputs]
    return client.post("/gradio_api/queue/join", headers=BEARER,
                       json={"data": data, "fn_index": fn_index, "session_hash": "abc", "event_data": None})


def test_a_server_file_named_in_a_chat_event_is_refused_and_nothing_is_ingested(client, tmp_path):
    private = tmp_path / "privnote.txt"
    private.write_text(f"Private note\n\n{SECRET}\n", encoding="utf-8")
    events = _file_events(client)
    assert events, "the chat has an event that takes files"
    before = client.get("/api/documents", headers=BEARER).json()["total"]
    for fn_index, inputs in events:
        for path in (str(private), "/etc/hostname", "https://example.org/x.txt"):
            refused = _join(client, fn_index, inputs, path)
            assert refused.status_code == 400, (fn_index, path, refused.text)
            assert "not a file uploaded to this server" in refused.json()["detail"]
    time.sleep(0.5)  # an event that slipped through would be ingesting now
    assert client.get("/api/documents", headers=BEARER).json()["total"] == before
    found = client.get("/api/search", params={"q": "vault code zebra-4471"}, headers=BEARER).json()["results"]
    assert not any("zebra" in hit["text"] for hit in found)
    assert private.exists()  # the handler deletes what it ingested: a server file must never reach it


def test_a_path_that_climbs_out_of_the_upload_folder_is_refused(client, tmp_path):
    from gradio.utils import get_upload_folder

    uploaded = client.post("/gradio_api/upload", headers=BEARER,
                           files={"files": ("note.txt", b"The Tindra ferry carries 340 passengers.\n")}).json()[0]
    fn_index, inputs = _file_events(client)[0]
    climbing = str(Path(get_upload_folder()) / ".." / ".." / "etc" / "hostname")
    assert _join(client, fn_index, inputs, climbing).status_code == 400
    assert _join(client, fn_index, inputs, uploaded + "/../../../../etc/hostname").status_code == 400


def test_a_file_uploaded_through_gradio_is_still_taken(client):
    uploaded = client.post("/gradio_api/upload", headers=BEARER,
                           files={"files": ("tindra.txt", b"The Tindra ferry carries 340 passengers.\n")}).json()[0]
    fn_index, inputs = _file_events(client)[0]
    assert _join(client, fn_index, inputs, uploaded).status_code == 200


@pytest.mark.parametrize("target", [
    "/\t/evil.example/", "/\r\n/evil.example/", "/\\evil.example/", "\\\\evil.example/", "//evil.example/",
    "https://evil.example/", "http:/evil.example", "/%09/evil.example/".replace("%09", "\t"), " //evil.example",
    "javascript:alert(1)", "/\x00/evil.example", "evil.example"])
def test_sign_in_never_redirects_off_this_server(client, target):
    from urllib.parse import urljoin, urlsplit

    signed = client.post("/login", data={"key": KEY, "next": target})
    assert signed.status_code == 303
    location = signed.headers["location"]
    assert not any(c in location for c in "\t\r\n\\")
    resolved = urlsplit(urljoin("http://testserver/", location))
    assert resolved.netloc == "testserver" and resolved.scheme == "http", location
    import html

    form = client.get("/login", params={"next": target}).text
    carried = html.unescape(form.split('name="next" value="')[1].split('"')[0])
    assert urlsplit(urljoin("http://testserver/", carried)).netloc == "testserver", carried


def test_a_same_origin_target_survives_sign_in(client):
    signed = client.post("/login", data={"key": KEY, "next": "/source/abc?start=1&end=2"})
    assert signed.headers["location"] == "/source/abc?start=1&end=2"


def _signed_in(client) -> str:
    signed = client.post("/login", data={"key": KEY, "next": "/"})
    return signed.headers["set-cookie"].split(";")[0].split("=", 1)[1]


def test_each_sign_in_is_its_own_session_and_logout_ends_it(client):
    first, second = _signed_in(client), _signed_in(client)
    assert first != second and KEY not in first
    client.cookies.set("qa_session", first)
    assert client.get("/config").status_code == 200
    out = client.get("/logout")
    assert out.status_code == 303 and "Max-Age=0" in out.headers["set-cookie"]
    assert "You signed out." in client.get(out.headers["location"]).text  # the login page says so
    assert "signed out" not in client.get("/login").text
    client.cookies.set("qa_session", first)  # a copy of the cookie kept from before is worthless now
    assert client.get("/config").status_code == 401
    client.cookies.set("qa_session", second)
    assert client.get("/config").status_code == 200


def test_a_session_expires(store):
    from qa.faces.server import build_app

    app = build_app(Settings(store_dir=store, embedding_model="hash", api_key=KEY, session_hours=1 / 3600))
    with TestClient(app, follow_redirects=False) as client:
        client.cookies.set("qa_session", _signed_in(client))
        assert client.get("/config").status_code == 200
        time.sleep(1.2)
        assert client.get("/config").status_code == 401


def test_a_session_cookie_does_not_open_the_bearer_faces(client):
    client.cookies.set("qa_session", _signed_in(client))
    assert client.get("/api/documents").status_code == 401
    assert client.post("/v1/chat/completions", json={}).status_code == 401


@pytest.mark.parametrize("path,body", [
    ("/api/ask", '{"question": "Who is Qalibaf?\\ud800"}'),
    ("/api/search", '{"q": "Qalibaf\\udc00", "k": 3}'),
    ("/api/verify", '{"citations": [{"n": 1, "doc_id": "x\\ud800", "start": 0, "end": 1, "quote": "a"}]}'),
    ("/v1/chat/completions", '{"model": "corpus-qa", "messages": [{"role": "user", "content": "Who?\\ud800"}]}'),
    ("/mcp", '{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "ask", '
             '"arguments": {"question": "Who\\ud800"}}}')])
def test_a_lone_surrogate_is_a_one_line_client_error_everywhere(client, path, body):
    response = client.post(path, content=body, headers={**BEARER, "content-type": "application/json",
                                                         "accept": "application/json, text/event-stream"})
    assert response.status_code in (400, 422), response.text
    message = response.json()["error"]["message"] if path.startswith("/v1/") else response.json()["detail"]
    assert "lone surrogate" in message and "\n" not in message
    assert client.get("/healthz").status_code == 200  # and the server still answers


def test_a_surrogate_pair_is_ordinary_text(client):
    fine = client.post("/api/search", content='{"q": "Qalibaf \\ud83d\\ude00", "k": 1}',
                       headers={**BEARER, "content-type": "application/json"})
    assert fine.status_code == 200


@pytest.mark.parametrize("text", [5, None, ["a"], {"a": 1}])
def test_a_v1_text_part_that_is_not_a_string_is_400_in_openai_shape(client, text):
    body = {"model": "corpus-qa", "messages": [{"role": "user", "content": [{"type": "text", "text": text}]}]}
    response = client.post("/v1/chat/completions", json=body, headers=BEARER)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_v1_checks_the_key_before_the_body(client):
    for body in (b"not json", b'{"messages": 5}'):
        response = client.post("/v1/chat/completions", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_api_key"


def test_v1_serves_only_its_own_model_and_says_what_it_ignores(client):
    asked = [{"role": "user", "content": "Who is Qalibaf?"}]
    unknown = client.post("/v1/chat/completions", headers=BEARER,
                          json={"model": "gpt-9" + "x" * 1_000_000, "messages": asked})
    assert unknown.status_code in (400, 404) and len(unknown.text) < 2_000
    missing = client.post("/v1/chat/completions", headers=BEARER, json={"model": "gpt-9", "messages": asked})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "model_not_found"
    many = client.post("/v1/chat/completions", headers=BEARER, json={"model": "corpus-qa", "messages": asked, "n": 3})
    assert many.status_code == 400
    served = client.post("/v1/chat/completions", headers=BEARER,
                         json={"model": "corpus-qa", "messages": asked, "temperature": 0.2, "max_tokens": 5})
    assert served.status_code == 200 and served.json()["ignored_options"] == ["max_tokens", "temperature"]


def test_api_errors_under_v1_come_in_openai_shape_from_the_door(store):
    from qa.faces.server import build_app

    app = build_app(Settings(store_dir=store, embedding_model="hash", api_key=KEY))
    with TestClient(app) as client:
        huge = client.post("/v1/chat/completions", content=b"{" + b" " * (3 << 20) + b"}",
                           headers={**BEARER, "content-type": "application/json"})
        assert huge.status_code == 413 and "limit" in huge.json()["error"]["message"]


@pytest.mark.slow
def test_an_mcp_flood_is_shed_and_health_answers_meanwhile(store, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    from server_fixture import start_server, stop_server

    process, url = start_server(store, tmp_path / "server.log", extra_env={"QA_EMBEDDING_MODEL": "hash"})
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "ask", "arguments": {"question": "Why didn't Putin meet Qalibaf?"}}}
    headers = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
    statuses: list[int] = []
    try:
        with httpx.Client(base_url=url, timeout=300, limits=httpx.Limits(max_connections=200)) as http, \
                ThreadPoolExecutor(128) as pool:
            def ask(_):
                response = http.post("/mcp", content=json.dumps(call), headers=headers)
                statuses.append(response.status_code)
                return response

            flood = [pool.submit(ask, i) for i in range(128)]
            while not statuses:
                time.sleep(0.01)
            health = http.get("/healthz")
            answered_during_flood = sum(not f.done() for f in flood)
            replies = [f.result() for f in flood]
    finally:
        stop_server(process)
    assert health.status_code == 200 and answered_during_flood > 0
    shed = [r for r in replies if r.status_code == 503]
    assert shed and all(r.headers["retry-after"].isdigit() for r in shed)
    assert all(r.status_code in (200, 503) for r in replies)
    assert sum(r.status_code == 200 for r in replies) >= 1


def _control_line(what: str, value: str) -> str:
    return f"{what} holds a control character (NUL, a line break or the like): {value!r}"


def test_nul_and_control_characters_in_a_path_or_id_are_a_one_line_400(client):
    fn_index, inputs = _file_events(client)[0]
    event = _join(client, fn_index, inputs, "/tmp/qa-upload\x00.txt")
    assert (event.status_code, event.json()["detail"]) == (400, _control_line("file path", "/tmp/qa-upload\x00.txt"))
    for method in ("GET", "DELETE"):
        reply = client.request(method, "/api/documents/a%00b", headers=BEARER)
        assert (reply.status_code, reply.json()["detail"]) == (400, _control_line("document id", "a\x00b"))
    assert client.get("/source/a%1bb", headers=BEARER).status_code == 400
    searched = client.post("/api/search", json={"q": "Qalibaf", "filters": {"doc_ids": ["a\x01"]}}, headers=BEARER)
    assert (searched.status_code, searched.json()["detail"]) == (400, _control_line("document id", "a\x01"))
    raw = (b'--b0\r\nContent-Disposition: form-data; name="file"; filename="note\x07.txt"\r\n'
           b"Content-Type: text/plain\r\n\r\nThe ferry sails at noon.\n\r\n--b0--\r\n")  # as sent, not escaped
    upload = client.post("/api/documents", content=raw,
                         headers={**BEARER, "Content-Type": "multipart/form-data; boundary=b0"})
    assert (upload.status_code, upload.json()["detail"]) == (400, _control_line("file name", "note\x07.txt"))


def test_clients_see_document_ids_and_file_names_never_server_paths(tmp_path):
    from qa.faces.server import build_app

    folder = tmp_path / "outside-the-working-folder" / "news"
    folder.mkdir(parents=True)
    (folder / "ferry.txt").write_text("The Tindra ferry carries 340 passengers every day.\n", encoding="utf-8")
    settings = Settings(store_dir=tmp_path / "store", embedding_model="hash", api_key=KEY)
    Engine(settings).ingest([folder])
    with TestClient(build_app(settings), follow_redirects=False) as client:
        document = client.get("/api/documents/ferry", headers=BEARER).json()
        hit = client.get("/api/search", params={"q": "Tindra ferry"}, headers=BEARER).json()["results"][0]
        taken = client.post("/api/documents", files={"file": ("ferry.md", b"# Ferry\n\nA new timetable.\n")},
                            headers=BEARER)
    assert document["source"] == hit["source"] == "news/ferry.txt"
    assert taken.status_code == 409 and "news/" in taken.json()["detail"]
    assert str(tmp_path) not in json.dumps([document, hit, taken.json()])


def test_wrong_keys_are_limited_per_address_and_a_right_key_works_after_the_wait(store, monkeypatch):
    """Ten wrong keys a minute from one address (at /login or as bearer), then 429 with
    Retry-After for every try from it, the right key included; another address is not affected."""
    from qa.faces import access
    from qa.faces.server import build_app

    now = [1000.0]
    monkeypatch.setattr(access, "_now", lambda: now[0])
    app = build_app(Settings(store_dir=store, embedding_model="hash", api_key=KEY))
    with TestClient(app, follow_redirects=False, client=("203.0.113.5", 4000)) as guesser, \
            TestClient(app, follow_redirects=False, client=("198.51.100.7", 4000)) as other:
        tries = [guesser.post("/login", data={"key": f"wrong-{i}", "next": "/"}).status_code for i in range(5)]
        tries += [guesser.get("/api/documents", headers={"Authorization": f"Bearer wrong-{i}"}).status_code
                  for i in range(5)]
        assert tries == [401] * 10
        refused = [guesser.post("/login", data={"key": KEY, "next": "/"}),
                   guesser.get("/api/documents", headers=BEARER)]
        assert [r.status_code for r in refused] == [429, 429]
        assert all(r.headers["retry-after"] == "60" for r in refused)
        assert "too many wrong API keys" in refused[1].json()["detail"]
        assert other.post("/login", data={"key": KEY, "next": "/"}).status_code == 303
        assert other.get("/api/documents", headers=BEARER).status_code == 200
        now[0] += 30
        assert guesser.get("/api/documents", headers=BEARER).headers["retry-after"] == "30"
        now[0] += 31
        assert guesser.get("/api/documents", headers=BEARER).status_code == 200
        assert guesser.post("/login", data={"key": KEY, "next": "/"}).status_code == 303


def test_another_origin_never_reads_with_the_cookie(client):
    """A page of another origin (another port of this host, or any origin when the Host is not a
    localhost name) gets no CORS header and may not use the session cookie."""
    cookie = {"Cookie": f"qa_session={_signed_in(client)}"}
    for origin, host in (("http://127.0.0.1:9999", "127.0.0.1:7860"), ("https://evil.example", "qa.example.org"),
                         ("null", "127.0.0.1:7860")):
        for method, path in (("GET", "/config"), ("POST", "/gradio_api/upload")):
            reply = client.request(method, path, headers={**cookie, "Origin": origin, "Host": host},
                                   files={"files": ("n.txt", b"x")} if method == "POST" else None)
            assert reply.status_code == 403, (origin, host, path)
            assert not any(h.startswith("access-control-") for h in reply.headers)
        preflight = client.options("/config", headers={"Origin": origin, "Host": host,
                                                       "Access-Control-Request-Method": "GET"})
        assert "access-control-allow-origin" not in preflight.headers
    same = client.get("/config", headers={**cookie, "Origin": "https://qa.example.org", "Host": "qa.example.org"})
    assert same.status_code == 200
    with_key = client.get("/config", headers={**BEARER, "Origin": "https://evil.example", "Host": "qa.example.org"})
    assert "access-control-allow-origin" not in with_key.headers
