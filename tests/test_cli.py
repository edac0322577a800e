"""The `qa` command as a user runs it: output contracts, exit codes, and bad input."""
import json
from pathlib import Path

import pytest

from conftest import store_snapshot


@pytest.fixture
def built(hash_env, corpus, cli):
    result = cli("ingest", corpus)
    assert result.code == 0, result.err
    return hash_env


def test_ingest_prints_a_summary(hash_env, corpus, cli):
    first = cli("ingest", corpus)
    assert first.code == 0 and "2 added, 0 updated, 0 unchanged, 0 removed" in first.out
    second = cli("ingest", corpus, "--json")
    report = second.json()
    assert (report["unchanged"], report["embedded"]) == (2, 0)


def test_search_json_contract(built, cli):
    result = cli("search", "Volodin adviser", "-k", "3", "--json")
    data = result.json()
    assert data["query"] == "Volodin adviser" and len(data["results"]) == 3
    first = data["results"][0]
    assert set(first) == {"rank", "chunk_id", "doc_id", "title", "source", "start", "end", "text", "score",
                          "outlet", "date", "also_reported_by"}
    assert first["rank"] == 1 and "Volodin" in first["text"]
    assert [r["score"] for r in data["results"]] == sorted((r["score"] for r in data["results"]), reverse=True)


def test_search_batch_keeps_input_order(built, cli, tmp_path):
    batch = tmp_path / "q.jsonl"
    batch.write_text('{"query": "quarantine dacha", "k": 2}\n{"query": "Tavangar Twitter", "k": 1}\n')
    lines = cli("search", "--batch", batch).json_lines()
    assert [d["query"] for d in lines] == ["quarantine dacha", "Tavangar Twitter"]
    assert [len(d["results"]) for d in lines] == [2, 1]


def test_ask_json_then_verify_passes(built, cli, tmp_path):
    answer = cli("ask", "What did Qalibaf tweet after his visit to Moscow?", "--json").json()
    assert set(answer) >= {"question", "answer", "abstained", "citations"}
    assert answer["citations"] and "[1]" in answer["answer"]
    saved = tmp_path / "answer.json"
    saved.write_text(json.dumps(answer))
    verified = cli("verify", saved, "--json")
    assert verified.code == 0 and verified.json()["all_valid"] is True


def test_verify_reports_where_a_misplaced_quote_really_is(built, cli):
    quote = "Putin is a notable germo-phobe."
    bad = {"citations": [{"n": 1, "doc_id": "001_fef7cdd3c9f4f1a3", "start": 0, "end": len(quote), "quote": quote}]}
    result = cli("verify", "-", "--json", stdin=json.dumps(bad))
    verdict = result.json()["citations"][0]
    assert result.code == 1 and verdict["valid"] is False
    assert "appears exactly in 001_fef7cdd3c9f4f1a3" in verdict["reason"]
    doc = cli("show", "001_fef7cdd3c9f4f1a3", "--json").json()["text"]
    found = verdict["found_at"]
    assert doc[found["start"]:found["end"]] == quote


def test_verify_approximate_quote(built, cli):
    bad = {"citations": [{"n": 1, "doc_id": "001_fef7cdd3c9f4f1a3", "quote": "Putin is a notable germophobe"}]}
    verdict = cli("verify", "-", "--json", stdin=json.dumps(bad)).json()["citations"][0]
    assert verdict["valid"] is False and verdict["found_at"]["exact"] is False
    assert verdict["found_at"]["similarity"] >= 80


def test_show_marks_the_span(built, cli):
    result = cli("show", "001_fef7cdd3c9f4f1a3", "--start", "0", "--end", "10")
    assert "⟦Iran Times⟧" in result.out


def test_ask_batch_with_history(built, cli, tmp_path):
    batch = tmp_path / "a.jsonl"
    batch.write_text(json.dumps({"question": "Why did he go to Moscow?",
                                 "history": [{"role": "user", "content": "Who is Qalibaf?"}]}) + "\n")
    (result,) = cli("ask", "--batch", batch).json_lines()
    assert result["condensed_question"] == "Why did Qalibaf go to Moscow?"


@pytest.mark.parametrize("args, message", [
    (["ask", ""], "question is empty"),
    (["ask", "   "], "question is empty"),
    (["ask", "x" * 10_000], "10,000 characters"),
    (["search", "Putin", "-k", "0"], "k must be"),
    (["search", "Putin", "-k", "51"], "k must be"),
    (["show", "no-such-doc"], "no document"),
    (["show", "001_fef7cdd3c9f4f1a3", "--start", "5"], "--start and --end"),
    (["verify", "-"], "not JSON"),
    (["ingest", "/no/such/folder"], "no such file or folder"),
])
def test_bad_input_is_one_line_exit_2_and_changes_nothing(built, cli, args, message):
    before = store_snapshot(built)
    result = cli(*args, stdin="")
    assert result.code == 2
    assert message in result.err and len(result.err.strip().splitlines()) == 1
    assert "Traceback" not in result.err + result.out
    assert store_snapshot(built) == before


def test_empty_folder_and_binary_only_folder(hash_env, cli, tmp_path):
    (tmp_path / "empty").mkdir()
    binary = tmp_path / "binary"
    binary.mkdir()
    (binary / "x.txt").write_bytes(b"\x00\x01\x02")
    for folder, message in ((tmp_path / "empty", "no supported files (.docx, .htm, .html, .markdown, .md, .pdf, .txt)"),
                            (binary, "no readable documents")):
        result = cli("ingest", folder)
        assert result.code == 2 and message in result.err
    assert store_snapshot(hash_env) == {}


def test_missing_store(hash_env, cli):
    result = cli("search", "Putin")
    assert result.code == 2 and "qa ingest" in result.err


def test_store_from_another_model(built, cli, monkeypatch):
    before = store_snapshot(built)
    monkeypatch.setenv("QA_EMBEDDING_MODEL", "all-MiniLM-L6-v2")
    result = cli("search", "Putin")
    assert result.code == 2 and "built with embedding model 'hash'" in result.err
    assert store_snapshot(built) == before


def test_bad_batch_line_runs_nothing(built, cli, tmp_path):
    batch = tmp_path / "b.jsonl"
    batch.write_text('{"question": "Who is Qalibaf?"}\nnot json\n')
    result = cli("ask", "--batch", batch)
    assert result.code == 2 and "b.jsonl:2" in result.err and result.out == ""


def test_invalid_setting_from_environment(hash_env, cli, monkeypatch):
    monkeypatch.setenv("QA_CHUNK_TOKENS", "3")
    result = cli("search", "x")
    assert result.code == 2 and "chunk_tokens" in result.err


@pytest.mark.parametrize("command", ["ingest", "search", "ask", "chat", "verify", "show", "check", "serve"])
def test_every_command_refuses_an_unknown_option_in_one_line(hash_env, cli, command):
    result = cli(command, "--no-such-option", "x")
    assert result.code == 2
    assert result.err.strip().count("\n") == 0 and "No such option" in result.err and "Traceback" not in result.err


def test_an_unknown_command_is_one_line(hash_env, cli):
    result = cli("nosuchcommand")
    assert result.code == 2 and "No such command" in result.err and result.err.strip().count("\n") == 0


def test_a_document_has_one_json_shape_in_every_face(hash_env, cli):
    from fastapi.testclient import TestClient

    from qa.engine import Engine
    from qa.faces.api import create_api
    from qa.settings import Settings

    assert cli("ingest", "seeds").code == 0
    shown = cli("show", "001_fef7cdd3c9f4f1a3", "--json").json()
    rest = TestClient(create_api(Engine(Settings()))).get("/api/documents/001_fef7cdd3c9f4f1a3").json()
    assert shown == rest and {"doc_id", "title", "source", "text", "outlet", "date", "origin", "pages"} == set(rest)


def test_a_reader_whose_weights_are_not_built_is_one_line_naming_the_command(hash_env, cli, monkeypatch, tmp_path):
    """A checkout whose model files are missing (a partial copy, a custom build) says how to build them."""
    import shutil

    from qa.answering import reader

    assert cli("ingest", "seeds").code == 0
    partial = tmp_path / "models"
    partial.mkdir()
    shutil.copy(reader.MODELS / "reader-news.json", partial)  # the card without its weights
    monkeypatch.setattr(reader, "MODELS", partial)
    monkeypatch.setenv("QA_READER", "news-reader")
    result = cli("ask", "Who received the letter instead?")
    assert result.code != 0 and "python -m bench.train_reader --news" in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_serve_on_a_busy_port_says_so_in_one_line_before_anything_else(built, cli):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("serve", "--port", port, "--store", built, "--no-ingest")
    assert result.code != 0
    assert result.err.strip() == f"error: port {port} is in use: set QA_PORT or --port"
    assert "serving" not in result.err + result.out


@pytest.mark.parametrize("module,args,extra", [
    ("psycopg", ["search", "Qalibaf", "--store-url", "postgresql://qa@localhost/qa"], "postgres"),
    ("ray", ["ingest", "seeds", "--ray-address", "local"], "ray"),
])
def test_an_optional_part_without_its_extra_is_one_line_naming_it(cli, monkeypatch, tmp_path, module, args, extra):
    """A `make serve` install has no PostgreSQL driver and no Ray: using them says which extra to
    install, in one line, never a traceback."""
    import sys

    for name in [m for m in sys.modules if m == module or m.startswith(module + ".")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, module, None)  # `import module` now fails as when it is not installed
    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    result = cli(*args, "--store", str(tmp_path / "store")) if "--store-url" not in args else cli(*args)
    assert result.code == 2 and "Traceback" not in result.err
    assert result.err.count("\n") == 1 and f"pip install 'corpus-qa[{extra}]'" in result.err, result.err
