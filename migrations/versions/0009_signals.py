"""signals: Debezium's signal table and the progress of incremental snapshots

Revision ID: 0009
Revises: 0008

``rustok_signals`` has the column layout Debezium's source signalling channel requires
(id, type, data). It joins the publication ``rustok_cdc`` because both Debezium and the
embedded connector learn of signals, and of their own snapshot-window markers, from the
change stream itself (the DBLog watermark algorithm depends on it). Its change events are
routed away from the data pipeline (see ``pipelines.core.tables.IGNORED``).

``rustok_snapshot_progress`` is not captured: the embedded connector records how far each
requested incremental snapshot has got, per table (rows read of the rows counted when it
started; ``error`` when the table could not be read, e.g. a bad filter), for ``rustok
snapshot`` to show.
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE rustok_signals (
            id    varchar(64) PRIMARY KEY,
            type  varchar(32) NOT NULL,
            data  text
        );
        ALTER PUBLICATION rustok_cdc ADD TABLE rustok_signals;
        CREATE TABLE rustok_snapshot_progress (
            signal_id    varchar(64) NOT NULL,
            collection   varchar(255) NOT NULL,
            rows_total   bigint NOT NULL DEFAULT 0 CHECK (rows_total >= 0),
            rows_done    bigint NOT NULL DEFAULT 0 CHECK (rows_done >= 0),
            started_at   timestamptz NOT NULL DEFAULT now(),
            updated_at   timestamptz NOT NULL DEFAULT now(),
            finished_at  timestamptz,
            error        text,
            PRIMARY KEY (signal_id, collection)
        );
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE rustok_snapshot_progress;
        ALTER PUBLICATION rustok_cdc DROP TABLE rustok_signals;
        DROP TABLE rustok_signals;
        """
    )
