"""Bring your own documents: every format ingests to checkable text, uploads and deletes over REST
and the CLI change the index (and nothing else), filters narrow search and answers."""
from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import SEEDS, store_snapshot
from docfiles import GLACIER_MD, HARBOUR_HTML, LIGHTHOUSE_PDF, pdf_bytes, write_all, write_docx
from qa.engine import Engine
from qa.faces.api import create_api
from qa.settings import Settings
from qa.types import Filters

SEED_WITH_OUTLET = "001_fef7cdd3c9f4f1a3"  # Iran Times, 2021-02-26


def _engine(tmp_path: Path, **extra) -> Engine:
    return Engine(Settings(store_dir=tmp_path / "store", embedding_model="hash", **extra))


@pytest.fixture
def mixed(tmp_path):
    """Seeds plus one file of each format, ingested."""
    folder = write_all(tmp_path / "mine")
    for seed in SEEDS.glob("*.txt"):
        shutil.copy(seed, folder)
    engine = _engine(tmp_path)
    report = engine.ingest([folder])
    assert report.skipped == [] and report.added == 6
    return engine


def _verifies(engine: Engine, citations) -> bool:
    return all(engine.library.document(c.doc_id).text[c.start:c.end] == c.quote for c in citations)


def test_pdf_answers_cite_their_page(mixed):
    answer = mixed.ask("Who was the engineer who rebuilt the Halvorsen lighthouse?")
    cited = [c for c in answer.citations if "Brekke" in c.quote]
    assert cited and cited[0].doc_id == "lighthouse" and cited[0].page == 2
    assert answer.to_json()["citations"][0]["page"] in (1, 2)
    assert _verifies(mixed, answer.citations)
    doc = mixed.library.document("lighthouse")
    assert doc.origin == "pdf" and len(doc.pages) == 2 and doc.date == "2019-03-03"
    assert "Halvorsen lighthouse stands" in doc.text[:doc.pages[1]]


def test_docx_and_markdown_become_plain_text_with_exact_offsets(mixed):
    ferry = mixed.library.document("ferry")
    assert ferry.origin == "docx" and "340 passengers" in ferry.text and ferry.date == "2022-06-14"
    glacier = mixed.library.document("glacier")
    assert glacier.origin == "markdown"
    assert "#" not in glacier.text and "**" not in glacier.text and "](" not in glacier.text
    assert "The Nordbreen research station reopened after three years of repairs." in glacier.text
    answer = mixed.ask("Who is the new director of the Nordbreen station?")
    assert any("Ingrid Valen" in c.quote for c in answer.citations) and _verifies(mixed, answer.citations)


def test_news_html_keeps_the_article_and_its_metadata_only(mixed):
    harbour = mixed.library.document("harbour")
    assert harbour.outlet == "Coast Daily" and harbour.date == "2023-05-09" and harbour.title == "Harbour fees rise"
    assert "breakwater" in harbour.text
    for boilerplate in ("Subscribe", "Cookie settings", "Contact us", "Sports | Weather"):
        assert boilerplate not in harbour.text


def test_unsupported_and_corrupt_files_are_skipped_with_their_reason(tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "good.txt").write_text("The Vardo bridge opened in 1999 after six years of work.", encoding="utf-8")
    (folder / "bad.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (folder / "broken.docx").write_bytes(b"PK\x03\x04 not a zip")
    (folder / "sheet.xlsx").write_bytes(b"whatever")
    report = _engine(tmp_path).ingest([folder])
    reasons = {Path(p).name: r for p, r in report.skipped}
    assert report.added == 1
    assert "PDF" in reasons["bad.pdf"] and "DOCX" in reasons["broken.docx"]
    assert "unsupported file type '.xlsx'" in reasons["sheet.xlsx"]


# -- REST -------------------------------------------------------------------------------------

@pytest.fixture
def api(tmp_path):
    engine = _engine(tmp_path)
    engine.ingest([SEEDS])
    with TestClient(create_api(engine)) as client:
        client.engine = engine
        yield client


def _upload(client, name: str, data: bytes, ctype="application/octet-stream", **kw):
    return client.post("/api/documents", files=[("file", (name, data, ctype))], **kw)


def test_upload_list_ask_and_delete_a_pdf(api):
    response = _upload(api, "lighthouse.pdf", pdf_bytes(LIGHTHOUSE_PDF), "application/pdf")
    assert response.status_code == 201, response.text
    assert response.json()["added"] == 1
    listed = api.get("/api/documents").json()
    assert listed["total"] == 3 and "lighthouse" in [d["doc_id"] for d in listed["documents"]]
    entry = next(d for d in listed["documents"] if d["doc_id"] == "lighthouse")
    assert entry["chunks"] >= 1 and set(entry) == {"doc_id", "title", "outlet", "date", "source", "chunks"}
    answer = api.post("/api/ask", json={"question": "Who rebuilt the Halvorsen lighthouse?", "history": []}).json()
    cited = [c for c in answer["citations"] if "Brekke" in c["quote"]]
    assert cited and cited[0]["page"] == 2
    text = api.get("/api/documents/lighthouse").json()["text"]
    assert text[cited[0]["start"]:cited[0]["end"]] == cited[0]["quote"]
    deleted = api.delete("/api/documents/lighthouse")
    assert deleted.status_code == 200 and deleted.json()["deleted"] == "lighthouse"
    results = api.get("/api/search", params={"q": "Halvorsen lighthouse Brekke", "k": 10}).json()["results"]
    assert all(r["doc_id"] != "lighthouse" for r in results)
    assert api.delete("/api/documents/lighthouse").status_code == 404
    assert not list(api.engine.library.uploads_dir.glob("lighthouse*"))


def test_several_files_in_one_upload(api):
    docx_path = write_docx(Path(api.engine.settings.store.store_dir).parent / "ferry.docx",
                           ["The Tindra ferry carries 340 passengers."])
    response = api.post("/api/documents", files=[
        ("file", ("glacier.md", GLACIER_MD.encode(), "text/markdown")),
        ("file", ("harbour.html", HARBOUR_HTML.encode(), "text/html")),
        ("file", ("ferry.docx", io.BytesIO(docx_path.read_bytes()), "application/octet-stream"))])
    assert response.status_code == 201 and response.json()["added"] == 3
    assert api.get("/api/documents").json()["total"] == 5


@pytest.mark.parametrize("name,data,status", [
    ("broken.pdf", b"%PDF-1.4 this is not really a pdf", 422),
    ("notes.xlsx", b"anything", 415),
    ("empty.txt", b"   \n", 422),
    ("001_fef7cdd3c9f4f1a3.txt", b"An upload may not replace a seed article that has this id.", 409),
    ("..", b"A name with nothing left after cleaning.", 422),
])
def test_bad_uploads_are_refused_and_change_nothing(api, name, data, status):
    store = api.engine.settings.store.store_dir
    before = {k: v for k, v in store_snapshot(store).items() if not k.startswith("uploads/")}
    response = _upload(api, name, data)
    assert response.status_code == status, response.text
    assert response.json()["detail"] and "Traceback" not in response.text
    assert {k: v for k, v in store_snapshot(store).items() if not k.startswith("uploads/")} == before
    assert not api.engine.library.uploads_dir.exists() or not any(api.engine.library.uploads_dir.iterdir())


def test_an_upload_over_the_limit_is_413(tmp_path):
    engine = _engine(tmp_path, max_upload_bytes=1000)
    engine.ingest([SEEDS])
    with TestClient(create_api(engine)) as client:
        response = _upload(client, "big.txt", b"The long article. " * 200)
    assert response.status_code == 413 and "limit" in response.json()["detail"]
    assert engine.stats()["documents"] == 2


def test_an_upload_named_with_a_path_keeps_only_its_name(api, tmp_path):
    response = _upload(api, "../../escape.txt",
                       b"Escape test. The Vardo bridge opened in 1999 after six years of work.")
    assert response.status_code == 201
    ids = [d["doc_id"] for d in api.get("/api/documents").json()["documents"]]
    assert "escape" in ids and not any(".." in i or "/" in i for i in ids)
    assert (api.engine.library.uploads_dir / "escape.txt").exists()
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path.parent / "escape.txt").exists()


def test_uploads_need_the_api_key_when_one_is_set(tmp_path):
    engine = _engine(tmp_path, api_key="s3cret")
    engine.ingest([SEEDS])
    with TestClient(create_api(engine)) as client:
        assert _upload(client, "a.txt", b"A short article about the Vardo bridge.").status_code == 401
        assert client.delete(f"/api/documents/{SEED_WITH_OUTLET}").status_code == 401
        ok = _upload(client, "a.txt", b"A short article about the Vardo bridge.",
                     headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 201


# -- filters ----------------------------------------------------------------------------------

def test_search_filters_by_outlet_date_and_document(api):
    def ids(**params):
        response = api.get("/api/search", params={"q": "Putin", "k": 10, **params})
        assert response.status_code == 200, response.text
        return {r["doc_id"] for r in response.json()["results"]}

    assert len(ids()) == 2
    assert ids(outlet="Iran Times") == {SEED_WITH_OUTLET}
    assert ids(outlet="iran times") == {SEED_WITH_OUTLET}  # outlet names match without regard to case
    assert ids(date_from="2021-02-20", date_to="2021-03-01") == {SEED_WITH_OUTLET}  # undated one excluded
    assert ids(date_from="2030-01-01") == set()
    assert ids(doc_id="000_782ea98495621ebe") == {"000_782ea98495621ebe"}
    assert api.get("/api/search", params={"q": "Putin", "date_from": "2021-13-45"}).status_code == 422
    assert api.get("/api/search", params={"q": "Putin", "date_from": "yesterday"}).status_code == 422


def test_ask_filters_limit_the_citations(api):
    body = {"question": "Why didn't Putin meet Qalibaf?", "history": [],
            "filters": {"doc_ids": ["000_782ea98495621ebe"]}}
    answer = api.post("/api/ask", json=body).json()
    assert answer["citations"] and {c["doc_id"] for c in answer["citations"]} == {"000_782ea98495621ebe"}
    body["filters"] = {"date_from": "2030-01-01"}
    assert api.post("/api/ask", json=body).json()["abstained"] is True
    body["filters"] = {"date_from": "2021-03-01", "date_to": "2021-02-01"}
    assert api.post("/api/ask", json=body).status_code == 422
    body["filters"] = {"colour": "red"}
    assert api.post("/api/ask", json=body).status_code == 422


def test_engine_filter_keeps_results_when_few_chunks_pass(tmp_path):
    """A selective filter still fills k from the allowed documents (filtered inside the index)."""
    engine = _engine(tmp_path)
    engine.ingest([SEEDS])
    hits = engine.search("Qalibaf Putin Moscow", 5, Filters(doc_ids=(SEED_WITH_OUTLET,)))
    assert len(hits) == min(5, engine.store.count_chunks) or len(hits) == 4
    assert {h.doc_id for h in hits} == {SEED_WITH_OUTLET}


# -- CLI --------------------------------------------------------------------------------------

def test_cli_documents_delete_and_filters(hash_env, cli):
    assert cli("ingest", SEEDS).code == 0
    listed = cli("documents", "--json").json()
    assert listed["total"] == 2
    text = cli("documents").out
    assert SEED_WITH_OUTLET in text and "Iran Times" in text
    result = cli("search", "Putin", "--outlet", "Iran Times", "--json", "-k", "10").json()
    assert {r["doc_id"] for r in result["results"]} == {SEED_WITH_OUTLET}
    result = cli("ask", "Why didn't Putin meet Qalibaf?", "--since", "2030-01-01", "--json").json()
    assert result["abstained"]
    bad = cli("search", "Putin", "--since", "2021-02-30")
    assert bad.code == 2 and "YYYY-MM-DD" in bad.err and len(bad.err.strip().splitlines()) == 1
    assert cli("delete", "no-such-doc").code == 2
    deleted = cli("delete", SEED_WITH_OUTLET)
    assert deleted.code == 0 and "1 documents" in deleted.out
    assert cli("documents", "--json").json()["total"] == 1


def test_docs_page_loads_nothing_from_other_hosts(api):
    import re

    html = api.get("/docs").text
    assets = re.findall(r"(?:src|href)=[\"']([^\"']+)", html)
    assert assets and all(a.startswith("/") for a in assets)
    for asset in assets:
        assert api.get(asset).status_code == 200


def test_docx_title_is_its_title_property_or_title_line(tmp_path):
    """A Word file is listed under its own title: the title property, else its Title-styled line,
    never its first sentence of body text."""
    import docx

    from qa.ingest.readers import Limits, read_docx

    with_property = docx.Document()
    with_property.core_properties.title = "Harbour Reopening Plan"
    with_property.add_paragraph("The harbour will reopen in May after repairs.")
    styled = docx.Document()
    styled.add_paragraph("Harbour plan", style="Title")
    styled.add_paragraph("The harbour will reopen in May after repairs.")
    titles = []
    for document in (with_property, styled):
        buffer = io.BytesIO()
        document.save(buffer)
        titles.append(read_docx(buffer.getvalue(), Limits()).meta.get("title"))
    assert titles == ["Harbour Reopening Plan", "Harbour plan"]
