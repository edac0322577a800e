"""The LangChain retriever (the [langchain] extra): passages as LangChain Documents whose
metadata is enough to check them against the source, in process and over REST."""
import pytest
from fastapi.testclient import TestClient
from langchain_core.documents import Document

from conftest import SEEDS
from qa.engine import Engine
from qa.faces.server import build_app
from qa.integrations.langchain import CorpusRetriever
from qa.settings import Settings


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    engine = Engine(Settings(store_dir=tmp_path_factory.mktemp("lc") / "store", embedding_model="hash"))
    engine.ingest([SEEDS])
    return engine


def _verifiable(docs: list[Document]) -> None:
    assert docs and all(isinstance(d, Document) for d in docs)
    for d in docs:
        meta = d.metadata
        text = SEEDS.joinpath(meta["doc_id"] + ".txt").read_text(encoding="utf-8")
        assert text[meta["start"]:meta["end"]] == d.page_content  # exactly the source's characters
        assert meta["title"] and isinstance(meta["score"], float) and "outlet" in meta and "date" in meta


def test_in_process_retriever_returns_verifiable_documents(engine):
    docs = CorpusRetriever.from_engine(engine, k=3).invoke("Who received the letter instead of Putin?")
    assert len(docs) == 3 and "Volodin" in " ".join(d.page_content for d in docs)
    _verifiable(docs)
    assert any(d.metadata["date"] for d in docs)  # the dated seed article carries its date


def test_rest_retriever_matches_in_process_and_verifies(engine):
    client = TestClient(build_app(engine.settings, engine))
    question = "Why didn't Putin meet Qalibaf?"
    over_rest = CorpusRetriever.from_api("http://testserver", k=3, client=client).invoke(question)
    in_process = CorpusRetriever.from_engine(engine, k=3).invoke(question)
    _verifiable(over_rest)
    assert [d.metadata for d in over_rest] == [d.metadata for d in in_process]
    verdict = client.post("/api/verify", json={"citations": [
        {"n": 1, "doc_id": d.metadata["doc_id"], "start": d.metadata["start"], "end": d.metadata["end"],
         "quote": d.page_content} for d in over_rest]}).json()
    assert verdict["all_valid"] is True
