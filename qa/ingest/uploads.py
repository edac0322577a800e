"""Uploaded files: checked in memory (name, type, size, readable) before anything is written,
then kept in the uploads folder, which is ingested file by file (never as a root, so an upload
cannot remove other documents)."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from qa.errors import InputError, TooLargeError, UnsupportedTypeError
from qa.ingest.readers import SkipFile, reader_for
from qa.ingest.corpus import supported

_UNSAFE = re.compile(r"[^\w.\- ]+")


@dataclass(frozen=True)
class Upload:
    name: str  # the safe file name it is stored under
    data: bytes

    @property
    def doc_id(self) -> str:
        return Path(self.name).stem


def safe_name(given: str) -> str:
    """The last path component only, with nothing that could climb out of the uploads folder."""
    base = PureWindowsPath(PurePosixPath(given or "").name).name  # "../../x", "C:\\a\\x" -> "x"
    base = _UNSAFE.sub("_", base).strip(" .")
    if not base or not Path(base).stem.strip(" ._"):
        raise InputError(f"unusable file name {given!r}")
    return base[:150]


def check_upload(filename: str, data: bytes, max_bytes: int) -> Upload:
    """A file a user sent, checked the way ingest would read it; InputError (or a subclass) if not."""
    name = safe_name(filename)
    reader = reader_for(Path(name).suffix)
    if reader is None:
        raise UnsupportedTypeError(f"{name}: unsupported file type {Path(name).suffix or '(none)'!r}; "
                                   f"supported: {supported()}")
    if len(data) > max_bytes:
        raise TooLargeError(f"{name}: {len(data):,} bytes is over the upload limit of {max_bytes:,}")
    try:
        extracted = reader(data)
    except SkipFile as skip:
        raise InputError(f"{name}: {skip}") from None
    if not extracted.text.strip():
        raise InputError(f"{name}: no text in it")
    return Upload(name, data)


def store_uploads(folder: Path, uploads: list[Upload]) -> tuple[list[Path], Callable[[], None]]:
    """Write the files into the folder; return their paths and an undo that restores the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    written, previous = [], {}
    for upload in uploads:
        path = folder / upload.name
        if path.exists():
            previous[path] = path.read_bytes()
        temporary = path.with_name(f".{upload.name}.part")
        temporary.write_bytes(upload.data)
        temporary.replace(path)
        written.append(path)

    def undo() -> None:
        for path in written:
            if path in previous:
                path.write_bytes(previous[path])
            else:
                path.unlink(missing_ok=True)

    return written, undo
