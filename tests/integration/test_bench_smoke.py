"""The benchmark harness at a tiny size, so it cannot rot (the measurements themselves
live in bench/ and never gate the suite)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_the_rebuild_benchmark_runs_end_to_end_at_a_tiny_size(admin_url: str, tmp_path: Path, repo_root: Path
                                                              ) -> None:
    out = tmp_path / "rebuild.json"
    result = subprocess.run(
        [sys.executable, "-m", "bench.pipeline_rebuild", "--small", "--admin-url", admin_url, "--out", str(out)],
        cwd=repo_root, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["runs"] and all(run["events"] > 0 and run["documents"] > 0 for run in report["runs"])
