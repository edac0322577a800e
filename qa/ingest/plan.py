"""Planning an ingest: which documents to (re)index, keep or remove, from content hashes alone.

Pure: no files, no store. The ingestor gathers the files' hashes and the store's known
documents, asks for a plan, then applies it.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import PurePath

from qa.ingest.corpus import FileId
from qa.store.base import KnownDocument


@dataclass(frozen=True)
class FileState:
    """A file to ingest, as planning sees it."""

    doc_id: str
    sha256: str
    root: str
    path: str = ""
    found: FileId | None = None  # the file it was when found: what reading it must open again


@dataclass
class Plan:
    to_index: list[FileState] = field(default_factory=list)  # new or changed: read, chunk, embed
    to_remove: list[str] = field(default_factory=list)  # gone from an ingested root
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: list[FileState] = field(default_factory=list)  # a second file claiming a taken id

    @property
    def removed(self) -> int:
        return len(self.to_remove)

    @property
    def changes(self) -> bool:
        return bool(self.to_index or self.to_remove)


def plan_changes(files: list[FileState], known: dict[str, KnownDocument], roots: set[str],
                 rechunk_all: bool = False, unreadable: frozenset[str] = frozenset()) -> Plan:
    """Compare files with what the store holds.

    - a file whose id the store lacks is added; one whose hash differs (or every file, when the
      chunking changed) is updated: it is indexed again and replaces its old version;
    - a known document from one of `roots`, or from a folder inside one, with no file any more
      is removed;
    - documents from other roots are left alone (ingesting one folder never drops another's),
      and so are documents whose file is there but could not be read (`unreadable` ids).
    Files that are known documents of another root are given their ids first: `same_files`.
    """
    plan = Plan()
    seen: set[str] = set()
    for state in files:
        if state.doc_id in seen:
            plan.duplicates.append(state)
            continue
        seen.add(state.doc_id)
        old = known.get(state.doc_id)
        if old is None:
            plan.added += 1
            plan.to_index.append(state)
        elif old.sha256 != state.sha256 or rechunk_all:
            plan.updated += 1
            plan.to_index.append(state)
        else:
            plan.unchanged += 1
    gone = sorted(d for d, old in known.items() if within(old.root, roots) and d not in seen and d not in unreadable)
    plan.to_remove += gone
    return plan


def within(root: str, roots: set[str]) -> bool:
    """Whether `root` is one of `roots` or a folder inside one."""
    return root in roots or any(PurePath(root).is_relative_to(r) for r in roots)


def same_files(files: list[FileState], known: dict[str, KnownDocument]) -> list[FileState]:
    """The files with the ids the index already gives them. A file's id is its path below the
    folder it was found in, so ingesting a parent of an ingested (or watched) folder would find
    that folder's "a.txt" again as "sub/a"; a file whose absolute path less its suffix is a known
    document's (its root / its id) is that document, under that id and root: unchanged when its
    hash is the stored one, else updated. When two files claim one document ("a.txt" and "a.md"
    for "a"), the one whose hash is the stored one does, else the first; the other keeps its own id."""
    by_path = {str(PurePath(k.root) / k.doc_id): k for k in known.values()}
    claims: dict[str, int] = {}
    for i, state in enumerate(files):
        old = by_path.get(str(PurePath(state.path).with_suffix(""))) if state.path else None
        if old is None or (old.doc_id, old.root) == (state.doc_id, state.root):
            continue
        first = claims.get(old.doc_id)
        if first is None or (files[first].sha256 != old.sha256 and state.sha256 == old.sha256):
            claims[old.doc_id] = i
    found = list(files)
    for doc_id, i in claims.items():
        found[i] = replace(files[i], doc_id=doc_id, root=known[doc_id].root)
    return found
