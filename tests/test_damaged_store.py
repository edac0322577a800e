"""A store damaged file by file: every command says so in one line naming the repair, and the
repair (qa ingest --rebuild) works."""
from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from qa.store.generations import current_generation


def _files(store: Path) -> list[str]:
    generation = current_generation(store)
    names = [str(p.relative_to(store)) for p in sorted((store / generation).rglob("*")) if p.is_file()]
    return ["CURRENT", *names]


@pytest.fixture
def built(hash_env, corpus, cli) -> Path:
    assert cli("ingest", corpus).code == 0
    return hash_env


def _damage(path: Path, how: str) -> None:
    if how == "garbage":
        path.write_bytes(b"\x00garbage\xff" * 64)
    elif how == "empty":
        path.write_bytes(b"")
    else:
        path.unlink()


@pytest.mark.parametrize("how", ["garbage", "empty", "deleted"])
def test_every_file_damaged_in_turn_gives_one_line_and_rebuild_repairs(built, corpus, cli, tmp_path, how):
    pristine = tmp_path / "pristine"
    shutil.copytree(built, pristine)
    files = _files(built)
    assert {"CURRENT", "meta.sqlite", "index.faiss", "manifest.json", "sentences.npy", "bm25_ids.npy"} <= \
        {Path(f).name for f in files}
    for name in files:
        shutil.rmtree(built)
        shutil.copytree(pristine, built)
        _damage(built / name, how)
        for command in (("search", "Putin"), ("ask", "Why didn't Putin meet Qalibaf?")):
            result = cli(*command)
            assert result.code == 2, (name, how, command, result.err)
            assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err, (name, result.err)
            assert "qa ingest" in result.err, (name, how, result.err)
        assert cli("ingest", "--rebuild", corpus).code == 0, name
        assert cli("search", "Putin").code == 0, name


def test_plain_ingest_on_a_damaged_store_says_how_to_repair(built, corpus, cli):
    meta = built / current_generation(built) / "meta.sqlite"
    meta.write_bytes(b"not a database" * 100)
    result = cli("ingest", corpus)
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1
    assert "damaged" in result.err and "qa ingest --rebuild" in result.err


def test_a_document_whose_text_no_longer_matches_its_hash_is_reported(built, cli):
    assert cli("check").code == 0
    meta = built / current_generation(built) / "meta.sqlite"
    meta.chmod(0o644)
    with sqlite3.connect(meta) as db:
        db.execute("UPDATE documents SET text = text || ' tampered' WHERE doc_id = '001_fef7cdd3c9f4f1a3'")
    result = cli("check")
    assert result.code == 2
    assert "001_fef7cdd3c9f4f1a3" in result.err and "qa ingest --rebuild" in result.err
