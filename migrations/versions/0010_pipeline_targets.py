"""pipeline targets and index builds: the bookkeeping of replays and their handover

Revision ID: 0010
Revises: 0009

A replay builds a new index version beside the live one and switches the alias;
``rustok_index_builds`` records, per (doc type, version), the source position the
version was built through (every commit at or below it is in the version).
``rustok_pipeline_targets`` records, per live pipeline and doc type, the version it
writes and ``since_lsn``: every commit above it goes to that version (the live pipeline
writes this once it has followed a switch, so the replay knows it may drop the old
version). Neither table is captured.
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS rustok_pipeline_targets (
            pipeline        varchar(64) NOT NULL,
            doc_type        varchar(16) NOT NULL CHECK (doc_type IN ('product', 'content')),
            index_version   integer NOT NULL CHECK (index_version >= 1),
            since_lsn       bigint NOT NULL CHECK (since_lsn >= 0),
            updated_at      timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (pipeline, doc_type)
        );
        CREATE TABLE IF NOT EXISTS rustok_index_builds (
            doc_type            varchar(16) NOT NULL CHECK (doc_type IN ('product', 'content')),
            index_version       integer NOT NULL CHECK (index_version >= 1),
            built_through_lsn   bigint NOT NULL CHECK (built_through_lsn >= 0),
            built_by            varchar(128) NOT NULL,
            created_at          timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (doc_type, index_version)
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE rustok_index_builds; DROP TABLE rustok_pipeline_targets;")
