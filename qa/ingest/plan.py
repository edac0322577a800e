"""Planning an ingest: which documents to (re)index, keep or remove, from content hashes alone.

Pure: no files, no store. The ingestor gathers the files' hashes and the store's known
documents, asks for a plan, then applies it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

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
    - a known document from one of `roots` with no file any more is removed;
    - documents from other roots are left alone (ingesting one folder never drops another's),
      and so are documents whose file is there but could not be read (`unreadable` ids).
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
    gone = sorted(d for d, old in known.items() if old.root in roots and d not in seen and d not in unreadable)
    plan.to_remove += gone
    return plan
