"""Suite ``read_content``: the live rows of ``index_content`` against the write model.

Only pages, posts and topics are roots with documents; comments and replies count
into their root's ``reply_count``.
"""

from __future__ import annotations

from contracts.expectations.base import Scope, SqlSuite
from contracts.expectations.read_rows import ReadTable, read_row_expectations

CONTENT = ReadTable(
    doc_type="content", table="index_content", id_column="node_id",
    source="nodes", roots="s.kind IN ('page', 'post', 'topic')", name_field="slug",
)


def content_read_suite(scope: Scope) -> SqlSuite:
    return SqlSuite(
        name="read_content",
        query=CONTENT.batch_query(scope),
        expectations=tuple(read_row_expectations(CONTENT, scope)),
    )
