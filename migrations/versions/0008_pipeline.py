"""pipeline bookkeeping: checkpoints (processed source positions) and the dead-letter table

Revision ID: 0008
Revises: 0007

``pipeline_checkpoints`` holds, per pipeline, the source position whose effects every
sink has made durable; the search API reads ``applied_commit_lsn`` to answer
``min_version`` (read-your-writes). ``dead_letters`` is the embedded runtime's DLQ: the
original payload, where it came from and why it failed; ``rustok dlq retry`` marks letters
``queued`` and the running pipeline feeds them through again (``retried`` on success,
back to ``open`` with one more attempt on failure); ``dropped`` ones are kept for the record.
Neither table is captured.
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE pipeline_checkpoints (
            pipeline            varchar(64) PRIMARY KEY,
            applied_commit_lsn  bigint NOT NULL DEFAULT 0 CHECK (applied_commit_lsn >= 0),
            applied_commit_at   timestamptz,
            events_applied      bigint NOT NULL DEFAULT 0,
            updated_at          timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE dead_letters (
            id              bigserial PRIMARY KEY,
            pipeline        varchar(64) NOT NULL,
            stage           varchar(32) NOT NULL,
            topic           varchar(255) NOT NULL,
            event_key       text,
            payload         text NOT NULL,
            reason          text NOT NULL,
            error_type      varchar(128) NOT NULL,
            source_lsn      bigint,
            status          varchar(16) NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'queued', 'retried', 'dropped')),
            attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
            created_at      timestamptz NOT NULL DEFAULT now(),
            retried_at      timestamptz
        );
        CREATE INDEX ix_dead_letters_open ON dead_letters (pipeline, status, id);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE dead_letters; DROP TABLE pipeline_checkpoints;")
