"""The replay's manifest: what an unfinished replay was doing, so a re-run resumes it.

One JSON file per replay in ``<state_dir>/replays/<id>/manifest.json``. ``phase`` moves
``building`` → ``switched`` → ``cleanup`` → ``done``; it is rewritten atomically
(write to a temporary file, then rename) at each step.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import orjson
from ulid import ULID

from pipelines.model import DocType

Phase = Literal["building", "switched", "cleanup", "done"]
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Manifest:
    """Parameters:
    replay_id: lower-case ULID; names the slot, the state dir and the checkpoint row.
    doc_types: the document types rebuilt.
    tenant: the one tenant rebuilt (other tenants are copied from the live version), or None.
    versions: per doc type, the version being built.
    previous: per doc type, the version that was live when the alias switched.
    """

    replay_id: str
    doc_types: tuple[DocType, ...]
    tenant: str | None
    versions: dict[DocType, int]
    phase: Phase = "building"
    previous: dict[DocType, int] = field(default_factory=dict)
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    @property
    def slot_name(self) -> str:
        return f"rustok_replay_{self.replay_id}"

    @property
    def pipeline(self) -> str:
        return f"replay:{self.replay_id}"

    def same_scope(self, doc_types: Sequence[DocType], tenant: str | None) -> bool:
        return set(self.doc_types) == set(doc_types) and self.tenant == tenant

    def moved_to(self, phase: Phase, **changes: object) -> Manifest:
        return replace(self, phase=phase, **changes)  # type: ignore[arg-type]


def new_replay_id() -> str:
    return str(ULID()).lower()


def replays_dir(state_dir: Path) -> Path:
    return state_dir / "replays"


def save(directory: Path, manifest: Manifest) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f"{MANIFEST}.tmp"
    tmp.write_bytes(orjson.dumps(asdict(manifest), option=orjson.OPT_INDENT_2))
    os.replace(tmp, directory / MANIFEST)


def load(directory: Path) -> Manifest:
    raw = orjson.loads((directory / MANIFEST).read_bytes())
    raw["doc_types"] = tuple(raw["doc_types"])
    return Manifest(**raw)


def unfinished(state_dir: Path) -> list[Manifest]:
    """Every replay under ``state_dir`` that has not reached ``done``, oldest first."""
    root = replays_dir(state_dir)
    if not root.is_dir():
        return []
    found = [load(d) for d in sorted(root.iterdir()) if (d / MANIFEST).is_file()]
    return [m for m in found if m.phase != "done"]
