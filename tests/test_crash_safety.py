"""Killing an ingest at any point leaves a store that answers as before or as after, never a mix."""
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qa.engine import Engine
from qa.errors import QAError
from qa.settings import Settings
from qa.store.local import LocalReader as Store

ROOT = Path(__file__).resolve().parent.parent


def _env(store: Path, **extra) -> dict:
    return {**os.environ, "QA_EMBEDDING_MODEL": "hash", "QA_STORE_DIR": str(store), **extra}


def _ingest(folder: Path, store: Path, kill_at: str | None = None) -> subprocess.CompletedProcess:
    command = [*_qa("kill", kill_at), "ingest", str(folder)]
    return subprocess.run(command, cwd=ROOT, env=_env(store), capture_output=True, text=True, timeout=120)


def _qa(action: str, step: str | None) -> list[str]:
    """The qa command, killed or paused at a step of its store write (tests/crash_at.py) when given."""
    if step is None:
        return [sys.executable, "-m", "qa"]
    return [sys.executable, str(ROOT / "tests" / "crash_at.py"), action, step]


def _state(store: Path) -> tuple:
    """What a user sees: the documents and the answer to a fixed search."""
    engine = Engine(Settings(store_dir=store, embedding_model="hash"))
    docs = tuple(d.doc_id for d in engine.store.documents())
    hits = tuple((h.doc_id, h.start, h.end) for h in engine.search("Volodin quarantine Moscow letter", 5))
    return docs, hits


@pytest.fixture
def before_and_after(corpus, tmp_path):
    """A store at state 'before', and the state the second ingest would reach."""
    store = tmp_path / "store"
    assert _ingest(corpus, store).returncode == 0
    before = _state(store)
    (corpus / "000_782ea98495621ebe.txt").unlink()
    (corpus / "extra.txt").write_text("Volodin met the delegation in Moscow after quarantine.\n" * 5)
    reference = tmp_path / "reference"
    assert _ingest(corpus, reference).returncode == 0
    after = _state(reference)
    assert before != after
    return corpus, store, before, after


@pytest.mark.parametrize("point", ["after-copy", "after-embed", "before-publish", "after-publish"])
def test_sigkill_at_each_stage(before_and_after, point):
    corpus, store, before, after = before_and_after
    killed = _ingest(corpus, store, kill_at=point)
    assert killed.returncode == -signal.SIGKILL
    assert _state(store) == (after if point == "after-publish" else before)
    rerun = _ingest(corpus, store)
    assert rerun.returncode == 0, rerun.stderr
    assert _state(store) == after
    assert not [p for p in store.iterdir() if p.name.startswith("staging-")], "leftovers are cleaned up"


def test_sigkill_at_random_times(before_and_after):
    corpus, store, before, after = before_and_after
    rng = random.Random(7)
    for _ in range(6):
        process = subprocess.Popen([sys.executable, "-m", "qa", "ingest", str(corpus)], cwd=ROOT,
                                   env=_env(store), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 3.0))
        process.kill()
        process.wait()
        assert _state(store) in (before, after)
        Store.open(store, "hash").check_consistency()
    assert _ingest(corpus, store).returncode == 0 and _state(store) == after


def test_two_ingests_at_once_one_waits_its_turn_or_is_refused(corpus, tmp_path):
    store = tmp_path / "store"
    slow = subprocess.Popen([*_qa("pause", "after-copy"), "ingest", str(corpus)], cwd=ROOT,
                            env=_env(store), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (store / ".lock").exists() or "pid" not in (store / ".lock").read_text():
        assert time.monotonic() < deadline and slow.poll() is None
        time.sleep(0.1)
    second = _ingest(corpus, store)
    assert second.returncode == 2 and "is being written by pid" in second.stderr
    assert len(second.stderr.strip().splitlines()) == 1
    slow.send_signal(signal.SIGCONT)
    out, err = slow.communicate(timeout=60)
    assert slow.returncode == 0, err
    assert _state(store)[0] == ("000_782ea98495621ebe", "001_fef7cdd3c9f4f1a3")


def test_disk_full_is_a_clear_error_and_the_old_store_stays(corpus, tmp_path, monkeypatch):
    store = tmp_path / "store"
    engine = Engine(Settings(store_dir=store, embedding_model="hash"))
    engine.ingest([corpus])
    before = _state(store)
    (corpus / "new.txt").write_text("A new article about the Duma.\n")

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    import faiss

    monkeypatch.setattr(faiss, "write_index", full)
    with pytest.raises(QAError, match="No space left on device.*previous index is unchanged"):
        engine.ingest([corpus])
    assert _state(store) == before
    assert not [p for p in store.iterdir() if p.name.startswith("staging-")]


def test_read_only_store_folder(corpus, tmp_path):
    store = tmp_path / "store"
    Engine(Settings(store_dir=store, embedding_model="hash")).ingest([corpus])
    before = _state(store)
    (corpus / "new.txt").write_text("Another article.\n")
    # a real read-only filesystem (chmod does not stop root): a read-only bind mount where possible
    mounted = subprocess.run(["mount", "--bind", "-o", "ro", str(store), str(store)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot make a read-only mount here")
    try:
        result = _ingest(corpus, store)
        assert result.returncode == 2 and "cannot write" in result.stderr
        assert "Traceback" not in result.stderr
        assert _state(store) == before
    finally:
        subprocess.run(["umount", "-l", str(store)])  # lazy: open sqlite handles must not keep it
