"""How far a replication slot is behind, and how much WAL it may still pin."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from .errors import SlotError

_LAG_SQL = """
SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn)::bigint,
       s.wal_status, s.safe_wal_size, s.active,
       EXTRACT(EPOCH FROM (now() - r.reply_time))::float8
  FROM pg_replication_slots s
  LEFT JOIN pg_stat_replication r ON r.pid = s.active_pid
 WHERE s.slot_name = %s
"""


@dataclass(frozen=True, slots=True)
class SlotLag:
    """A slot's lag.

    Parameters:
        bytes_behind: WAL bytes between the server's current position and the slot's
            confirmed flush position.
        seconds_since_confirm: seconds since the consumer side last moved the confirmed
            position (from the connector when it reports itself, else since the last
            status update the server saw); None when unknown.
        wal_status: ``reserved``, ``extended``, ``unreserved`` or ``lost``.
        safe_wal_size: bytes of WAL that can still be written before the slot risks
            being invalidated (None without ``max_slot_wal_keep_size``).
    """

    slot_name: str
    bytes_behind: int | None
    seconds_since_confirm: float | None
    wal_status: str | None
    safe_wal_size: int | None
    active: bool


def read_slot_lag(
    conn: psycopg.Connection[tuple[object, ...]], slot_name: str, seconds_since_confirm: float | None = None
) -> SlotLag:
    row = conn.execute(_LAG_SQL, (slot_name,)).fetchone()
    if row is None:
        raise SlotError(f"replication slot {slot_name!r} does not exist")
    behind, wal_status, safe_wal_size, active, since_reply = row
    if seconds_since_confirm is None and since_reply is not None:
        seconds_since_confirm = float(str(since_reply))
    return SlotLag(
        slot_name=slot_name,
        bytes_behind=None if behind is None else int(str(behind)),
        seconds_since_confirm=seconds_since_confirm,
        wal_status=None if wal_status is None else str(wal_status),
        safe_wal_size=None if safe_wal_size is None else int(str(safe_wal_size)),
        active=bool(active),
    )
