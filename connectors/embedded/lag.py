"""How far a replication slot is behind, and how much WAL it may still pin.

What happens at ``max_slot_wal_keep_size``
------------------------------------------

A logical slot keeps every WAL segment from its ``restart_lsn`` on, so a consumer that
stops confirming makes WAL pile up. PostgreSQL bounds that with
``max_slot_wal_keep_size`` (RusToK's embedded server sets 4GB): ``pg_replication_slots``
shows the slot's ``wal_status`` go ``reserved`` → ``extended`` (beyond ``max_wal_size``)
→ ``unreserved`` (beyond the limit: the next checkpoint may remove its WAL), and
``safe_wal_size`` (bytes that may still be written before that happens) shrink to zero
and below. At the next checkpoint past the limit the server terminates the walsender
streaming from the slot and marks it ``lost``: the changes it had not confirmed are
gone for good. The connector then fails with :class:`~.errors.SlotInvalidated` (at
``start`` and while streaming) telling the operator that a new snapshot is required:
drop the slot, reset the consumer's state, and start again (which snapshots).

:attr:`SlotLag.at_risk` turns true before that point (``unreserved``, or less than
:data:`RISK_FRACTION` of the limit left), and :meth:`EmbeddedConnector.lag` logs a
warning when it is, so monitoring can page someone while the slot can still be saved.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from itertools import count

import psycopg

from .errors import SlotError

# Warn when less than this share of max_slot_wal_keep_size is left before invalidation.
RISK_FRACTION = 0.2

_LAG_SQL = """
SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn)::bigint,
       s.wal_status, s.safe_wal_size, s.active,
       EXTRACT(EPOCH FROM (now() - r.reply_time))::float8,
       pg_size_bytes(current_setting('max_slot_wal_keep_size'))
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
        max_slot_wal_keep_size: the server's limit in bytes (None when unlimited).
    """

    slot_name: str
    bytes_behind: int | None
    seconds_since_confirm: float | None
    wal_status: str | None
    safe_wal_size: int | None
    active: bool
    max_slot_wal_keep_size: int | None = None

    @property
    def lost(self) -> bool:
        return self.wal_status == "lost"

    @property
    def at_risk(self) -> bool:
        """True when the slot is close to (or past) being invalidated."""
        if self.wal_status in ("unreserved", "lost"):
            return True
        if self.safe_wal_size is None or self.max_slot_wal_keep_size is None:
            return False
        return self.safe_wal_size < self.max_slot_wal_keep_size * RISK_FRACTION

    def describe(self) -> str:
        return (
            f"slot {self.slot_name!r}: {self.bytes_behind} bytes behind, wal_status {self.wal_status}, "
            f"{self.safe_wal_size} bytes of WAL left before max_slot_wal_keep_size "
            f"({self.max_slot_wal_keep_size}) invalidates it"
        )


def read_slot_lag(
    conn: psycopg.Connection[tuple[object, ...]], slot_name: str, seconds_since_confirm: float | None = None
) -> SlotLag:
    row = conn.execute(_LAG_SQL, (slot_name,)).fetchone()
    if row is None:
        raise SlotError(f"replication slot {slot_name!r} does not exist")
    behind, wal_status, safe_wal_size, active, since_reply, keep = row
    if seconds_since_confirm is None and since_reply is not None:
        seconds_since_confirm = float(str(since_reply))
    keep_bytes = None if keep is None or int(str(keep)) < 0 else int(str(keep))
    return SlotLag(
        slot_name=slot_name,
        bytes_behind=None if behind is None else int(str(behind)),
        seconds_since_confirm=seconds_since_confirm,
        wal_status=None if wal_status is None else str(wal_status),
        safe_wal_size=None if safe_wal_size is None else int(str(safe_wal_size)),
        active=bool(active),
        max_slot_wal_keep_size=keep_bytes,
    )


def confirmed_flush_lsn(conn: psycopg.Connection[tuple[object, ...]], slot_name: str) -> int | None:
    """The slot's confirmed position (what its consumer last reported durable), or None."""
    row = conn.execute(
        "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = %s", (slot_name,)
    ).fetchone()
    if row is None or row[0] is None:
        return None
    high, _, low = str(row[0]).partition("/")
    return (int(high, 16) << 32) | int(low, 16)


MAX_COUNTED = 1_000_000
_COPY = "SELECT pg_copy_logical_replication_slot(%s, %s, true)"
# pgoutput message types that carry row changes: Insert, Update, Delete, Truncate.
_PENDING = """
SELECT lsn - '0/0'::pg_lsn FROM pg_logical_slot_peek_binary_changes(
    %s, NULL, %s, 'proto_version', '1', 'publication_names', %s)
 WHERE get_byte(data, 0) IN (73, 85, 68, 84)
"""
_copies = count()


def pending_changes(conn: psycopg.Connection[tuple[object, ...]], slot: str, publication: str = "rustok_cdc"
                    ) -> list[int] | None:
    """The LSNs of the row changes ``slot`` has not confirmed yet, up to ``MAX_COUNTED``
    (None if it cannot be read).

    A slot that is being streamed cannot be peeked, so a temporary copy at the same
    confirmed position is (``pg_copy_logical_replication_slot``), counting pgoutput's
    Insert, Update, Delete and Truncate messages. Decoding costs time in proportion to
    what the slot holds."""
    copy = f"rustok_lag_{os.getpid()}_{next(_copies)}"
    try:
        conn.execute(_COPY, (slot, copy))
        rows = conn.execute(_PENDING, (copy, MAX_COUNTED, publication)).fetchall()
        return [int(str(r[0])) for r in rows]
    except psycopg.Error:
        conn.rollback()
        return None
    finally:
        try:
            conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = %s",
                         (copy,))
            conn.commit()
        except psycopg.Error:
            conn.rollback()
