"""The platform and its benchmarks type-check under ``mypy --strict`` (``[tool.mypy]`` in
pyproject.toml), so an annotation that stops matching the code fails the suite."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

CHECKED = ("contracts", "write_api", "migrations", "connectors", "pipelines", "search_api", "rustok", "bench")


def test_every_package_and_the_benchmarks_type_check_strictly(repo_root: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="rustok-mypy-") as cache:
        done = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", cache, *CHECKED],
                              cwd=repo_root, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
    assert "Success: no issues found" in done.stdout
