"""`qa serve --workers N`: several processes share the port and the store; the REST API and the
(stateless) chat answer whichever worker takes a request; an upload to one is seen by all."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import ROOT, SEEDS
from qa.engine import Engine
from qa.settings import Settings
from server_fixture import free_port, stop_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    folder = tmp_path_factory.mktemp("workers")
    store = folder / "store"
    Engine(Settings(store_dir=store, embedding_model="hash")).ingest([SEEDS])
    port = free_port()
    env = {**os.environ, "QA_EMBEDDING_MODEL": "hash", "QA_SETTINGS_FILE": str(folder / "absent.toml")}
    log = (folder / "server.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "qa", "serve", "--store", str(store), "--port", str(port),
                                "--no-ingest", "--workers", "2", "--access-log"],  # which worker served what
                               cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:  # both workers up: each logs its start when its app is ready
        if (folder / "server.log").read_text().count("Application startup complete") >= 2:
            break
        time.sleep(0.5)
    yield url, folder / "server.log"
    stop_server(process)  # uvicorn's supervisor stops its workers


def _post(url: str, path: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url + path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, {}


def test_two_worker_processes_answer_concurrently_without_errors(two_workers):
    url, log = two_workers
    questions = ["Why didn't Putin meet Qalibaf?", "Who received the letter instead?", "Who is Mojtaba Tavangar?"] * 10
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda q: _post(url, "/api/ask", {"question": q}), questions))
    assert all(status == 200 and body["citations"] for status, body in results)
    assert log.read_text().count("Started server process") == 2  # two processes took the requests' port


@pytest.mark.browser
def test_the_chat_is_stateless_so_any_worker_can_answer(two_workers):
    """In a real browser: a conversation of several turns (each a plain request that either worker
    may take), its follow-up understood, a citation opened."""
    from pathlib import Path

    from test_browser import ARGS, CHROMIUM

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    url, log = two_workers
    rows = "#chat .message-row"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.goto(url + "/")
        page.wait_for_selector("#question textarea", timeout=60_000)
        for question in ["Why didn't Putin meet Qalibaf?", "Who received the letter instead?",
                         "Who is Mojtaba Tavangar?", "What is his position?"]:
            before = page.locator(rows).count()
            page.fill("#question textarea", question)
            page.click("#send")  # each turn arrives whole: the question's row and the answer's
            page.wait_for_function(f"document.querySelectorAll(\"{rows}\").length >= {before + 2}", timeout=60_000)
        assert "Understood as" in page.inner_text("#chat")  # the follow-up used the conversation
        page.click("#open-citation label:first-of-type")
        page.wait_for_selector("#source-viewer mark", timeout=20_000)
        browser.close()
    served = log.read_text()
    assert served.count("/gradio_api/run/predict") >= 4
    assert served.count('"GET / HTTP') == 1 and "queue/join" not in served  # never reloaded, never queued


def test_an_upload_to_one_worker_is_answerable_on_all(two_workers):
    url, _ = two_workers
    boundary = "qa-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"bridge.txt\"\r\n"
            "Content-Type: text/plain\r\n\r\nThe Vardo bridge opened in 1999 after six years of work.\r\n"
            f"--{boundary}--\r\n").encode()
    request = urllib.request.Request(url + "/api/documents", body,
                                     {"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 201
    for _ in range(6):
        status, answer = _post(url, "/api/ask", {"question": "When did the Vardo bridge open?"})
        assert status == 200 and any(c["doc_id"] == "bridge" for c in answer["citations"])
