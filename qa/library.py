"""The documents of the index as a user manages them: list, read, upload, delete. Writes from
this process take turns; a write by another process (a `qa ingest`) is the store lock's matter."""
from __future__ import annotations

import glob
import threading
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from qa.errors import ConflictError, InputError, NotFoundError, StoreLockedError
from qa.ingest.ingestor import Ingestor, IngestReport
from qa.ingest.sandbox import bounds_from
from qa.ingest.uploads import StagedUploads, Upload, check_upload, sweep
from qa.settings import Settings
from qa.store import StoreBackend, StoreReader
from qa.store.base import DocFields
from qa.types import Document, plain_name

WRITE_WAIT_SECONDS = 60  # an upload waits this long for the writes before it in this process


class Library:
    def __init__(self, settings: Settings, backend: StoreBackend, ingestor: Callable[[], Ingestor],
                 store: Callable[[], StoreReader]):
        self.settings, self.backend, self.ingestor, self.store = settings, backend, ingestor, store
        self._write_lock = threading.Lock()

    @property
    def uploads_dir(self) -> Path:
        return (self.settings.store.uploads_dir or self.settings.store.store_dir / "uploads").resolve()

    def documents(self, limit: int = 50, offset: int = 0) -> tuple[int, list[DocFields]]:
        if not 1 <= limit <= 1000 or not 0 <= offset <= 10**9:
            raise InputError("limit must be 1-1000 and offset 0-1000000000")
        store = self.store()
        return store.count_documents, store.documents(limit, offset)

    def document(self, doc_id: str) -> Document:
        doc = self.store().document(plain_name(doc_id, "document id"))
        if doc is None:
            raise NotFoundError(f"no document {doc_id!r} in the index")
        return doc

    def upload(self, files: list[tuple[str, bytes]]) -> IngestReport:
        """Add files a user sent: all are checked and extracted before any is written; answerable
        on return. Nothing changes when any file is refused or the ingest fails."""
        if not files:
            raise InputError("no file sent (multipart field \"file\")")
        bounds = bounds_from(self.settings)
        uploads = [check_upload(name, data, self.settings.server.max_upload_bytes, bounds) for name, data in files]
        if len({u.doc_id for u in uploads}) < len(uploads):
            raise InputError("two uploads would get the same document id; rename one")
        with self._writing():
            self._check_ids_free(uploads)
            staged = StagedUploads(self.uploads_dir, uploads)
            try:
                report = self.ingestor().run(staged.paths, staged=staged)
            except BaseException:
                staged.undo()
                raise
            if report.skipped:  # checked above, so only a reader change gets here
                staged.undo()
                raise InputError("; ".join(f"{Path(p).name}: {r}" for p, r in report.skipped))
        return report

    def delete(self, doc_id: str) -> IngestReport:
        """Remove a document from the index (an uploaded file goes too; a file in an ingested
        folder stays and comes back if that folder is ingested again)."""
        plain_name(doc_id, "document id")
        with self._writing():
            known = self.backend.known_documents()  # empty for a new store
            if doc_id not in known:
                raise NotFoundError(f"no document {doc_id!r} in the index")
            report = self.ingestor().delete([doc_id])
            if known[doc_id].root == str(self.uploads_dir):
                for path in self.uploads_dir.glob(f"{glob.escape(doc_id)}.*"):
                    if path.stem == doc_id:
                        path.unlink(missing_ok=True)
        release_memory()
        return report

    def sweep_uploads(self) -> list[Path]:
        """Remove what killed or refused uploads left in the uploads folder (none when it is fine)."""
        with self._writing():
            return sweep(self.uploads_dir, set(self.backend.known_documents()))

    def _check_ids_free(self, uploads: list[Upload]) -> None:
        """An upload may replace the file it came from, never another file with its document id."""
        known = self.backend.known_documents()  # empty for a new store
        for upload in uploads:
            taken = known.get(upload.doc_id)
            if taken is not None and taken.root != str(self.uploads_dir):
                raise ConflictError(f"{upload.name}: document id {upload.doc_id!r} is already taken by a file "
                                    f"ingested from the folder {Path(taken.root).name}/; rename the upload")
            other = [p.name for p in self.uploads_dir.glob(f"{glob.escape(upload.doc_id)}.*")
                     if p.name != upload.name and p.stem == upload.doc_id]
            if other:
                raise ConflictError(f"{upload.name}: document id {upload.doc_id!r} is already taken by the upload "
                                    f"{other[0]}; delete that document first or rename the upload")

    @contextmanager
    def _writing(self):
        """One write (upload or delete) at a time in this process; the others wait their turn
        for a while, then are told to retry."""
        if not self._write_lock.acquire(timeout=WRITE_WAIT_SECONDS):
            raise StoreLockedError(f"the index is busy with other writes for over {WRITE_WAIT_SECONDS} s; "
                                   "retry shortly")
        try:
            yield
        finally:
            self._write_lock.release()


def release_memory() -> None:
    """Hand freed heap back to the system (glibc keeps it otherwise): a server that deleted large
    documents should not stay at its peak size."""
    import ctypes
    import ctypes.util

    try:
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass
