"""A watched folder stays in step with its files: a burst of 200 new files, a file rewritten while
it is read, a rename and a deletion; only what changed is embedded again."""
from __future__ import annotations

import threading
import time

import pytest

from qa.engine import Engine
from qa.ingest.watch import watch
from qa.settings import Settings


def _until(condition, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("the watched folder did not catch up")


@pytest.fixture
def watched(tmp_path):
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "first.txt").write_text("The Tindra ferry carries 340 passengers every day.\n", encoding="utf-8")
    engine = Engine(Settings(store_dir=tmp_path / "store", embedding_model="hash", short_answers=False))
    reports, stop = [], threading.Event()
    thread = threading.Thread(target=watch, args=(engine.ingest, [folder], stop, reports.append), daemon=True)
    thread.start()
    _until(lambda: reports)
    yield folder, engine, reports
    stop.set()
    thread.join(30)
    assert not thread.is_alive()


def _ids(engine: Engine) -> set[str]:
    return {d.doc_id for d in engine.store.documents(10_000)}


@pytest.mark.slow
def test_a_burst_of_200_files_an_edit_a_rename_and_a_deletion(watched):
    folder, engine, reports = watched
    assert _ids(engine) == {"first"}
    for i in range(200):
        (folder / f"burst-{i:03}.txt").write_text(f"Harbour bulletin {i}: berth {i} reopens on Monday.\n",
                                                  encoding="utf-8")
    _until(lambda: len(_ids(engine)) == 201)

    before = len(reports)
    (folder / "burst-007.txt").write_text("Harbour bulletin 7: berth 7 stays closed until June.\n", encoding="utf-8")
    _until(lambda: "stays closed" in engine.library.document("burst-007").text)
    edit = reports[-1]
    assert len(reports) > before and edit.updated == 1 and edit.embedded <= 2  # only that file, not the 200

    (folder / "burst-008.txt").rename(folder / "renamed.txt")
    _until(lambda: "renamed" in _ids(engine) and "burst-008" not in _ids(engine))

    (folder / "first.txt").unlink()
    _until(lambda: "first" not in _ids(engine))
    assert len(_ids(engine)) == 200
    assert engine.search("berth 7 stays closed", 1)[0].doc_id == "burst-007"


def test_a_file_rewritten_while_it_is_read_ends_as_its_last_write(watched):
    folder, engine, _ = watched
    path = folder / "growing.txt"
    with path.open("w", encoding="utf-8") as handle:
        for part in range(6):  # written in pieces, with pauses an ingest can fall between
            handle.write(f"Part {part} of the council report on the harbour budget. ")
            handle.flush()
            time.sleep(0.15)
        handle.write("The end.\n")
    final = path.read_text(encoding="utf-8")
    _until(lambda: "growing" in _ids(engine) and engine.library.document("growing").text == final)


def test_watching_something_that_is_not_a_folder_is_one_line(tmp_path, cli):
    result = cli("watch", tmp_path / "absent", "--store", tmp_path / "store")
    assert result.code != 0 and result.err.strip() == f"error: cannot watch {tmp_path / 'absent'}: not a folder"


def test_a_file_swapped_for_a_link_while_watched_is_never_read(watched, tmp_path, monkeypatch):
    """A new file becomes a link to a file outside the folder between discovery and reading (at
    the store write's first step): it is skipped, then and at every later ingest."""
    from qa.store import generations

    folder, engine, reports = watched
    secret = tmp_path / "outside.txt"
    secret.write_text("Private note\n\nThe vault code of the lighthouse keeper is zebra-4471.\n", encoding="utf-8")
    swapped = folder / "swapped.txt"

    def swap(step: str) -> None:
        if step == "after-copy" and swapped.is_file() and not swapped.is_symlink():
            swapped.unlink()
            swapped.symlink_to(secret)

    monkeypatch.setattr(generations, "STEP_OBSERVERS", [swap])
    swapped.write_text("The ferry timetable changes on Monday, the harbour council said.\n", encoding="utf-8")
    _until(lambda: any("swapped.txt" in path and "replaced" in reason for r in reports for path, reason in r.skipped))
    (folder / "later.txt").write_text("The Tindra ferry adds a night crossing in June.\n", encoding="utf-8")
    _until(lambda: "later" in _ids(engine))
    assert "swapped" not in _ids(engine)
    assert not any("zebra-4471" in h.text for h in engine.search("vault code lighthouse keeper zebra-4471", 5))


def test_the_servers_watcher_reports_its_first_ingest_like_the_later_ones(tmp_path, caplog):
    """`qa serve --watch`: the folder's state when the server starts is a log line, even when
    nothing changed, and so is each later change."""
    import logging

    from qa.faces.server import _watch

    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "first.txt").write_text("The Tindra ferry carries 340 passengers every day.\n", encoding="utf-8")
    engine = Engine(Settings(store_dir=tmp_path / "store", embedding_model="hash", short_answers=False))
    engine.ingest([folder])  # already indexed: the first ingest changes nothing, and still says so
    caplog.set_level(logging.INFO, logger="uvicorn.error")
    thread, stop = _watch(engine, [folder])
    try:
        _until(lambda: any("watch (first ingest)" in r.getMessage() for r in caplog.records), timeout=60)
        first = next(r.getMessage() for r in caplog.records if "first ingest" in r.getMessage())
        assert first.startswith("watch (first ingest): 0 added, 0 updated, 0 removed: 1 documents")
        (folder / "second.txt").write_text("The Tindra ferry was repainted in May.\n", encoding="utf-8")
        _until(lambda: any(r.getMessage().startswith("watch: 1 added") for r in caplog.records), timeout=60)
    finally:
        stop.set()
        thread.join(30)


def test_deleting_the_last_file_of_a_watched_folder_empties_its_documents(watched):
    """Before, the watcher said "no supported files ...; nothing changed" and the deleted document
    stayed searchable."""
    folder, engine, reports = watched
    assert _ids(engine) == {"first"}
    (folder / "first.txt").unlink()
    _until(lambda: any(r.removed for r in reports), timeout=60)
    assert _ids(engine) == set()
    assert engine.stats()["documents"] == 0
