"""consumer_offsets: the next Kafka offset each consumer has durably applied, per partition

Revision ID: 0012
Revises: 0011

Faust can commit a consumer group's offsets past records its agents never received
(``pipelines.faust_app.gaps``). The Faust index stage has no state of its own to keep
its true position in, so it keeps it here, written after every sink has flushed a
batch: a later process compares what Kafka delivers with it and reads what was
skipped. One row per consumer group, topic and partition.
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE consumer_offsets (
            consumer     varchar(255) NOT NULL,
            topic        varchar(255) NOT NULL,
            partition    integer NOT NULL CHECK (partition >= 0),
            next_offset  bigint NOT NULL CHECK (next_offset >= 0),
            updated_at   timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (consumer, topic, partition)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE consumer_offsets")
