"""Reading an archive back in source order, a bounded slice at a time.

Order: snapshot reads first (they share the snapshot's consistent point; streamed in
archive order, since the projection core absorbs them all before building), then the
streamed changes one commit date at a time, each day sorted by LSN, order inside the
transaction and archive order. Memory is bounded by the largest day, not the archive.
Rows an interrupted archive run wrote twice are dropped within the day (and would be
harmless anyway: the core's state is versioned).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from .rows import SCHEMA, identity

_PARTITIONING = ds.partitioning(pa.schema([("table", pa.string()), ("date", pa.string())]), flavor="hive")
_DATASET_SCHEMA = SCHEMA.append(pa.field("date", pa.string()))
_DATE = re.compile(r"/date=(\d{4}-\d{2}-\d{2})/")
_ORDER = [("lsn", "ascending"), ("total_order", "ascending"), ("seq", "ascending")]
BATCH = 5000


class ArchiveReader:
    """Parameters:
    root: the archive directory.
    until: only changes committed at or before this moment (aware, UTC); None: all.
    tenant: only this tenant's rows (and rows of tables without a tenant); None: all.
    """

    def __init__(self, root: Path, until: datetime | None, tenant: str | None) -> None:
        self._dataset = ds.dataset(root, format="parquet", partitioning=_PARTITIONING, schema=_DATASET_SCHEMA)
        self._until = until
        scope = ds.scalar(True)
        if tenant is not None:
            scope = (ds.field("tenant_id") == tenant) | ds.field("tenant_id").is_null()
        self._scope = scope

    def snapshot_taken(self) -> datetime | None:
        """When the newest snapshot read in the archive was taken."""
        stamps = self._dataset.to_table(columns=["commit_ts"], filter=ds.field("snapshot").is_valid())
        taken = pc.max(stamps["commit_ts"]).as_py() if stamps.num_rows else None
        return None if taken is None else taken.astimezone(UTC)

    def batches(self) -> Iterator[list[dict[str, Any]]]:
        """Lists of at most ``BATCH`` archive rows, in source order."""
        snapshot = self._dataset.to_batches(filter=ds.field("snapshot").is_valid() & self._scope, batch_size=BATCH)
        for batch in snapshot:
            if batch.num_rows:
                yield batch.to_pylist()
        for day in self._days():
            yield from _slices(_unique(self._day(day).sort_by(_ORDER).to_pylist()))

    def _days(self) -> list[str]:
        days = {match.group(1) for path in self._dataset.files if (match := _DATE.search(path))}
        last = None if self._until is None else self._until.date().isoformat()
        return sorted(day for day in days if last is None or day <= last)

    def _day(self, day: str) -> pa.Table:
        keep = (ds.field("date") == day) & ds.field("snapshot").is_null() & self._scope
        if self._until is not None:
            keep = keep & (ds.field("commit_ts") <= pa.scalar(self._until, pa.timestamp("us", "UTC")))
        return self._dataset.to_table(filter=keep)


def _unique(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[tuple[Any, ...]] = set()
    kept = []
    for row in rows:
        key = identity(row)
        if key not in seen:
            seen.add(key)
            kept.append(row)
    return kept


def _slices(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start:start + BATCH]
