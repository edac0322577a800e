"""Reading files: metadata, HTML, and the files that must be skipped."""
import codecs

import pytest

from qa.ingest.corpus import Candidate, load_document
from qa.ingest.metadata import extract_metadata, parse_date
from qa.ingest.readers import SkipFile, decode, html_to_text
from qa.ingest.sandbox import bounds_from
from qa.settings import Settings


def test_seed_metadata(corpus):
    text = (corpus / "001_fef7cdd3c9f4f1a3.txt").read_text(encoding="utf-8")
    assert extract_metadata(text, "x") == ("Qalibaf carries message to Putin but can’t get in door",
                                           "Iran Times", "2021-02-26")
    title, outlet, date = extract_metadata((corpus / "000_782ea98495621ebe.txt").read_text(encoding="utf-8"), "x")
    assert title == "Iran: The Scandalous Journey of Qalibaf and Its Message for Khamenei"
    assert outlet is None and date is None  # the dates in its body are events, not publication


@pytest.mark.parametrize("text, iso", [
    ("February 26, 2021", "2021-02-26"), ("26 Feb 2021", "2021-02-26"),
    ("Feb. 6, 2021", "2021-02-06"), ("2020-01-31", "2020-01-31"), ("February 30, 2021", None),
])
def test_dates(text, iso):
    assert parse_date(text) == iso


def test_explicit_fields_win():
    assert extract_metadata("Title: Big news\nOutlet: Reuters\nDate: 2020-01-02\n\nBody.", "x") == \
        ("Big news", "Reuters", "2020-01-02")


def test_html_visible_text_and_meta():
    html = ('<html><head><title>T</title><meta property="og:site_name" content="Daily">'
            '<script>alert("x")</script><style>p{}</style></head>'
            '<body><h1>Head line here</h1><p>First &amp; second.</p><p>Third.</p></body></html>')
    text, meta = html_to_text(html)
    assert text == "Head line here\n\nFirst & second.\n\nThird."
    assert meta == {"page_title": "T", "title": "Head line here", "outlet": "Daily"}


@pytest.mark.parametrize("data, reason", [
    (b"\x89PNG\r\n\x1a\n\x00\x00", "binary"), (b"caf\xe9 au lait", "not valid UTF-8"),
])
def test_undecodable_files_are_skipped(data, reason):
    with pytest.raises(SkipFile, match=reason):
        decode(data)


def test_utf8_is_kept_unchanged_and_utf16_with_bom_is_read():
    assert decode("\ufeffa\r\nb".encode("utf-8")) == "\ufeffa\r\nb"
    assert decode(codecs.BOM_UTF16_LE + "héllo".encode("utf-16-le")) == "héllo"


def test_empty_document_is_skipped(tmp_path):
    path = tmp_path / "blank.txt"
    path.write_text("  \n\n ")
    with pytest.raises(SkipFile, match="empty"):
        load_document(Candidate(tmp_path, path), path.read_bytes(), bounds_from(Settings()))
