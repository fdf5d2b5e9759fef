"""The embedded runner's own record of the source position its state has absorbed.

Written after the state store committed, atomically (write, fsync, rename), so after a
crash it is never ahead of the state. None means the runner has nothing yet: the
connector then takes a fresh snapshot.
"""

from __future__ import annotations

import os
from pathlib import Path

import orjson


class PositionFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> int | None:
        try:
            data = orjson.loads(self.path.read_bytes())
        except FileNotFoundError:
            return None
        lsn = data.get("lsn")
        return lsn if isinstance(lsn, int) else None

    def save(self, lsn: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        with open(temporary, "wb") as handle:
            handle.write(orjson.dumps({"lsn": lsn}))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
