"""Readers: one entry per file type, each turning a file's bytes into text plus metadata.

Adding a format is one function and one line in READERS. A reader says where its text came
from (`origin`): "text" when the file is decoded unchanged, otherwise the extractor's name; the
extracted text is what is stored, served and cited.
"""
from __future__ import annotations

import codecs
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any


class SkipFile(Exception):
    """A file that is not ingested; the message says why."""


@dataclass(frozen=True)
class Limits:
    """What a reader may produce from one file: refused (SkipFile naming the limit), never truncated."""

    max_chars: int = 2_000_000  # extracted characters
    max_pages: int = 2_000  # PDF pages
    max_member_bytes: int = 64 << 20  # one archive member (DOCX part), inflated
    max_inflated_bytes: int = 128 << 20  # all archive members together, inflated


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Extracted:
    text: str
    origin: str
    meta: dict[str, str] = field(default_factory=dict)  # title, outlet, date, ... when the format has them
    pages: tuple[int, ...] = ()  # where each page starts in `text` (PDF), for the citations' page numbers


def decode(data: bytes) -> str:
    """UTF-8 unchanged (a BOM stays as U+FEFF); UTF-16 when it says so with a BOM."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise SkipFile("invalid UTF-16") from None
    if b"\x00" in data:
        raise SkipFile("binary (contains NUL bytes)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SkipFile(f"not valid UTF-8 (byte {exc.start})") from None


def read_text(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Extracted:
    return Extracted(decode(data), "text")


def read_markdown(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Extracted:
    """Markdown rendered to its text: no "#", emphasis marks or link targets in answers."""
    from markdown_it import MarkdownIt

    text, _ = html_to_text(MarkdownIt("commonmark").render(decode(data)))
    return Extracted(text, "markdown")


def read_html(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Extracted:
    """A news page through trafilatura: the article's main text and its metadata, without
    navigation, comments or footer. Pages it finds no article in fall back to all visible text."""
    import trafilatura

    html = decode(data)
    _, page_meta = html_to_text(html)
    try:
        found: Any = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False,
                                            include_tables=True, deduplicate=True)
    except Exception:  # a page trafilatura chokes on still has visible text
        found = None
    if found is None or not (found.text or "").strip():
        return _visible_text(html)
    text = "\n\n".join(line.strip() for line in found.text.splitlines() if line.strip())
    meta = {"title": found.title or page_meta.get("title") or page_meta.get("og_title") or "",
            "outlet": found.sitename or page_meta.get("outlet") or "",
            "date": found.date or page_meta.get("date") or "", "author": found.author or ""}
    return Extracted(text, "html", {k: v for k, v in meta.items() if v})


def _visible_text(html: str) -> Extracted:
    text, meta = html_to_text(html)
    meta["title"] = meta.get("title") or meta.get("og_title") or meta.get("page_title") or ""
    return Extracted(text, "html", {k: v for k, v in meta.items() if v})


def read_pdf(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Extracted:
    """The text layer of each page (pypdf), pages separated by a blank line; page starts kept.
    Page count and text are checked page by page: a file over a limit stops at the first sign."""
    import pypdf
    from pypdf.errors import PdfReadError

    try:
        pdf = pypdf.PdfReader(io.BytesIO(data))
        if pdf.is_encrypted and not pdf.decrypt(""):
            raise SkipFile("encrypted PDF")
        if len(pdf.pages) > limits.max_pages:
            raise SkipFile(f"over the page limit ({len(pdf.pages):,} pages; limit {limits.max_pages:,})")
        pages, size = [], 0
        for page in pdf.pages:
            pages.append((page.extract_text() or "").strip())
            size += len(pages[-1])
            if size > limits.max_chars:
                raise SkipFile(f"over the extracted text limit (more than {limits.max_chars:,} characters "
                               f"by page {len(pages)}, QA_MAX_DOCUMENT_CHARS)")
        info: dict = dict(pdf.metadata or {})
    except SkipFile:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise SkipFile(f"corrupt or unreadable PDF ({type(exc).__name__}: {str(exc)[:80]})") from None
    except Exception as exc:  # pypdf raises many kinds on damaged files
        raise SkipFile(f"corrupt or unreadable PDF ({type(exc).__name__})") from None
    if not any(pages):
        raise SkipFile("PDF has no text layer (scanned pages need OCR first)")
    text, starts = "", []
    for page_text in pages:
        text += "\n\n" if text else ""
        starts.append(len(text))
        text += page_text
    meta = {"title": str(info.get("/Title") or "").strip(), "author": str(info.get("/Author") or "").strip()}
    return Extracted(text, "pdf", {k: v for k, v in meta.items() if v}, tuple(starts))


def read_docx(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Extracted:
    """The paragraphs (and table cells) of a Word document, one per line block (python-docx).
    The archive's inflated sizes are checked before anything is inflated (zipfile never inflates
    a member past the size it declares)."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            _check_inflated(package, limits)
            has_properties = "docProps/core.xml" in package.namelist()
        document = docx.Document(io.BytesIO(data))
    except SkipFile:
        raise
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise SkipFile(f"corrupt or unreadable DOCX ({type(exc).__name__})") from None
    except Exception as exc:  # lxml and the zip layer fail their own ways on damaged files
        raise SkipFile(f"corrupt or unreadable DOCX ({type(exc).__name__})") from None
    blocks = [p.text.strip() for p in document.paragraphs]
    blocks += [cell.text.strip() for table in document.tables for row in table.rows for cell in row.cells]
    text = "\n\n".join(b for b in blocks if b)
    meta = {"title": _docx_heading(document)}
    if has_properties:  # python-docx invents "Word Document" as the title of a file without them
        props = document.core_properties
        meta = {"title": (props.title or "").strip() or meta["title"], "author": (props.author or "").strip()}
    return Extracted(text, "docx", {k: v for k, v in meta.items() if v})


def _docx_heading(document) -> str:
    """The document's own title line when its properties have none: the first paragraph styled
    Title (or a first paragraph styled Heading 1), never its first sentence of body text."""
    for i, paragraph in enumerate(p for p in document.paragraphs if p.text.strip()):
        style = paragraph.style.name if paragraph.style is not None else ""
        if style == "Title" or (i == 0 and style == "Heading 1"):
            return paragraph.text.strip()
        if i > 3:
            break
    return ""


def _check_inflated(package: zipfile.ZipFile, limits: Limits) -> None:
    total = 0
    for member in package.infolist():
        if member.file_size > limits.max_member_bytes:
            raise SkipFile(f"archive member {member.filename[:60]!r} inflates to {member.file_size:,} bytes; "
                           f"limit {limits.max_member_bytes:,}")
        total += member.file_size
    if total > limits.max_inflated_bytes:
        raise SkipFile(f"archive inflates to {total:,} bytes; limit {limits.max_inflated_bytes:,}")


Reader = Callable[[bytes, Limits], Extracted]
READERS: dict[str, Reader] = {
    ".txt": read_text, ".md": read_markdown, ".markdown": read_markdown,
    ".html": read_html, ".htm": read_html, ".pdf": read_pdf, ".docx": read_docx,
}


def reader_for(suffix: str) -> Reader | None:
    return READERS.get(suffix.lower())


class _VisibleText(HTMLParser):
    """Collects the text a browser shows, one block per line, and the page's metadata."""

    _HIDDEN = {"script", "style", "noscript", "template", "head", "svg"}
    _BLOCKS = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section",
               "article", "header", "footer", "blockquote", "pre", "title"}
    _META = {"og:site_name": "outlet", "og:title": "og_title",
             "article:published_time": "date", "date": "date"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.meta: dict[str, str] = {}
        self._hidden = 0
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "meta":
            key = self._META.get((attributes.get("property") or attributes.get("name") or "").lower())
            if key and attributes.get("content"):
                self.meta.setdefault(key, attributes["content"])
        self._in_title = tag in ("title", "h1")
        if tag in self._HIDDEN:
            self._hidden += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self._HIDDEN and self._hidden:
            self._hidden -= 1
        if tag in self._BLOCKS:
            self.parts.append("\n")
        self._in_title = False

    def handle_data(self, data):
        if self._in_title and data.strip():
            # the first <h1> is the headline; <title> often carries " | Outlet" and comes earlier
            key = "title" if self.lasttag == "h1" else "page_title"
            self.meta[key] = self.meta.get(key) or data.strip()
        if not self._hidden:
            self.parts.append(data)


def html_to_text(html: str) -> tuple[str, dict[str, str]]:
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    lines = (re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in "".join(parser.parts).split("\n"))
    return "\n\n".join(line for line in lines if line), parser.meta
