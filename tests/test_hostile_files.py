"""A corpus of hostile files: each is ingested correctly or skipped with a warning; the run finishes."""
import codecs
import os

import pytest

from qa.engine import Engine
from qa.settings import Settings


@pytest.fixture
def hostile(tmp_path):
    root = tmp_path / "hostile"
    root.mkdir()
    (root / "good.txt").write_text("Volodin chairs the State Duma. He met Qalibaf in Moscow.\n", encoding="utf-8")
    (root / "bad-utf8.txt").write_bytes(b"Caf\xe9 society \xff\xfe broken")
    (root / "utf16.txt").write_bytes(codecs.BOM_UTF16_LE + "Die Zeitung berichtet über Moskau.\n".encode("utf-16-le"))
    (root / "zeros.txt").write_bytes(b"\x00" * 4096)
    with open(root / "huge.txt", "wb") as handle:  # 2 GB sparse: must be refused by size, not read
        handle.truncate(2 * 1024 ** 3)
    deep = root
    for level in range(60):
        deep = deep / f"d{level}"
    deep.mkdir(parents=True)
    (deep / "deep.md").write_text("# Deep article\n\nFound at the bottom of sixty folders.\n")
    (root / "loop").symlink_to(root, target_is_directory=True)
    (root / "loop-a.txt").symlink_to(root / "loop-b.txt")
    (root / "loop-b.txt").symlink_to(root / "loop-a.txt")
    outside = tmp_path / "secret.txt"
    outside.write_text("root:x:0:0 secret outside the corpus\n")
    (root / "escape.txt").symlink_to(outside)
    (root / "new\nline.txt").write_text("A file whose name has a newline.\n")
    (root / "ünïcödé – 新闻.md").write_text("Unicode name, unicode text: 新闻 über alles.\n")
    (root / "page.html").write_text("<html><body><script>document.write('owned')</script>"
                                    "<h1>Scripted page</h1><p onclick='x()'>Visible text only.</p></body></html>")
    (root / "notes.pdf").write_bytes(b"%PDF-1.4")  # unsupported suffix: not even considered
    return root, outside


def test_hostile_corpus(hostile, tmp_path):
    root, outside = hostile
    engine = Engine(Settings(store_dir=tmp_path / "store", embedding_model="hash", max_file_bytes=10_000_000))
    report = engine.ingest([root])
    reasons = {os.path.basename(p): r for p, r in report.skipped}
    assert "not valid UTF-8" in reasons["bad-utf8.txt"]
    assert "binary" in reasons["zeros.txt"]
    assert "too large" in reasons["huge.txt"]
    assert "outside" in reasons["escape.txt"] and "loop" in reasons["loop-a.txt"]
    assert "control character" in reasons["new\nline.txt"]  # it would be an id no request can name
    ids = {d.doc_id for d in engine.store.documents()}
    assert {"good", "utf16", "ünïcödé – 新闻", "page", "/".join(f"d{i}" for i in range(60)) + "/deep"} == ids
    assert engine.library.document("utf16").text == "Die Zeitung berichtet über Moskau.\n"
    page = engine.library.document("page")
    assert "owned" not in page.text and "Visible text only." in page.text
    assert all("secret" not in engine.library.document(d).text for d in ids)
    assert not any("root:x" in h.text for h in engine.search("root secret outside", 10))
