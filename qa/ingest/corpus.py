"""Finding article files and reading them into Documents through the reader table."""
from __future__ import annotations

import errno
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from qa.errors import InputError, UnsafeNameError
from qa.ingest.metadata import extract_metadata, parse_date
from qa.ingest.readers import READERS, Extracted, SkipFile, reader_for
from qa.ingest.sandbox import SandboxLimits, extract
from qa.types import Document, plain_name

__all__ = ["Candidate", "Discovery", "FileId", "SkipFile", "discover", "load_document", "read_bytes", "file_hash"]


@dataclass(frozen=True)
class FileId:
    """Which file a path led to when it was found (device and inode), and whether through a
    link (one inside the ingested folder): every later read must open that same file."""

    device: int
    inode: int
    link: bool = False

    @classmethod
    def of(cls, status: os.stat_result, link: bool = False) -> FileId:
        return cls(status.st_dev, status.st_ino, link)


@dataclass(frozen=True)
class Candidate:
    """A file found under a root, with the id it will get and the file it was when found."""

    root: Path
    path: Path
    found: FileId | None = None

    @property
    def doc_id(self) -> str:
        return self.path.relative_to(self.root).with_suffix("").as_posix()


@dataclass(frozen=True)
class Discovery:
    """What a set of paths holds: files to read, ingested roots, and what was passed over."""

    candidates: list[Candidate]
    roots: list[Path]  # folders given: documents gone from them are removed
    skipped: list[tuple[str, str]]


def supported() -> str:
    return ", ".join(sorted(READERS))


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
            if reader_for(given.suffix) is None:
                skipped.append((str(given), f"unsupported file type {given.suffix or '(none)'!r}; "
                                            f"supported: {supported()}"))
            else:
                path = given.resolve()
                candidates.append(Candidate(path.parent, path, _found(given)))
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
            if name.startswith("."):
                continue
            if reader_for(path.suffix) is None:
                skipped.append((str(path), f"unsupported file type {path.suffix or '(none)'!r}"))
                continue
            try:
                plain_name(path.relative_to(root).as_posix(), "file name")  # it would be the document's id
                found.append(Candidate(root, path, _found_below(path, root)))
            except (SkipFile, UnsafeNameError) as skip:
                skipped.append((str(path), str(skip)))
    return found, skipped


def _found_below(path: Path, root: Path) -> FileId:
    """The file `path` is now, from one lstat: a regular file, or a link to one inside root."""
    try:
        status = os.lstat(path)
    except OSError as exc:
        raise SkipFile(f"unreadable ({exc.strerror or exc})") from None
    if stat.S_ISLNK(status.st_mode):
        found = _found(path) if _inside(path, root) else None
        if found is None:
            raise SkipFile("link is broken, loops, or points outside the ingested folder")
        return found
    if not stat.S_ISREG(status.st_mode):
        raise SkipFile("not a regular file")
    return FileId.of(status)


def _found(path: Path) -> FileId | None:
    """The file a path given by name leads to (links followed: the user named it)."""
    try:
        return FileId.of(os.stat(path), link=True)
    except OSError:
        return None


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


def client_source(candidate: Candidate) -> str:
    """Where a document came from, as clients see it: relative to the working folder when inside
    it, else its folder's name and its path below it ("news/2024/a.txt"), never a server path."""
    shown = display_path(candidate.path)
    if not shown.startswith("/"):
        return shown
    return f"{candidate.root.name}/{candidate.path.relative_to(candidate.root).as_posix()}"


def read_bytes(path: Path, max_bytes: int, found: FileId | None = None) -> bytes:
    """The file's bytes, from one descriptor opened once: the file it was when `found` (a link
    only if it was one then), or with `found` None a regular file that is no link. A file swapped
    for a link or another file since it was found is skipped, never followed."""
    follow = found is not None and found.link
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | (0 if follow else os.O_NOFOLLOW))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SkipFile(REPLACED) from None
        raise SkipFile(f"unreadable ({exc.strerror or exc})") from None
    with os.fdopen(fd, "rb") as handle:
        return _read_found(handle, max_bytes, found)


REPLACED = "replaced (by a link or another file) since it was found; not read"


def _read_found(handle, max_bytes: int, found: FileId | None) -> bytes:
    try:
        status = os.fstat(handle.fileno())
        if found is not None and (status.st_dev, status.st_ino) != (found.device, found.inode):
            raise SkipFile(REPLACED)
        if not stat.S_ISREG(status.st_mode):
            raise SkipFile("not a regular file")
        if status.st_size > max_bytes:
            raise SkipFile(f"too large ({status.st_size:,} bytes; limit {max_bytes:,})")
        data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise SkipFile(f"unreadable ({exc.strerror or exc})") from None
    if len(data) > max_bytes:
        raise SkipFile(f"too large (over the limit of {max_bytes:,} bytes)")
    return data


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_document(candidate: Candidate, data: bytes, bounds: SandboxLimits,
                  extracted: Extracted | None = None, source: str | None = None) -> Document:
    """A Document from a file's bytes (already `extracted`, or extracted here within `bounds`);
    SkipFile when there is nothing to ingest or the file is over a limit."""
    if extracted is None:
        extracted = extract(candidate.path.suffix, data, bounds)
    text, meta = extracted.text, extracted.meta
    if not text.strip():
        raise SkipFile("empty")
    if sum(ch.isprintable() or ch.isspace() for ch in text[:4096]) < 0.9 * min(len(text), 4096):
        raise SkipFile("binary (mostly unprintable characters)")
    title, outlet, published = extract_metadata(text, fallback_title=candidate.path.stem)
    return Document(
        doc_id=candidate.doc_id, source=source or client_source(candidate), text=text,
        title=meta.get("title") or title, outlet=meta.get("outlet") or outlet,
        date=parse_date(meta.get("date", "")) or published,
        sha256=file_hash(data), root=str(candidate.root), origin=extracted.origin, pages=extracted.pages,
    )
