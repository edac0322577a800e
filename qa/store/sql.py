"""The reader queries both stores share, written once: SQLite (the folder store) and PostgreSQL
differ only in what a Dialect says (table names, the parameter mark, how a list is matched), and
in where a document's page starts live (`_pages`)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from qa.store.base import Sentence
from qa.types import Chunk, DocFields, Document, Filters

DOC_FIELDS = ("doc_id", "title", "source", "outlet", "date", "origin")


@dataclass(frozen=True)
class Dialect:
    prefix: str  # of every table name: "" in SQLite, "qa_" in PostgreSQL
    mark: str  # the parameter placeholder: "?" or "%s"
    arrays: bool  # a list is one array parameter (PostgreSQL: = ANY(%s)), else one mark per item
    no_limit: int | None  # what LIMIT takes for "all rows": SQLite refuses NULL there

    def table(self, name: str) -> str:
        return self.prefix + name

    def any_of(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """`column` is one of `values`, as SQL and its parameters."""
        if self.arrays:
            return f"{column} = ANY({self.mark})", [list(values)]
        return f"{column} IN ({','.join([self.mark] * len(values))})", list(values)


SQLITE = Dialect("", "?", arrays=False, no_limit=-1)
POSTGRES = Dialect("qa_", "%s", arrays=True, no_limit=None)


def filter_conditions(filters: Filters, dialect: Dialect) -> tuple[str, list]:
    """SQL conditions on the documents table (alias d) for the filters: outlets match without
    regard to case; a date bound excludes undated documents."""
    where, params = [], []

    def add(sql: str, values: list) -> None:
        where.append(sql)
        params.extend(values)

    if filters.outlets:
        add(*dialect.any_of("lower(d.outlet)", [o.lower() for o in filters.outlets]))
    if filters.doc_ids:
        add(*dialect.any_of("d.doc_id", list(filters.doc_ids)))
    if filters.date_from:
        add(f"d.date IS NOT NULL AND d.date >= {dialect.mark}", [filters.date_from])
    if filters.date_to:
        add(f"d.date IS NOT NULL AND d.date <= {dialect.mark}", [filters.date_to])
    return (" WHERE " + " AND ".join(where) if where else ""), params


class SqlReader:
    """The row reads of a store version. Subclasses set `dialect` and `_has_stories`, and give
    `_query(sql, params)` and `_pages(doc_ids)`."""

    dialect: Dialect
    _has_stories: bool

    def _query(self, sql: str, params: tuple = ()) -> list[Any]:
        raise NotImplementedError

    def _pages(self, doc_ids: list[str]) -> dict[str, tuple[int, ...]]:
        raise NotImplementedError

    def _t(self, name: str) -> str:
        return self.dialect.table(name)

    def chunks(self, ids: list[int]) -> dict[int, Chunk]:
        """Chunks by their index id."""
        if not ids:
            return {}
        match, params = self.dialect.any_of("id", [int(i) for i in ids])
        rows = self._query(f'SELECT id, doc_id, ordinal, start, "end", text FROM {self._t("chunks")} WHERE {match}',
                           tuple(params))
        return {r[0]: Chunk(*r[1:]) for r in rows}

    def sentences_in(self, spans: list[tuple[str, int, int]]) -> list[list[Sentence]]:
        """The stored sentences inside each (doc_id, start, end), in text order, in one query."""
        if not spans:
            return []
        m = self.dialect.mark
        values = ", ".join([f"({m}, {m}, {m}, {m})"] * len(spans))
        rows = self._query(f'WITH p(i, doc_id, lo, hi) AS (VALUES {values}) '
                           f'SELECT p.i, s.id, s.doc_id, s.start, s."end" FROM p '
                           f'JOIN {self._t("sentences")} s ON s.doc_id = p.doc_id '
                           'AND s.start >= p.lo AND s.start < p.hi AND s."end" <= p.hi ORDER BY p.i, s.start',
                           tuple(v for i, span in enumerate(spans) for v in (i, *span)))
        out: list[list[Sentence]] = [[] for _ in spans]
        for i, *fields in rows:
            out[i].append(Sentence(*fields))
        return out

    def document(self, doc_id: str) -> Document | None:
        rows = self._query("SELECT doc_id, source, text, title, outlet, date, sha256, root, origin "
                           f"FROM {self._t('documents')} WHERE doc_id = {self.dialect.mark}", (doc_id,))
        if not rows:
            return None
        fields = rows[0]
        return Document(fields[0], fields[1], fields[2], fields[3], fields[4], fields[5], fields[6], fields[7],
                        fields[8], pages=self._pages([doc_id]).get(doc_id, ()))

    def doc_fields(self, doc_ids: list[str]) -> dict[str, DocFields]:
        """title, source, outlet and date of documents, without their text."""
        if not doc_ids:
            return {}
        match, params = self.dialect.any_of("doc_id", list(doc_ids))
        rows = self._query(f"SELECT {', '.join(DOC_FIELDS)} FROM {self._t('documents')} WHERE {match}", tuple(params))
        pages = self._pages([r[0] for r in rows]) if rows else {}
        return {r[0]: _doc_fields(r, pages) for r in rows}

    def documents(self, limit: int | None = None, offset: int = 0) -> list[DocFields]:
        """Documents in id order, with their chunk counts."""
        m = self.dialect.mark
        rows = self._query(
            f"SELECT {', '.join('d.' + f for f in DOC_FIELDS)}, "
            f"(SELECT COUNT(*) FROM {self._t('chunks')} c WHERE c.doc_id = d.doc_id) FROM {self._t('documents')} d "
            f"ORDER BY d.doc_id LIMIT {m} OFFSET {m}", (self.dialect.no_limit if limit is None else limit, offset))
        pages = self._pages([r[0] for r in rows]) if rows else {}
        return [_doc_fields(r, pages) for r in rows]

    def chunk_ids_matching(self, filters: Filters) -> np.ndarray:
        """The ids of the chunks whose documents pass the filters."""
        where, params = filter_conditions(filters, self.dialect)
        rows = self._query(f"SELECT c.id FROM {self._t('chunks')} c JOIN {self._t('documents')} d "
                           "ON d.doc_id = c.doc_id" + where, tuple(params))
        return np.array([r[0] for r in rows], dtype=np.int64)

    def chunk_dates(self, ids: list[int]) -> dict[int, str | None]:
        """The date of each chunk's document, by chunk id."""
        if not ids:
            return {}
        match, params = self.dialect.any_of("c.id", [int(i) for i in ids])
        return dict(self._query(f"SELECT c.id, d.date FROM {self._t('chunks')} c JOIN {self._t('documents')} d "
                                f"ON d.doc_id = c.doc_id WHERE {match}", tuple(params)))

    def undated_chunk_ids(self) -> np.ndarray:
        rows = self._query(f"SELECT c.id FROM {self._t('chunks')} c JOIN {self._t('documents')} d "
                           "ON d.doc_id = c.doc_id WHERE d.date IS NULL")
        return np.array([r[0] for r in rows], dtype=np.int64)

    def newest_date(self) -> str | None:
        return self._query(f"SELECT MAX(date) FROM {self._t('documents')}")[0][0]

    def stories_of(self, doc_ids: list[str]) -> dict[str, str]:
        """The story of each document that has one (near-duplicates share it)."""
        if not (doc_ids and self._has_stories):
            return {}
        match, params = self.dialect.any_of("doc_id", list(doc_ids))
        return dict(self._query(f"SELECT doc_id, story FROM {self._t('stories')} WHERE {match}", tuple(params)))

    def story_members(self, stories: list[str]) -> dict[str, list[DocFields]]:
        """The documents of each story, oldest first."""
        if not (stories and self._has_stories):
            return {}
        match, params = self.dialect.any_of("s.story", list(stories))
        rows = self._query(f"SELECT s.story, {', '.join('d.' + f for f in DOC_FIELDS)} FROM {self._t('stories')} s "
                           f"JOIN {self._t('documents')} d ON d.doc_id = s.doc_id WHERE {match} "
                           "ORDER BY d.date, d.doc_id", tuple(params))
        members: dict[str, list[DocFields]] = {}
        for story, *fields in rows:
            members.setdefault(story, []).append(DocFields(*fields))
        return members


def _doc_fields(row: Sequence[Any], pages: dict[str, tuple[int, ...]]) -> DocFields:
    """A documents row (DOC_FIELDS, then a chunk count when there is one) as DocFields."""
    chunks = int(row[len(DOC_FIELDS)]) if len(row) > len(DOC_FIELDS) else 0
    doc_id, title, source, outlet, date, origin = row[:len(DOC_FIELDS)]
    return DocFields(doc_id, title, source, outlet, date, origin, chunks=chunks, pages=pages.get(doc_id, ()))
