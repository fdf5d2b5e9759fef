"""keep read-table documents inline and uncompressed

Revision ID: 0014
Revises: 0013

A product document is about 2 KB of JSON, so most rows of the read tables passed
PostgreSQL's default toast threshold (about 2 KB a tuple): every write compressed the
document with pglz, and every read of it, the stored tsvector's six ``document->>``
lookups included, decompressed it again. pglz was the largest single item of the
server's CPU while a rebuild wrote the read tables. With ``toast_tuple_target`` at its
maximum a row is only compressed or moved out of line when it would not fit in a page.
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TABLES = ("index_products", "index_content")


def upgrade() -> None:
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} SET (toast_tuple_target = 8160)")


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} RESET (toast_tuple_target)")
