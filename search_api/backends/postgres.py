"""Search on the PostgreSQL read tables: tsvector + GIN, JSONB filters, exact counts.

Full text uses the locale's text search configuration (the same one the generated
``search_vector`` was built with), the last term as a prefix, phrases as ``<->``.
What it does not do: typo tolerance (no fuzzy matching in core PostgreSQL), so a
misspelt word finds nothing here while Tantivy finds it. Relevance is ``ts_rank``
with the column weights of migration 0006 (title A, subtitle/tags/categories B,
vendor C, description D).
"""

from __future__ import annotations

import logging
from typing import Any

import orjson

from search_api.backends import pg_sql
from search_api.backends.base import FacetValue, Hit, Scope, SearchResult, next_cursor, sort_facet
from search_api.db import Database
from search_api.query import DocType, SearchRequest

log = logging.getLogger(__name__)


class PostgresBackend:
    name = "postgres"

    def __init__(self, database: Database) -> None:
        self._db = database

    def answers_from_memory(self, doc_type: DocType) -> bool:
        return False  # every search is a database query

    def search(self, scope: Scope, request: SearchRequest) -> SearchResult:
        table = pg_sql.PRODUCTS if request.doc_type == "product" else pg_sql.CONTENT
        where = pg_sql.request_where(table, scope, request)
        total, facets = self._totals(table, where, request)
        hits = self._hits(table, where, request) if total else []
        return SearchResult(total=total, hits=hits, facets=facets, next_cursor=next_cursor(request, hits, total))

    def _totals(self, table: pg_sql.Table, where: pg_sql.Where,
                request: SearchRequest) -> tuple[int, dict[str, list[FacetValue]]]:
        sql, params = pg_sql.totals_and_facets_sql(table, where, request.facets)
        total, counts = 0, [dict[str, int]() for _ in request.facets]
        for position, value, count in self._db.fetch_all(sql, params):
            if position < 0:
                total = int(count)
            else:
                counts[position][str(value)] = int(count)
        facets = {name: sort_facet(counts[i], request.facet_size) for i, name in enumerate(request.facets)}
        return total, facets

    def _hits(self, table: pg_sql.Table, where: pg_sql.Where, request: SearchRequest) -> list[Hit]:
        sql, params = where.render()
        cursor = request.page.cursor
        if request.sort == "relevance":
            rank, rank_params = "ts_rank(search_vector, to_tsquery(%s::regconfig, %s))", where.clauses["_text"][1]
            order, offset = f"{rank} DESC, {table.id_column}", (cursor.offset if cursor else request.page.offset)
            select = f"SELECT {table.id_column}::text, document::text, {rank}"
            all_params = [*rank_params, *params, *rank_params, request.page.limit, offset]
        else:
            key_sql, key_params = pg_sql.sort_expression(request)
            direction = "DESC" if pg_sql.descending(request) else "ASC"
            if cursor is not None and cursor.key is None:
                sql += f" AND {key_sql} IS NULL AND {table.id_column} > %s::uuid"
                params = [*params, *key_params, cursor.id]
            elif cursor is not None:
                op = "<" if direction == "DESC" else ">"
                sql += (f" AND ({key_sql} {op} %s OR {key_sql} IS NULL"
                        f" OR ({key_sql} = %s AND {table.id_column} > %s::uuid))")
                params = [*params, *key_params, cursor.key, *key_params, *key_params, cursor.key, cursor.id]
            order = f"{key_sql} {direction} NULLS LAST, {table.id_column}"
            offset = 0 if cursor else request.page.offset
            select = f"SELECT {table.id_column}::text, document::text, {key_sql}"
            all_params = [*key_params, *params, *key_params, request.page.limit, offset]
        rows = self._db.fetch_all(f"{select} FROM {table.name} WHERE {sql} ORDER BY {order} LIMIT %s OFFSET %s",
                                  all_params)
        relevance = request.sort == "relevance"
        return [Hit(id=row[0], document=orjson.loads(row[1]), score=float(row[2]) if relevance else None,
                    sort_key=None if relevance or row[2] is None else (row[2] if isinstance(row[2], str) else int(row[2])))
                for row in rows]

    def suggest(self, scope: Scope, doc_type: DocType, prefix: str, limit: int) -> list[str]:
        table = pg_sql.PRODUCTS if doc_type == "product" else pg_sql.CONTENT
        sql, params = pg_sql.scope_where(table, scope).render()
        pattern = _like_escape(prefix.strip().lower())
        rows = self._db.fetch_all(
            f"SELECT document->>'title' AS t FROM {table.name} WHERE {sql} AND document->>'title' IS NOT NULL"
            " AND (lower(document->>'title') LIKE %s OR lower(document->>'title') LIKE %s)"
            " ORDER BY lower(document->>'title') NOT LIKE %s, lower(document->>'title') COLLATE \"C\" LIMIT %s",
            [*params, pattern + "%", "% " + pattern + "%", pattern + "%", limit])
        return list(dict.fromkeys(str(r[0]) for r in rows))

    def close(self) -> None:
        """The database is shared with the document store; the app closes it."""


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
