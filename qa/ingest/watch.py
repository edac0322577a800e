"""A folder that keeps itself indexed: `qa watch DIR` and `qa serve --watch DIR`.

watchfiles (Rust's notify underneath) reports changes in batches; after each quiet moment the
folders are ingested again. An ingest plans by content hash, so only new and changed files are
read and embedded, files gone from the folder leave the index, and the new version is published
atomically: readers see each batch of changes whole, as with uploads. A rename is a deletion and
an addition (a document's id is its path). A file caught half-written is indexed as it was read
and again when its last write arrives.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from qa.errors import QAError, StoreLockedError
from qa.ingest.ingestor import IngestReport

log = logging.getLogger("qa.watch")
DEBOUNCE_MS = 400  # a burst of saves (an editor, a copy of 200 files) becomes one ingest
LOCKED_RETRY_SECONDS = 1.0  # another ingest (an upload) holds the store: try again shortly


def watch(ingest: Callable[[list[Path]], IngestReport], folders: list[Path], stop: threading.Event,
          on_report: Callable[[IngestReport], None] | None = None) -> None:
    """Ingest `folders` now, then after every batch of changes until `stop` is set."""
    from watchfiles import watch as changes_in

    for folder in folders:
        if not folder.is_dir():
            raise QAError(f"cannot watch {folder}: not a folder")
    _ingest(ingest, folders, stop, on_report)
    for _batch in changes_in(*folders, debounce=DEBOUNCE_MS, step=50, stop_event=stop, yield_on_timeout=False,
                             raise_interrupt=False):
        _ingest(ingest, folders, stop, on_report)


def _ingest(ingest, folders: list[Path], stop: threading.Event, on_report) -> None:
    while not stop.is_set():
        try:
            report = ingest(folders)
        except StoreLockedError:
            time.sleep(LOCKED_RETRY_SECONDS)
            continue
        except QAError as exc:  # the folder stays watched; the next change tries again
            log.warning("watch: %s", exc)
            return
        if on_report is not None:
            on_report(report)
        return


def watch_in_background(ingest, folders: list[Path], on_report=None) -> tuple[threading.Thread, threading.Event]:
    """The watcher on a daemon thread (the server's): returns it and the event that stops it."""
    stop = threading.Event()
    thread = threading.Thread(target=watch, args=(ingest, folders, stop, on_report), name="qa-watch", daemon=True)
    thread.start()
    return thread, stop
