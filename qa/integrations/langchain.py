"""A LangChain retriever over the corpus (`pip install corpus-qa[langchain]`).

    from qa.integrations.langchain import CorpusRetriever
    retriever = CorpusRetriever.from_engine(Engine(load_settings()))          # in process
    retriever = CorpusRetriever.from_api("http://127.0.0.1:7860", api_key=...)  # over REST
    docs = retriever.invoke("Why didn't Putin meet Qalibaf?")

Each `Document` is a retrieved passage: `page_content` is document_text[start:end] exactly, and its
metadata carries doc_id, start, end, title, source, outlet, date, rank and score, so a chain's
output can be checked against the source like any citation (POST /api/verify with doc_id, start,
end and the quote).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

FIELDS = ("doc_id", "start", "end", "title", "source", "outlet", "date", "rank", "score", "chunk_id")


class CorpusRetriever(BaseRetriever):
    """Passages of the corpus for a query, best first (hybrid search, as `qa search` and /api/search)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    search: Callable[[str, int], list[dict]]  # query, k -> docs/design.md's search results
    k: int = 5

    @classmethod
    def from_engine(cls, engine: Any, k: int = 5) -> CorpusRetriever:
        from qa.answering.base import passage_docs

        def search(query: str, k: int) -> list[dict]:
            hits = engine.search(query, k)
            docs = passage_docs(hits, engine.store, {h.doc_id for h in hits})
            return [{**h.to_json(), "outlet": docs[h.doc_id].outlet, "date": docs[h.doc_id].date} for h in hits]
        return cls(search=search, k=k)

    @classmethod
    def from_api(cls, base_url: str, api_key: str | None = None, k: int = 5, timeout: float = 30.0,
                 client: Any = None) -> CorpusRetriever:
        """Over the REST API at base_url; `client`: an httpx.Client of your own (proxies, transports)."""
        import httpx

        client = client or httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout)
        if api_key:
            client.headers["Authorization"] = f"Bearer {api_key}"
        fields: dict[str, dict] = {}  # outlet and date per document, fetched once

        def get(path: str, **kwargs) -> dict:
            response = client.request("POST" if "json" in kwargs else "GET", path, **kwargs)
            if response.status_code != 200:
                raise ValueError(f"{path}: {response.status_code} {response.json().get('detail')}")
            return response.json()

        def search(query: str, k: int) -> list[dict]:
            results = get("/api/search", json={"q": query, "k": k})["results"]
            for r in results:
                if r["doc_id"] not in fields:
                    doc = get(f"/api/documents/{quote(r['doc_id'], safe='')}")
                    fields[r["doc_id"]] = {"outlet": doc.get("outlet"), "date": doc.get("date")}
            return [{**r, **fields[r["doc_id"]]} for r in results]
        return cls(search=search, k=k)

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [Document(page_content=r["text"], metadata={f: r.get(f) for f in FIELDS if f in r})
                for r in self.search(query, self.k)]

