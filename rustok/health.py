"""What ``/health/ready`` and ``/health/modules`` probe for each service of the local platform."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import psycopg

from contracts.health import Probe
from contracts.tenancy import MODULES
from migrations import runner
from pipelines.model import DocType


class RunningPipeline(Protocol):
    @property
    def failed(self) -> BaseException | None: ...

    @property
    def index_versions(self) -> dict[DocType, int]: ...


class PlatformHealth:
    """Parameters:
    database_url: the platform's PostgreSQL.
    index_dir: the Tantivy root the search API serves.
    pipeline_name: the pipeline whose checkpoint the search API waits on.
    pipeline: the pipeline running in this process (embedded runner or Faust worker), if any;
        without one, the index and pipeline probes read what is on disk and in the checkpoint.
    """

    def __init__(self, database_url: str, index_dir: Path, pipeline_name: str,
                 pipeline: RunningPipeline | None = None) -> None:
        self._url = database_url
        self._index_dir = index_dir
        self._name = pipeline_name
        self._pipeline = pipeline

    def write_probes(self) -> dict[str, Probe]:
        return {"database": self._database}

    def search_probes(self) -> dict[str, Probe]:
        return {"database": self._database, "index": self._index, "pipeline": self._pipeline_state}

    def write_modules(self) -> dict[str, Any]:
        with psycopg.connect(self._url, connect_timeout=2) as conn:
            rows = conn.execute(
                "SELECT module, count(*) FILTER (WHERE enabled), count(*) FILTER (WHERE NOT enabled)"
                " FROM tenant_modules GROUP BY module").fetchall()
        counts = {str(m): (int(str(on)), int(str(off))) for m, on, off in rows}
        return {"modules": [{"name": m, "tenants_enabled": counts.get(m, (0, 0))[0],
                             "tenants_disabled": counts.get(m, (0, 0))[1]} for m in MODULES]}

    def search_modules(self) -> dict[str, Any]:
        return {"backends": {"tantivy": "default", "postgres": "available", "meilisearch": "not configured"},
                "pipeline": self._pipeline_state()}

    def _database(self) -> dict[str, object]:
        with psycopg.connect(self._url, connect_timeout=2) as conn:
            conn.execute("SELECT 1")
        return {"revision": runner.current_revision(self._url), "head": runner.head_revision()}

    def _index(self) -> dict[str, object]:
        versions = dict(self._pipeline.index_versions) if self._pipeline else self._live_versions()
        missing = [t for t, v in versions.items() if not (self._index_dir / t / f"v{v}").is_dir()]
        if missing:
            raise RuntimeError(f"no Tantivy index yet for {', '.join(missing)}")
        return {"versions": versions}

    def _live_versions(self) -> dict[str, int]:
        with psycopg.connect(self._url, connect_timeout=2) as conn:
            rows = conn.execute("SELECT doc_type, live_version FROM read_model_aliases").fetchall()
        return {str(t): int(str(v)) for t, v in rows}

    def _pipeline_state(self) -> dict[str, object]:
        if self._pipeline is not None and self._pipeline.failed is not None:
            raise RuntimeError(f"pipeline stopped: {self._pipeline.failed}")
        with psycopg.connect(self._url, connect_timeout=2) as conn:
            row = conn.execute(
                "SELECT applied_commit_lsn, applied_commit_at, extract(epoch FROM now() - updated_at)"
                " FROM pipeline_checkpoints WHERE pipeline = %s", (self._name,)).fetchone()
        if row is None:
            raise RuntimeError("the pipeline has not checkpointed yet")
        return {"applied_commit_lsn": row[0], "last_commit_applied_at": str(row[1]),
                "seconds_since_checkpoint": float(str(row[2]))}
