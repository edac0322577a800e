"""Searches never wait behind answers: answers run one per core with a bounded queue (more are
shed with 503 + Retry-After), searches in a lane of their own."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from conftest import SEEDS
from qa.engine import Engine
from qa.faces import lanes
from qa.settings import Settings


@pytest.fixture
def blocked_answers(hash_env, monkeypatch, request):
    """A server whose answers hold their turn until released: the answer lane stays full; its
    queue as the test marks it."""
    engine = Engine(Settings())
    engine.ingest([SEEDS])
    release, started = threading.Event(), threading.Semaphore(0)
    real_ask = engine.answer

    def held_ask(*args, **kwargs):
        started.release()
        release.wait(30)
        return real_ask(*args, **kwargs)

    monkeypatch.setattr(engine, "answer", held_ask)
    monkeypatch.setattr(lanes.ANSWERS, "queue", request.node.get_closest_marker("queue").args[0])
    from qa.faces.server import build_app

    with TestClient(build_app(engine.settings, engine)) as client:
        yield client, release, started
    release.set()


WAITING = 44  # more answers than the server has worker threads (40): waiting ones must not hold one


@pytest.mark.queue(WAITING)
def test_a_search_goes_through_while_answers_fill_every_thread(blocked_answers):
    client, release, started = blocked_answers
    with ThreadPoolExecutor(WAITING + lanes.ANSWER_WORKERS) as pool:
        asks = [pool.submit(client.post, "/api/ask", json={"question": "Why didn't Putin meet Qalibaf?"})
                for _ in range(WAITING + lanes.ANSWER_WORKERS)]
        for _ in range(lanes.ANSWER_WORKERS):  # every answer turn is now held
            assert started.acquire(timeout=30)
        threading.Event().wait(1.0)  # and the rest have arrived and wait
        search = client.get("/api/search", params={"q": "Qalibaf Putin", "k": 2})
        assert search.status_code == 200 and len(search.json()["results"]) == 2
        assert not any(a.done() for a in asks)  # the answers were still waiting for their turn
        release.set()
        assert all(a.result().status_code == 200 for a in asks)


@pytest.mark.queue(3)
def test_answers_beyond_the_queue_are_shed_at_once_with_retry_after(blocked_answers):
    client, release, started = blocked_answers
    with ThreadPoolExecutor(16) as pool:
        running = [pool.submit(client.post, "/api/ask", json={"question": "Who is Tavangar?"})
                   for _ in range(lanes.ANSWER_WORKERS)]
        for _ in running:
            assert started.acquire(timeout=30)
        waiting = [pool.submit(client.post, "/api/ask", json={"question": "Who is Tavangar?"}) for _ in range(3)]
        threading.Event().wait(1.0)  # let the three reach the lane's queue
        shed = client.post("/api/ask", json={"question": "Who is Tavangar?"})
        assert shed.status_code == 503 and shed.headers["retry-after"] == "1" and "busy" in shed.json()["detail"]
        chat = client.post("/v1/chat/completions", json={"model": "corpus-qa", "messages": [
            {"role": "user", "content": "Who is Tavangar?"}]})
        assert chat.status_code == 503 and chat.json()["error"]["type"] == "server_error"
        release.set()
        assert all(f.result().status_code == 200 for f in running + waiting)


def _answers_waiting(count: int) -> None:
    """Until `count` answers wait for a turn in the answer lane (of the server's event loop)."""
    for _ in range(300):
        if any(limiter.statistics().tasks_waiting >= count for limiter in list(lanes.ANSWERS._limiters.values())):
            return
        threading.Event().wait(0.1)
    raise AssertionError(f"{count} answers never waited in the lane")


@pytest.mark.queue(3)
def test_streamed_answers_take_a_turn_like_the_others(blocked_answers):
    """Streams run one per core and wait in the same bounded queue: one more is shed with 503."""
    client, release, started = blocked_answers
    streamed = {"question": "Who is Tavangar?", "stream": True}
    with ThreadPoolExecutor(16) as pool:
        asks = [pool.submit(client.post, "/api/ask", json=streamed) for _ in range(lanes.ANSWER_WORKERS + 3)]
        for _ in range(lanes.ANSWER_WORKERS):
            assert started.acquire(timeout=30)
        _answers_waiting(3)
        assert not started.acquire(timeout=0.5)  # no stream past the lane's limit has started its answer
        shed = client.post("/api/ask", json=streamed)
        assert shed.status_code == 503 and shed.headers["retry-after"] == "1"
        chat = client.post("/v1/chat/completions", json={"model": "corpus-qa", "stream": True, "messages": [
            {"role": "user", "content": "Who is Tavangar?"}]})
        assert chat.status_code == 503
        release.set()
        done = [a.result() for a in asks]
    assert all(r.status_code == 200 and "event: answer" in r.text for r in done)
