"""Full-text search over transcripts and course materials, on SQLite (FTS5) and PostgreSQL.

The indexes are built by migration 0011: FTS5 tables kept in step by triggers on SQLite,
GIN indexes on ``to_tsvector('english', …)`` on PostgreSQL. Both stem English words.
"""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, Select, func, literal_column, select, text

from core.uow import UnitOfWork

# Searched tables and the columns that make their document (order matters for FTS5).
SEARCHED: dict[str, tuple[str, ...]] = {
    "transcript": ("body",),
    "course_material": ("title", "body"),
}
_WORD = re.compile(r"\w+", re.UNICODE)
MAX_WORDS = 8


def is_search_table(name: str) -> bool:
    """FTS5's own tables (``<table>_fts`` and its shadows) and the PostgreSQL search
    indexes (``ix_<table>_search``), which no model declares."""
    return any(name in (f"{t}_fts", f"ix_{t}_search") or name.startswith(f"{t}_fts_")
               for t in SEARCHED)


def search_words(query: str) -> list[str]:
    """The words of a query, lower-cased; punctuation and operators are dropped."""
    return [w.lower() for w in _WORD.findall(query or "")][:MAX_WORDS]


def matching_ids(uow: UnitOfWork, table: str, words: list[str]) -> Select[int, float]:
    """``select(id, rank)`` of rows containing every word, best first (needs words)."""
    columns = SEARCHED[table]
    if uow.dialect == "postgresql":
        document = func.to_tsvector(literal_column("'english'"), literal_column(
            " || ' ' || ".join(f"{table}.{c}" for c in columns)))
        query = func.plainto_tsquery(literal_column("'english'"), " ".join(words))
        rank: ColumnElement[float] = func.ts_rank(document, query)
        row_id: ColumnElement[int] = literal_column(f"{table}.id")
        hits: Select[int, float] = (
            select(row_id.label("id"), rank.label("rank"))
            .select_from(text(table)).where(document.op("@@")(query))
            .order_by(rank.desc()))
        return hits
    # FTS5 syntax: each word quoted (a phrase of one word), all of them required.
    match = " ".join('"' + w.replace('"', "") + '"' for w in words)
    fts = f"{table}_fts"
    rowid: ColumnElement[int] = literal_column("rowid")
    fts_rank: ColumnElement[float] = literal_column("rank")
    found: Select[int, float] = (
        select(rowid.label("id"), fts_rank.label("rank"))
        .select_from(text(fts)).where(literal_column(fts).op("MATCH")(match))
        .order_by(literal_column("rank")))
    return found
