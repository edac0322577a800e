"""Hostile files and who may write: bounded extraction, uploads that cannot collide, the API key
on every face, bodies bounded while they stream, nothing left behind. Each attack is built here."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bench.hostile import docx_bomb, long_line_html, shared_stream_pdf
from conftest import SEEDS
from qa.engine import Engine
from qa.errors import ConflictError, InputError
from qa.settings import Settings
from qa.store.generations import store_lock

KEY = "s3cret-key"
SEED = "000_782ea98495621ebe"


def _settings(tmp_path: Path, **extra) -> Settings:
    return Settings(**{"store_dir": tmp_path / "store", "embedding_model": "hash", **extra})


@pytest.fixture
def engine(tmp_path) -> Engine:
    engine = Engine(_settings(tmp_path))
    engine.ingest([SEEDS])
    return engine


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return docx_bomb(1 << 30)  # inflates to 1 GB


def test_a_docx_inflating_to_1_gb_is_refused_at_once_naming_the_limit(engine, bomb):
    assert len(bomb) < 8 << 20
    started = time.perf_counter()
    with pytest.raises(InputError, match=r"bomb\.docx: archive member 'word/document\.xml' inflates to 1,07"):
        engine.library.upload([("bomb.docx", bomb)])
    assert time.perf_counter() - started < 10
    assert "bomb" not in {d.doc_id for d in engine.store.documents()}
    assert not (engine.library.uploads_dir / "bomb.docx").exists()


def test_ingest_skips_the_bomb_with_its_reason_and_keeps_the_rest(tmp_path, bomb):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "bomb.docx").write_bytes(bomb)
    (folder / "good.txt").write_text("The Tindra ferry carries 340 passengers.\n", encoding="utf-8")
    report = Engine(_settings(tmp_path)).ingest([folder])
    assert report.added == 1
    assert "inflates to" in dict((Path(p).name, r) for p, r in report.skipped)["bomb.docx"]


@pytest.mark.slow
def test_a_pdf_whose_pages_share_a_huge_stream_is_refused_by_its_text_size(engine):
    data = shared_stream_pdf()  # 5 pages, each showing 5 MB of drawing operations
    assert len(data) < 40_000
    started = time.perf_counter()
    with pytest.raises(InputError, match="over the extracted text limit"):
        engine.library.upload([("shared.pdf", data)])
    assert time.perf_counter() - started < 60


def test_extraction_that_runs_too_long_is_killed_and_the_file_refused(tmp_path, engine):
    slow = Engine(_settings(tmp_path, store_dir=engine.settings.store.store_dir, extract_seconds=2))
    started = time.perf_counter()
    with pytest.raises(InputError, match=r"line\.html: extraction took longer than 2 s"):
        slow.library.upload([("line.html", long_line_html(19_500_000))])
    assert time.perf_counter() - started < 20
    # the killed worker is replaced: the next page extracts normally
    report = slow.library.upload([("ok.html", b"<html><body><article><h1>Ferries</h1><p>The Tindra ferry carries "
                                      b"340 passengers between the islands every day.</p></article></body></html>")])
    assert report.added == 1


def test_text_over_the_character_limit_is_refused_not_truncated(engine, tmp_path):
    small = Engine(_settings(tmp_path, store_dir=engine.settings.store.store_dir, max_document_chars=5_000))
    with pytest.raises(InputError, match="over the extracted text limit .*6,000 characters; limit 5,000"):
        small.library.upload([("long.txt", b"x" * 5_999 + b"\n")])


def test_ten_parallel_uploads_of_one_name_give_one_document_and_no_error(engine):
    before = engine.stats()["documents"]
    failures: list[Exception] = []

    def one(round_: int) -> None:
        try:
            engine.library.upload([("same-name.txt", f"The ferry carries 340 passengers (round {round_}).\n".encode())])
        except Exception as exc:  # any error is a failure here
            failures.append(exc)

    for round_ in range(12):
        threads = [threading.Thread(target=one, args=(round_,)) for _ in range(10)]
        [t.start() for t in threads]
        [t.join() for t in threads]
    assert failures == []
    assert engine.stats()["documents"] == before + 1
    assert "round 11" in engine.library.document("same-name").text
    assert sorted(p.name for p in engine.library.uploads_dir.iterdir()) == ["same-name.txt"]


def test_another_stem_with_the_same_id_is_a_conflict_not_a_silent_replacement(engine):
    library = engine.library
    library.upload([("x.html", b"<html><body><p>The harbour opened in 1999 and serves ferries.</p></body></html>")])
    with pytest.raises(ConflictError, match="already taken by the upload x.html"):
        library.upload([("x.md", b"# Other\n\nA different document.\n")])
    assert library.document("x").origin == "html"
    assert library.upload([("x.html", b"<html><body><p>The harbour opened in 2001.</p></body></html>")]).updated == 1


def test_a_long_name_is_shortened_in_its_stem_keeping_its_type(engine):
    name = "h" * 146 + ".txt" + "i" * 10 + ".md"
    report = engine.library.upload([(name, b"# Title\n\nMarkdown *body* text here.\n")])
    assert report.added == 1
    stored = [p.name for p in engine.library.uploads_dir.iterdir()]
    assert len(stored) == 1 and stored[0].endswith(".md") and len(stored[0]) <= 150
    assert engine.library.document(Path(stored[0]).stem).origin == "markdown"
    assert engine.library.upload([("c" * 147 + ".txt", b"Plain text upload.\n")]).added == 1


def test_leftovers_of_killed_or_refused_uploads_are_swept(engine):
    engine.library.uploads_dir.mkdir(parents=True, exist_ok=True)
    (engine.library.uploads_dir / ".upload-abc123").write_bytes(b"half a file")
    (engine.library.uploads_dir / "orphan.txt").write_text("never indexed\n")
    engine.library.upload([("kept.txt", b"The ferry is kept.\n")])
    removed = {p.name for p in engine.library.sweep_uploads()}
    assert removed == {".upload-abc123", "orphan.txt"}
    assert [p.name for p in engine.library.uploads_dir.iterdir()] == ["kept.txt"]


# -- over HTTP -------------------------------------------------------------------------------

@pytest.fixture
def keyed(engine):
    from qa.faces.server import build_app

    settings = _settings(Path(engine.settings.store.store_dir).parent, api_key=KEY)
    return TestClient(build_app(settings), follow_redirects=False)


def test_with_a_key_no_page_route_or_write_is_open_without_it(keyed):
    assert keyed.get("/healthz").status_code == 200
    assert keyed.get("/config").status_code == 401
    assert keyed.post("/gradio_api/upload", files={"files": ("x.txt", b"x")}).status_code == 401
    assert keyed.post("/gradio_api/queue/join", json={"fn_index": 0, "data": []}).status_code == 401
    assert keyed.get(f"/source/{SEED}").status_code == 401
    assert keyed.get("/v1/models").status_code == 401 and keyed.get("/docs").status_code == 401
    assert keyed.get(f"/api/documents/{SEED}").status_code == 401
    assert keyed.delete(f"/api/documents/{SEED}").status_code == 401
    assert keyed.post("/api/documents", files={"file": ("x.txt", b"Some text.")}).status_code == 401
    assert keyed.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                      headers={"accept": "application/json, text/event-stream"}).status_code == 401
    page = keyed.get("/", headers={"accept": "text/html"})
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    assert keyed.get(f"/api/documents/{SEED}", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200


def test_the_browser_signs_in_once_and_then_reaches_the_chat(keyed):
    assert 'name="key"' in keyed.get("/login").text
    wrong = keyed.post("/login", data={"key": "guess", "next": "/"})
    assert wrong.status_code == 401 and "That key is not the server" in wrong.text
    assert keyed.post("/login", data={"key": KEY, "next": "https://evil.example/"}).headers["location"] == "/"
    signed = keyed.post("/login", data={"key": KEY, "next": f"/source/{SEED}"})
    assert signed.status_code == 303 and signed.headers["location"] == f"/source/{SEED}"
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    keyed.cookies.set("qa_session", cookie.split(";")[0].split("=", 1)[1])
    assert keyed.get("/config").status_code == 200
    assert "Qalibaf" in keyed.get(f"/source/{SEED}").text


def test_bodies_are_bounded_while_they_stream(tmp_path, engine):
    from qa.faces.server import build_app

    settings = _settings(tmp_path, store_dir=engine.settings.store.store_dir, max_upload_bytes=100_000)
    client = TestClient(build_app(settings))
    huge = client.post("/api/ask", content=b"{" + b" " * (3 << 20) + b"}", headers={"content-type": "application/json"})
    assert huge.status_code == 413 and "limit" in huge.json()["detail"]
    upload = client.post("/api/documents", files={"file": ("big.txt", b"word " * 200_000)})
    assert upload.status_code == 413
    assert not (engine.library.uploads_dir / "big.txt").exists()


def test_every_response_carries_the_security_headers(tmp_path, engine):
    from qa.faces.server import build_app

    client = TestClient(build_app(_settings(tmp_path, store_dir=engine.settings.store.store_dir)))
    for path in ("/healthz", "/", f"/source/{SEED}", "/api/documents", "/nowhere"):
        headers = client.get(path).headers
        assert headers["x-content-type-options"] == "nosniff", path
        assert "frame-ancestors 'self'" in headers["content-security-policy"], path


def test_a_write_held_by_another_process_is_503_with_retry_after(tmp_path, engine):
    from qa.faces.api import create_api

    client = TestClient(create_api(engine))
    with store_lock(engine.settings.store.store_dir):  # as another process's ingest would hold it
        reply = client.post("/api/documents", files={"file": ("late.txt", b"Arrived while the index was busy.\n")})
    assert reply.status_code == 503 and reply.headers["retry-after"].isdigit()
    assert not (engine.library.uploads_dir / "late.txt").exists()
    assert client.post("/api/documents", files={"file": ("late.txt", b"Arrived later.\n")}).status_code == 201


def test_an_uploads_source_is_relative_to_the_store(engine):
    engine.library.upload([("note.txt", b"The ferry note.\n")])
    assert engine.library.document("note").source == "uploads/note.txt"


@pytest.mark.parametrize("body", [b"[" * 10_000 + b"]" * 10_000, b'{"question": "\xff\xfe"}'])
def test_a_body_that_cannot_be_read_as_json_is_422(engine, body):
    from qa.faces.api import create_api

    reply = TestClient(create_api(engine)).post("/api/ask", content=body, headers={"content-type": "application/json"})
    assert reply.status_code == 422 and reply.json()["detail"].startswith("body:")


def test_a_pasted_paragraph_as_question_is_answered_not_a_500(engine):
    from qa.faces.api import create_api

    paragraph = ("Putin did not meet the speaker of the Iranian parliament during his visit to Moscow, and the "
                 "letter from the Supreme Leader was handed to someone else instead of the president; ") * 4
    assert 600 < len(paragraph) < 2000
    reply = TestClient(create_api(engine)).post("/api/ask", json={"question": paragraph + "who received it?"})
    assert reply.status_code == 200 and reply.json()["citations"]


def test_replaced_versions_are_let_go_not_held_open(engine):
    import os

    def held() -> list[str]:
        links = []
        for fd in os.listdir("/proc/self/fd"):
            try:
                links.append(os.readlink(f"/proc/self/fd/{fd}"))
            except OSError:
                continue
        store = str(engine.settings.store.store_dir.resolve())
        return [link for link in links if link.startswith(store) and link.endswith("(deleted)")]

    for round_ in range(3):
        engine.library.upload([(f"note{round_}.txt", f"The ferry note number {round_} about passengers.\n".encode())])
        engine.ask("How many passengers?")
        engine.library.delete(f"note{round_}")
        engine.ask("How many passengers?")
    assert held() == []
