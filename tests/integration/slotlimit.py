"""A PostgreSQL whose slots may pin 1MB of WAL, and how to push a slot past that.

WAL written and switched past a slot's segment, then a CHECKPOINT, gets the slot
invalidated (``wal_status = 'lost'``) within a second, which on a real server takes GBs.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from connectors.embedded.lag import read_slot_lag
from rustok.postgres import EmbeddedPostgres, ServerInfo

SMALL_SLOT_SETTINGS = {
    "max_slot_wal_keep_size": "'1MB'", "max_wal_size": "'32MB'", "min_wal_size": "'32MB'",
    "shared_buffers": "'32MB'", "checkpoint_timeout": "'1h'",
}


@contextmanager
def small_slot_server(port: int) -> Iterator[ServerInfo]:
    root = Path(tempfile.mkdtemp(prefix="rustok-slot-keep-"))
    server = EmbeddedPostgres(root / "pg", preferred_port=port, settings=SMALL_SLOT_SETTINGS)
    try:
        yield server.start()
    finally:
        server.destroy()


def push_wal_past_the_slot(url: str, checkpoint: bool = True) -> None:
    """Write ~2MB of WAL over a couple of segment switches; CHECKPOINT removes the old segments."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS wal_filler (id bigserial PRIMARY KEY, payload text)")
        for _ in range(2):
            conn.execute("INSERT INTO wal_filler (payload) SELECT repeat(md5(g::text), 30) FROM generate_series(1, 1000) g")
            conn.execute("SELECT pg_switch_wal()")
        if checkpoint:
            conn.execute("CHECKPOINT")


def slot_status(url: str, slot: str) -> tuple[str, int | None]:
    with psycopg.connect(url, autocommit=True) as conn:
        lag = read_slot_lag(conn, slot)
    assert lag.wal_status is not None
    return lag.wal_status, lag.safe_wal_size
