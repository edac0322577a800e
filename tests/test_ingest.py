"""Incremental ingestion into a store, with the tiny embedder."""
import sqlite3

import pytest

from qa.engine import Engine
from qa.errors import InputError, StoreLockedError, StoreMismatchError, StoreMissingError
from qa.settings import Settings
from qa.store.generations import current_generation, store_lock
from qa.store.local import LocalReader as Store


def _engine(store, model="hash", **extra) -> Engine:
    return Engine(Settings(store_dir=store, embedding_model=model, **extra))


def test_first_ingest_then_nothing_to_do(corpus, tmp_path):
    engine = _engine(tmp_path / "s")
    first = engine.ingest([corpus])
    assert (first.added, first.documents, first.embedded) == (2, 2, first.chunks)
    again = engine.ingest([corpus])
    assert (again.added, again.unchanged, again.embedded, again.generation) == (0, 2, 0, first.generation)


def test_changed_file_replaces_its_chunks_and_reuses_unchanged_text(corpus, tmp_path):
    engine = _engine(tmp_path / "s")
    engine.ingest([corpus])
    path = corpus / "001_fef7cdd3c9f4f1a3.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\nA brand new closing sentence about Volodin.\n",
                    encoding="utf-8")
    report = engine.ingest([corpus])
    assert (report.updated, report.unchanged) == (1, 1)
    assert 0 < report.embedded < report.chunks and report.reused > 0
    doc = engine.library.document("001_fef7cdd3c9f4f1a3")
    assert doc.text.endswith("about Volodin.\n")
    hits = engine.search("brand new closing sentence", k=1)
    assert hits[0].doc_id == "001_fef7cdd3c9f4f1a3" and "brand new" in hits[0].text


def test_deleted_file_is_removed(corpus, tmp_path):
    engine = _engine(tmp_path / "s")
    engine.ingest([corpus])
    (corpus / "000_782ea98495621ebe.txt").unlink()
    report = engine.ingest([corpus])
    assert (report.removed, report.documents) == (1, 1)
    assert {h.doc_id for h in engine.search("Qalibaf Khamenei", k=10)} == {"001_fef7cdd3c9f4f1a3"}


def test_bad_files_are_skipped_with_their_names(corpus, tmp_path):
    (corpus / "image.txt").write_bytes(b"\x89PNG\x00\x00\x01")
    (corpus / "empty.md").write_text("")
    (corpus / "latin1.txt").write_bytes(b"caf\xe9")
    report = _engine(tmp_path / "s").ingest([corpus])
    assert report.added == 2
    assert {p.rsplit("/", 1)[-1] for p, _ in report.skipped} == {"image.txt", "empty.md", "latin1.txt"}


def test_html_documents_are_ingested_as_visible_text(tmp_path):
    folder = tmp_path / "web"
    folder.mkdir()
    (folder / "page.html").write_text("<html><head><script>var secret=1;</script></head><body>"
                                      "<h1>Harbour reopens after storm</h1><p>The harbour reopened on Monday.</p>"
                                      "</body></html>")
    engine = _engine(tmp_path / "s")
    engine.ingest([folder])
    doc = engine.library.document("page")
    assert doc.title == "Harbour reopens after storm" and "secret" not in doc.text


def test_empty_folder_is_an_error_and_creates_nothing(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no supported files"):
        _engine(tmp_path / "s").ingest([tmp_path / "empty"])
    assert current_generation(tmp_path / "s") is None


def test_store_from_another_model_is_refused(corpus, tmp_path):
    _engine(tmp_path / "s").ingest([corpus])
    with pytest.raises(StoreMismatchError, match="built with embedding model 'hash'"):
        Store.open(tmp_path / "s", model="all-MiniLM-L6-v2")


def test_missing_store_names_the_command_that_builds_it(tmp_path):
    with pytest.raises(StoreMissingError, match="qa ingest"):
        _engine(tmp_path / "nothing").search("anything")


def test_a_second_writer_is_refused(corpus, tmp_path):
    store = tmp_path / "s"
    with store_lock(store):
        with pytest.raises(StoreLockedError, match="being written"):
            _engine(store).ingest([corpus])


def test_inconsistent_store_is_detected(corpus, tmp_path):
    store = tmp_path / "s"
    _engine(store).ingest([corpus])
    generation = store / current_generation(store)
    with sqlite3.connect(generation / "meta.sqlite") as db:
        db.execute("DELETE FROM chunks WHERE id = (SELECT MAX(id) FROM chunks)")
    with pytest.raises(StoreMismatchError, match="inconsistent.*--rebuild"):
        Store.open(store, model="hash")


def test_chunking_change_rechunks_everything(corpus, tmp_path):
    store = tmp_path / "s"
    before = _engine(store).ingest([corpus])
    after = _engine(store, chunk_tokens=80, chunk_overlap=10).ingest([corpus])
    assert after.updated == 2 and after.chunks > before.chunks
    assert Store.open(store, "hash").manifest.chunk_tokens == 80


def test_server_picks_up_a_new_generation(corpus, tmp_path):
    reader = _engine(tmp_path / "s")
    reader.ingest([corpus])
    assert reader.stats()["documents"] == 2
    extra = tmp_path / "more"
    extra.mkdir()
    (extra / "note.txt").write_text("Volodin chairs the State Duma of Russia.\n")
    _engine(tmp_path / "s").ingest([extra])  # another process, in effect
    assert reader.stats()["documents"] == 3


def test_large_store_switches_to_ivf_and_stays_editable(tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(120):
        (folder / f"doc{i:03d}.txt").write_text(f"Article {i} about topic{i % 7} and city{i % 11}. "
                                                f"It mentions keyword{i} twice: keyword{i}.\n")
    engine = _engine(tmp_path / "s", exact_search_max=50)
    engine.ingest([folder])
    manifest = engine.store.manifest
    assert manifest.index is not None and manifest.index.startswith("IndexIVFScalarQuantizer")
    assert engine.search("keyword42", k=1)[0].doc_id == "doc042"
    (folder / "doc042.txt").write_text("Rewritten article about harbours.\n")
    (folder / "doc007.txt").unlink()
    report = engine.ingest([folder])
    assert (report.updated, report.removed) == (1, 1)
    store = Store.open(tmp_path / "s", "hash")  # consistency checked on open
    assert store.count_chunks == 119 and engine.search("Rewritten harbours", k=1)[0].doc_id == "doc042"


def _swap_for_link_at(step: str, file, target, monkeypatch) -> None:
    """When the store write announces `step` (after discovery and hashing, before the files are
    read again), `file` becomes a link to `target`, as an attacker could swap it."""
    from qa.store import generations

    def swap(name: str) -> None:
        if name == step and file.is_file() and not file.is_symlink():
            file.unlink()
            file.symlink_to(target)

    monkeypatch.setattr(generations, "STEP_OBSERVERS", [swap])


def test_a_file_swapped_for_a_link_after_it_was_found_is_not_read(corpus, tmp_path, hash_env, cli, monkeypatch):
    secret = tmp_path / "outside" / "private.txt"
    secret.parent.mkdir()
    secret.write_text("Private note\n\nThe vault code of the lighthouse keeper is zebra-4471.\n")
    (corpus / "late.txt").write_text("The harbour council met on Monday about the ferry timetable.\n" * 3)
    _swap_for_link_at("after-copy", corpus / "late.txt", secret, monkeypatch)
    store = tmp_path / "store"
    result = cli("ingest", corpus, "--store", store, "--json")
    assert result.code == 0, result.err
    assert any(s["path"].endswith("late.txt") and "replaced" in s["reason"] for s in result.json()["skipped"])
    engine = _engine(store)
    assert "late" not in {d.doc_id for d in engine.store.documents()}
    assert not any("zebra-4471" in h.text for h in engine.search("vault code lighthouse keeper zebra-4471", 5))


def test_ingesting_the_parent_of_an_ingested_folder_keeps_its_documents_and_their_ids(corpus, tmp_path):
    """One document, one id (issue 46): `qa ingest news/sub` then `qa ingest news` finds sub's files
    again as "sub/..."; they are the documents already held, not new copies under new ids."""
    parent = tmp_path / "news"
    sub = parent / "sub"
    parent.mkdir()
    corpus.rename(sub)
    (parent / "bridge.txt").write_text("The Vardo bridge opened in 1999 after six years of work.\n", encoding="utf-8")
    engine = _engine(tmp_path / "s")
    engine.ingest([sub])
    before = sorted(d.doc_id for d in engine.library.documents()[1])
    assert before == ["000_782ea98495621ebe", "001_fef7cdd3c9f4f1a3"]

    report = engine.ingest([parent])
    assert (report.added, report.unchanged, report.documents) == (1, 2, 3)
    assert sorted(d.doc_id for d in engine.library.documents()[1]) == [
        "000_782ea98495621ebe", "001_fef7cdd3c9f4f1a3", "bridge"]
    assert {h.doc_id for h in engine.search("Qalibaf Khamenei", k=10)} <= set(before)
    assert engine.ingest([parent]).unchanged == 3  # and again: nothing to do

    path = sub / "001_fef7cdd3c9f4f1a3.txt"  # a change under the parent updates the document in place
    path.write_text(path.read_text(encoding="utf-8") + "\nA closing sentence about Volodin.\n", encoding="utf-8")
    assert engine.ingest([parent]).updated == 1
    assert engine.library.document("001_fef7cdd3c9f4f1a3").text[-9:] == "Volodin.\n"
    (sub / "000_782ea98495621ebe.txt").unlink()  # and a file deleted under it is removed
    report = engine.ingest([parent])
    assert (report.removed, report.documents) == (1, 2)
    for path in [*sub.iterdir(), parent / "bridge.txt"]:  # the parent emptied: all of it goes
        path.unlink()
    assert engine.ingest([parent]).documents == 0
