"""Finding and reading article files: .txt/.md as UTF-8 unchanged, .html as visible text."""
from __future__ import annotations

import codecs
import hashlib
import os
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from qa.errors import InputError
from qa.metadata import extract_metadata, parse_date
from qa.types import Document

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES


class SkipFile(Exception):
    """A file that is not ingested; the message says why."""


@dataclass(frozen=True)
class Candidate:
    """A file found under a root, with the id it will get."""

    root: Path
    path: Path

    @property
    def doc_id(self) -> str:
        return self.path.relative_to(self.root).with_suffix("").as_posix()


@dataclass(frozen=True)
class Discovery:
    """What a set of paths holds: files to read, ingested roots, and what was passed over."""

    candidates: list[Candidate]
    roots: list[Path]  # folders given: documents gone from them are removed
    skipped: list[tuple[str, str]]


def discover(paths: list[Path]) -> Discovery:
    candidates, roots, skipped = [], [], []
    for given in paths:
        if given.is_dir():
            root = given.resolve()
            roots.append(root)
            found, passed = _walk(root)
            candidates += found
            skipped += passed
        elif given.is_file():
            candidates.append(Candidate(given.resolve().parent, given.resolve()))
        else:
            raise InputError(f"no such file or folder: {given}")
    return Discovery(candidates, roots, skipped)


def _walk(root: Path) -> tuple[list[Candidate], list[tuple[str, str]]]:
    """Supported files below root; links leading outside root are refused, loops cannot occur
    because directory links are not followed."""
    found, skipped = [], []
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(folder) / name
            if name.startswith(".") or path.suffix.lower() not in SUFFIXES:
                continue
            if path.is_symlink() and not _inside(path, root):
                skipped.append((str(path), "link is broken, loops, or points outside the ingested folder"))
                continue
            if not path.is_symlink() and not path.is_file():
                skipped.append((str(path), "not a regular file"))
                continue
            found.append(Candidate(root, path))
    return found, skipped


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve(strict=True).relative_to(root)
        return True
    except (OSError, ValueError, RuntimeError):  # RuntimeError: a symlink loop
        return False


def display_path(path: Path) -> str:
    """Relative to the working folder when inside it: no server paths leak into citations."""
    try:
        return path.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def read_bytes(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise SkipFile(f"too large ({size:,} bytes; limit {max_bytes:,})")
        return path.read_bytes()
    except OSError as exc:
        raise SkipFile(f"unreadable ({exc.strerror or exc})") from None


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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


def load_document(candidate: Candidate, data: bytes) -> Document:
    """A Document from a file's bytes; SkipFile when there is nothing to ingest."""
    text = decode(data)
    meta: dict[str, str] = {}
    if candidate.path.suffix.lower() in HTML_SUFFIXES:
        text, meta = html_to_text(text)
    if not text.strip():
        raise SkipFile("empty")
    if sum(ch.isprintable() or ch.isspace() for ch in text[:4096]) < 0.9 * min(len(text), 4096):
        raise SkipFile("binary (mostly unprintable characters)")
    title, outlet, published = extract_metadata(text, fallback_title=candidate.path.stem)
    return Document(
        doc_id=candidate.doc_id, source=display_path(candidate.path), text=text,
        title=meta.get("title") or meta.get("og_title") or meta.get("page_title") or title, outlet=meta.get("outlet") or outlet,
        date=parse_date(meta.get("date", "")) or published,
        sha256=file_hash(data), root=str(candidate.root),
    )


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
