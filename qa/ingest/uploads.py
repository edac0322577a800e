"""Uploaded files: checked in memory (name, type, size, readable) before anything is written,
then kept in the uploads folder, which is ingested file by file (never as a root, so an upload
cannot remove other documents)."""
from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from qa.errors import InputError, TooLargeError, UnsupportedTypeError
from qa.ingest.corpus import file_hash, supported
from qa.ingest.readers import Extracted, SkipFile, reader_for
from qa.ingest.sandbox import SandboxLimits, extract
from qa.messages import echo
from qa.types import plain_name

_UNSAFE = re.compile(r"[^\w.\- ]+")


MAX_NAME = 150
TEMPORARY_PREFIX = ".upload-"


@dataclass(frozen=True)
class Upload:
    name: str  # the safe file name it is stored under
    data: bytes
    extracted: Extracted  # its text, extracted once when it was checked

    @property
    def doc_id(self) -> str:
        return Path(self.name).stem


def safe_name(given: str) -> str:
    """The last path component only, with nothing that could climb out of the uploads folder;
    a long name is shortened in its stem, never in its extension."""
    plain_name(given or "", "file name")
    base = PureWindowsPath(PurePosixPath(given or "").name).name  # "../../x", "C:\\a\\x" -> "x"
    base = _UNSAFE.sub("_", base).strip(" .")
    if not base or not Path(base).stem.strip(" ._"):
        raise InputError(f"unusable file name {echo(given)}")
    suffix = Path(base).suffix
    if len(base) > MAX_NAME:
        base = Path(base).stem[:MAX_NAME - len(suffix)].rstrip(" .") + suffix
    return base


def check_upload(filename: str, data: bytes, max_bytes: int, bounds: SandboxLimits) -> Upload:
    """A file a user sent, checked and extracted the way ingest reads it; InputError (or a subclass) if not."""
    name = safe_name(filename)
    if reader_for(Path(name).suffix) is None:
        raise UnsupportedTypeError(f"{name}: unsupported file type {Path(name).suffix or '(none)'!r}; "
                                   f"supported: {supported()}")
    if len(data) > max_bytes:
        raise TooLargeError(f"{name}: {len(data):,} bytes is over the upload limit of {max_bytes:,}")
    try:
        extracted = extract(Path(name).suffix, data, bounds)
    except SkipFile as skip:
        raise InputError(f"{name}: {skip}") from None
    if not extracted.text.strip():
        raise InputError(f"{name}: no text in it")
    return Upload(name, data, extracted)


class StagedUploads:
    """Uploads an ingest writes into the uploads folder once it holds the store lock (so two
    uploads of one name never interleave), each through a temporary file of its own; undo()
    puts the folder back as it was."""

    def __init__(self, folder: Path, uploads: list[Upload]):
        self.folder, self.uploads = folder, uploads
        self.paths = [folder / u.name for u in uploads]
        self._extracted = {path: (file_hash(u.data), u.extracted) for path, u in zip(self.paths, uploads)}
        self._previous: dict[Path, bytes | None] = {}

    def write(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        for upload, path in zip(self.uploads, self.paths):
            self._previous[path] = path.read_bytes() if path.exists() else None
            _write_atomically(path, upload.data)

    def undo(self) -> None:
        for path, previous in self._previous.items():
            if previous is None:
                path.unlink(missing_ok=True)
            else:
                _write_atomically(path, previous)

    def extracted(self, path: Path, sha256: str) -> Extracted | None:
        """The upload's text, when the file at `path` still holds the bytes it was extracted from."""
        own_hash, extracted = self._extracted.get(path, (None, None))
        return extracted if own_hash == sha256 else None

    def source(self, path: Path) -> str | None:
        return f"uploads/{path.name}" if path.parent == self.folder else None


def _write_atomically(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(prefix=TEMPORARY_PREFIX, dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def sweep(folder: Path, known_ids: set[str]) -> list[Path]:
    """Remove what a killed or refused upload left behind: temporary files, and files whose
    document is not in the index. Returns what was removed."""
    if not folder.is_dir():
        return []
    removed = []
    for path in folder.iterdir():
        leftover = path.name.startswith((TEMPORARY_PREFIX, ".")) or path.stem not in known_ids
        if path.is_file() and leftover:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
