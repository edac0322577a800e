"""Generation folders: a store folder holds immutable `gen-NNNNNNNN/` folders and a CURRENT file
naming the live one. A writer builds a complete new generation beside the old, fsyncs it, then
swaps CURRENT with an atomic rename: a crash at any point leaves either the old or the new
generation live, never a mix, and readers never see a half-written file."""
from __future__ import annotations

import fcntl
import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from qa.errors import QAError, StoreDamagedError, StoreLockedError

CURRENT = "CURRENT"
_GEN = re.compile(r"^gen-(\d{8})$")


def repair_command(store_dir: Path) -> str:
    return f"qa ingest --rebuild <folders> --store {store_dir}"


def damaged(store_dir: Path, what: str) -> StoreDamagedError:
    return StoreDamagedError(f"{store_dir}/ is damaged ({what}); repair it: {repair_command(store_dir)}")


def current_generation(store_dir: Path) -> str | None:
    """The live generation's name; None when the store was never written.
    A CURRENT file that names nothing valid is damage, not absence."""
    try:
        name = (store_dir / CURRENT).read_text(encoding="utf-8", errors="replace").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise damaged(store_dir, f"{CURRENT} unreadable: {exc.strerror}") from None
    if not _GEN.match(name) or not (store_dir / name).is_dir():
        raise damaged(store_dir, f"{CURRENT} names no generation folder")
    return name


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            fsync_path(path)
    fsync_path(folder)


def publish(store_dir: Path, staging: Path, generation: str) -> None:
    """Make a fully written staging folder the live generation, atomically."""
    fsync_tree(staging)
    staging.rename(store_dir / generation)
    pointer = store_dir / f"{CURRENT}.tmp"
    pointer.write_text(generation + "\n")
    fsync_path(pointer)
    os.replace(pointer, store_dir / CURRENT)
    fsync_path(store_dir)


def next_generation(store_dir: Path) -> str:
    numbers = [int(m.group(1)) for p in store_dir.iterdir() if (m := _GEN.match(p.name))]
    return f"gen-{max(numbers, default=0) + 1:08d}"


def remove_stale(store_dir: Path, keep: str) -> None:
    """Delete generations and staging folders other than `keep` (readers hold theirs open)."""
    for path in store_dir.iterdir():
        if path.is_dir() and path.name != keep and (_GEN.match(path.name) or path.name.startswith("staging-")):
            shutil.rmtree(path, ignore_errors=True)


@contextmanager
def store_lock(store_dir: Path) -> Iterator[None]:
    """One writer per store: a second ingest is refused at once with who holds it."""
    try:
        store_dir.mkdir(parents=True, exist_ok=True)
        handle = open(store_dir / ".lock", "a+")
    except OSError as exc:
        raise QAError(f"cannot write {store_dir}/ ({exc.strerror}); nothing changed") from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise StoreLockedError(f"{store_dir}/ is being written by {holder}; retry when it finishes") from None
    handle.truncate(0)
    handle.write(f"pid {os.getpid()}")
    handle.flush()
    try:
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


# Who is told each step of a write ("after-copy", "after-embed", "before-publish", "after-publish").
# Nothing in the product listens: the crash tests add an observer that kills or stops the process
# at one step (tests/crash_at.py), to show that a write interrupted anywhere changes nothing.
STEP_OBSERVERS: list[Callable[[str], None]] = []


def write_step(name: str) -> None:
    for observe in STEP_OBSERVERS:
        observe(name)
