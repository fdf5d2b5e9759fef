"""The archive on disk: hive-partitioned Parquet parts and a small manifest.

Layout::

    DIR/_manifest.json
    DIR/table=<table>/date=<YYYY-MM-DD of commit>/part-<first lsn>-<last lsn>.parquet

A part is written under a dot-prefixed temporary name (which ``pyarrow.dataset``
ignores), fsynced, then renamed, and its directory fsynced: a part is either whole or
absent. The manifest is replaced the same way after the parts of a flush, and it is
what a source resumes from (the durable LSN, or Kafka offsets); a crash between the
parts and the manifest only repeats events on the next run, which readers
de-duplicate.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from .errors import ArchiveLayoutError
from .rows import SCHEMA

log = logging.getLogger(__name__)

MANIFEST = "_manifest.json"
FORMAT = 1


@dataclass
class PartInfo:
    path: str
    table: str
    date: str
    events: int
    first_lsn: int | None
    last_lsn: int | None
    min_commit_ts: str
    max_commit_ts: str


@dataclass
class Manifest:
    """What the archive holds and where its source continues.

    ``durable_lsn`` (embedded source): every transaction committed at or below it is in
    the parts; None until the initial snapshot is complete. ``offsets`` (Kafka source):
    the next offset to read per ``topic:partition``.
    """

    source: str | None = None
    slot: str | None = None
    durable_lsn: int | None = None
    offsets: dict[str, int] = field(default_factory=dict)
    next_seq: int = 0
    parts: list[PartInfo] = field(default_factory=list)

    @property
    def events(self) -> int:
        return sum(part.events for part in self.parts)

    def to_json(self) -> dict[str, Any]:
        lsns = [lsn for p in self.parts for lsn in (p.first_lsn, p.last_lsn) if lsn is not None]
        return {
            "format": FORMAT, "source": self.source, "slot": self.slot, "durable_lsn": self.durable_lsn,
            "offsets": self.offsets, "next_seq": self.next_seq, "events": self.events,
            "lsn_range": [min(lsns), max(lsns)] if lsns else None,
            "time_range": ([min(p.min_commit_ts for p in self.parts), max(p.max_commit_ts for p in self.parts)]
                           if self.parts else None),
            "events_per_table": _per_table(self.parts),
            "parts": [vars(part) for part in self.parts],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        if data.get("format") != FORMAT:
            raise ArchiveLayoutError(f"unknown archive manifest format {data.get('format')!r}")
        return cls(data.get("source"), data.get("slot"), data.get("durable_lsn"), dict(data.get("offsets") or {}),
                   int(data.get("next_seq") or 0), [PartInfo(**part) for part in data.get("parts", [])])


def _per_table(parts: Sequence[PartInfo]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for part in parts:
        counts[part.table] += part.events
    return dict(sorted(counts.items()))


def read_manifest(directory: Path) -> Manifest | None:
    path = directory / MANIFEST
    if not path.exists():
        return None
    try:
        return Manifest.from_json(orjson.loads(path.read_bytes()))
    except (orjson.JSONDecodeError, TypeError) as exc:
        raise ArchiveLayoutError(f"{path} is not an archive manifest: {exc}") from exc


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _replace_durably(data: bytes, target: Path) -> None:
    temporary = target.with_name(f".{target.name}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, target)
    _fsync_dir(target.parent)


class ArchiveDirectory:
    """Writes parts and the manifest of one archive directory (one writer at a time)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.manifest = read_manifest(self.root) or Manifest()

    def discard_incomplete_snapshot(self) -> int:
        """Remove every part when no snapshot ever completed: an interrupted first run's
        rows were read at a consistent point that the next snapshot will not share."""
        if self.manifest.durable_lsn is not None or self.manifest.offsets:
            return 0
        removed = 0
        for table_dir in self.root.glob("table=*"):
            removed += sum(1 for _ in table_dir.rglob("*.parquet"))
            shutil.rmtree(table_dir)
        self.manifest.parts.clear()
        if removed:
            log.warning("removed the parts of an interrupted initial snapshot", extra={"parts": removed})
        return removed

    def take_seq(self, count: int) -> int:
        first = self.manifest.next_seq
        self.manifest.next_seq += count
        return first

    def write_rows(self, rows: Sequence[dict[str, Any]]) -> list[PartInfo]:
        """Write ``rows`` as one part per (table, commit date); durable when this returns."""
        groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            groups[(row["table"], row["commit_ts"].date().isoformat())].append(row)
        written = [self._write_part(table, day, group) for (table, day), group in sorted(groups.items())]
        self.manifest.parts.extend(written)
        return written

    def commit(self) -> None:
        """Make the manifest (and the source position in it) durable."""
        data = orjson.dumps(self.manifest.to_json(), option=orjson.OPT_INDENT_2)
        _replace_durably(data, self.root / MANIFEST)

    def _write_part(self, table: str, day: str, rows: list[dict[str, Any]]) -> PartInfo:
        folder = self.root / f"table={table}" / f"date={day}"
        folder.mkdir(parents=True, exist_ok=True)
        lsns = [row["lsn"] for row in rows if row["lsn"] is not None]
        first, last = (min(lsns), max(lsns)) if lsns else (None, None)
        target = _free_name(folder, f"part-{first or 0}-{last or 0}")
        temporary = folder / f".{target.name}.tmp"
        with open(temporary, "wb") as handle:
            pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), handle, compression="zstd")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
        _fsync_dir(folder)
        stamps = [row["commit_ts"] for row in rows]
        return PartInfo(str(target.relative_to(self.root)), table, day, len(rows), first, last,
                        _iso(min(stamps)), _iso(max(stamps)))


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _free_name(folder: Path, stem: str) -> Path:
    """``stem.parquet``, or ``stem-<n>.parquet`` when a re-run covers the same LSNs again."""
    candidate = folder / f"{stem}.parquet"
    n = 1
    while candidate.exists():
        candidate = folder / f"{stem}-{n}.parquet"
        n += 1
    return candidate
