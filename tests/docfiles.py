"""Files of every supported format, written by the tests themselves (facts planted nowhere else)."""
from __future__ import annotations

from pathlib import Path

from bench.hostile import pdf_file


def pdf_bytes(pages: list[list[str]]) -> bytes:
    """A valid PDF with one text line per entry, Helvetica, one page per list."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"", b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for lines in pages:
        shown = b" ".join(b"(" + line.encode("latin-1").replace(b"(", b"\\(").replace(b")", b"\\)") + b") Tj T*"
                          for line in lines)
        stream = b"BT /F1 12 Tf 72 720 Td 16 TL " + shown + b" ET"
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                       b"/Resources << /Font << /F1 3 0 R >> >> >>" % len(objects))
        kids.append(len(objects))
    objects[1] = (b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % k for k in kids)
                  + b"] /Count %d >>" % len(kids))
    return pdf_file(objects)


LIGHTHOUSE_PDF = [
    ["Coastal Heritage Review", "March 3, 2019", "The Halvorsen lighthouse stands on the northern cape.",
     "Visitors reach it by a gravel path from the harbour."],
    ["After a storm destroyed the old tower, the Halvorsen lighthouse was rebuilt in 1911.",
     "The engineer in charge of the rebuilding was Agnete Brekke.",
     "Her design used reinforced concrete, which was new in the region."],
]

HARBOUR_HTML = (
    "<html><head><title>Harbour fees rise | Coast Daily</title><meta property='og:site_name' content='Coast Daily'>"
    "<meta property='article:published_time' content='2023-05-09'></head><body>"
    "<nav>Home | Sports | Weather | Subscribe</nav><article><h1>Harbour fees rise</h1>"
    "<p>The Oskarvik harbour board voted to raise mooring fees by 12 percent from July.</p>"
    "<p>Board chair Sindre Aasen said the money will repair the breakwater.</p></article>"
    "<footer>Cookie settings | Privacy | Contact us</footer></body></html>")

GLACIER_MD = """# Glacier station reopens

*Polar Notes* — 2020-08-14

The **Nordbreen** research station reopened after [three years](https://example.org/x) of repairs.

- Its new director is Ingrid Valen.
- The station measures ice loss on the Nordbreen glacier every week.
"""


def write_docx(path: Path, paragraphs: list[str]) -> Path:
    import docx

    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    document.save(str(path))
    return path


FERRY_DOCX = ["Island Transport Weekly", "June 14, 2022", "The new Tindra ferry entered service this week.",
              "The Tindra ferry carries 340 passengers between Oskarvik and Selholmen.",
              "Crossings take forty minutes in calm weather."]


def write_all(folder: Path) -> Path:
    """One file of each format in folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "lighthouse.pdf").write_bytes(pdf_bytes(LIGHTHOUSE_PDF))
    write_docx(folder / "ferry.docx", FERRY_DOCX)
    (folder / "harbour.html").write_text(HARBOUR_HTML, encoding="utf-8")
    (folder / "glacier.md").write_text(GLACIER_MD, encoding="utf-8")
    return folder
