"""Readers: one entry per file type, each turning a file's bytes into text plus metadata.

Adding a format is one function and one line in READERS. A reader says where its text came
from (`origin`): "text" when the file is decoded unchanged, otherwise the extractor's name; the
extracted text is what is stored, served and cited.
"""
from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser


class SkipFile(Exception):
    """A file that is not ingested; the message says why."""


@dataclass(frozen=True)
class Extracted:
    text: str
    origin: str
    meta: dict[str, str] = field(default_factory=dict)  # title, outlet, date, ... when the format has them


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


def read_text(data: bytes) -> Extracted:
    return Extracted(decode(data), "text")


def read_html(data: bytes) -> Extracted:
    text, meta = html_to_text(decode(data))
    meta["title"] = meta.get("title") or meta.get("og_title") or meta.get("page_title") or ""
    return Extracted(text, "html", {k: v for k, v in meta.items() if v})


Reader = Callable[[bytes], Extracted]
READERS: dict[str, Reader] = {
    ".txt": read_text, ".md": read_text, ".markdown": read_text,
    ".html": read_html, ".htm": read_html,
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
