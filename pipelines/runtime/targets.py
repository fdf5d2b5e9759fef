"""Which index version each pipeline writes, and from which source position on.

A replay builds a new index version beside the live one and switches the alias; the
live pipeline then follows the alias to the new version. The replay may stop writing
only once it has applied everything the live pipeline wrote to the *old* version, so
the live pipeline records here, per document type, the version it writes and
``since_lsn``: every commit above it goes to that version, every commit at or below
it went to the previous one.

Both tables (``rustok_pipeline_targets`` and ``rustok_index_builds``, what a replay
built each version through) come from migration 0010.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from pipelines.model import DocType

_UPSERT = """
INSERT INTO rustok_pipeline_targets AS t (pipeline, doc_type, index_version, since_lsn)
VALUES (%s, %s, %s, %s)
ON CONFLICT (pipeline, doc_type) DO UPDATE SET
    index_version = excluded.index_version, since_lsn = excluded.since_lsn, updated_at = now()
WHERE t.index_version <> excluded.index_version
"""


@dataclass(frozen=True, slots=True)
class Target:
    index_version: int
    since_lsn: int


def record_targets(database_url: str, pipeline: str, versions: dict[DocType, int], since_lsn: int) -> None:
    """Record that ``pipeline`` writes ``versions`` for commits above ``since_lsn``
    (a doc type whose version did not change keeps its earlier ``since_lsn``)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        for doc_type, version in versions.items():
            conn.execute(_UPSERT, (pipeline, doc_type, version, since_lsn))


def load_targets(database_url: str, pipeline: str) -> dict[DocType, Target]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = conn.execute("SELECT doc_type, index_version, since_lsn FROM rustok_pipeline_targets"
                            " WHERE pipeline = %s", (pipeline,)).fetchall()
    out: dict[DocType, Target] = {}
    for doc_type, version, since in rows:
        if doc_type in ("product", "content") and isinstance(version, int) and isinstance(since, int):
            out[doc_type] = Target(version, since)
    return out


def read_aliases(conn: psycopg.Connection[tuple[object, ...]]) -> dict[DocType, int]:
    """Every document type's live version, in one cheap query."""
    rows = conn.execute("SELECT doc_type, live_version FROM read_model_aliases").fetchall()
    return {doc_type: version for doc_type, version in rows
            if doc_type in ("product", "content") and isinstance(version, int)}


def record_build(conn: psycopg.Connection[tuple[object, ...]], doc_type: DocType, version: int, built_through: int,
                 built_by: str) -> None:
    """Inside the switch's transaction: ``version`` holds every commit at or below ``built_through``."""
    conn.execute(
        "INSERT INTO rustok_index_builds (doc_type, index_version, built_through_lsn, built_by) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (doc_type, index_version) DO UPDATE SET built_through_lsn = excluded.built_through_lsn,"
        " built_by = excluded.built_by, created_at = now()", (doc_type, version, built_through, built_by))


def built_through(database_url: str, versions: dict[DocType, int]) -> dict[DocType, int]:
    """For each (doc type, version) a replay built, the position it was built through."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        out: dict[DocType, int] = {}
        for doc_type, version in versions.items():
            row = conn.execute("SELECT built_through_lsn FROM rustok_index_builds WHERE doc_type = %s"
                               " AND index_version = %s", (doc_type, version)).fetchone()
            if row is not None and isinstance(row[0], int):
                out[doc_type] = row[0]
    return out
