"""The hostile files of the hostile-files issue, built here: `tests/test_hostile.py` checks each one
against the ingest, and `tests/docfiles.py` builds its PDFs with `pdf_file`. The run of each attack
against a real `qa serve` (peak RSS, wall time, status) is recorded in bench/results/hostile.md,
with the commit that has it.
"""
from __future__ import annotations

import io
import zipfile
import zlib

_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def docx_bomb(inflated: int = 1 << 30) -> bytes:
    """A valid DOCX of ordinary paragraphs whose word/document.xml inflates to `inflated` bytes."""
    paragraph = ("<w:p><w:r><w:t>" + "The ferry carries three hundred and forty passengers every day. " * 16
                 + "</w:t></w:r></w:p>")
    block = (paragraph * ((4 << 20) // len(paragraph))).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as package:
        package.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats'
                         '.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
                         'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="'
                         'application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.'
                         'openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        package.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.'
                         'org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
                         'openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
                         'Target="word/document.xml"/></Relationships>')
        with package.open("word/document.xml", "w", force_zip64=True) as part:
            part.write(f'<?xml version="1.0"?><w:document {_W}><w:body>'.encode())
            written = 0
            while written < inflated:
                part.write(block)
                written += len(block)
            part.write(b"</w:body></w:document>")
    return buffer.getvalue()


def shared_stream_pdf(pages: int = 5, inflated: int = 5 << 20) -> bytes:
    """A small PDF whose pages all show one content stream that inflates to `inflated` bytes."""
    operation = b"BT /F1 12 Tf 72 712 Td (The ferry carries forty passengers.) Tj ET\n"
    stream = zlib.compress(operation * (inflated // len(operation)), 9)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"", b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream"]
    kids = []
    for _ in range(pages):
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
                       b"/Resources << /Font << /F1 3 0 R >> >> >>")
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % k for k in kids) + b"] /Count %d >>" % pages
    return pdf_file(objects)


def pdf_file(objects: list[bytes]) -> bytes:
    """A PDF file of these objects (1 is the catalog), with its cross-reference table."""
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


def long_line_html(size: int = 19_500_000) -> bytes:
    """One line of HTML: a news page whose body is `size` bytes of short inline elements."""
    unit = "<span>The ferry <b>carries</b> forty passengers.</span> "
    return ("<html><head><title>Long line</title></head><body><p>" + unit * (size // len(unit))
            + "</p></body></html>").encode()
