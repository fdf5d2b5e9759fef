"""``bench.ab`` runs a bench alternately on two checkouts and compares one number of its JSON."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bench import ab

PROBE = '''
import json, sys
from pathlib import Path
value = float((Path(__file__).parent / "value.txt").read_text())
Path(sys.argv[1]).write_text(json.dumps({"result": {"seconds": value}}))
'''


def repo_with_probe(tmp_path: Path) -> Path:
    """A git repository whose committed probe reports 2.0 and whose working tree reports 1.0."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "probe.py").write_text(PROBE)
    (repo / "value.txt").write_text("2.0")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "--quiet"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "--quiet", "-m", "probe"], check=True)
    (repo / "value.txt").write_text("1.0")
    return repo


def test_each_side_runs_its_own_checkout_in_turn_and_the_pairs_are_compared(tmp_path: Path) -> None:
    repo = repo_with_probe(tmp_path)
    report = ab.main(["--before", "HEAD", "--pairs", "2", "--metric", "result.seconds", "--repo", str(repo),
                      "--report", str(tmp_path / "ab.json"), "--", "probe", "{out}"])
    seconds = report["metrics"]["result.seconds"]
    assert seconds["before"]["runs"] == [2.0, 2.0] and seconds["after"]["runs"] == [1.0, 1.0]
    assert seconds["pairwise_after_over_before"]["median"] == 0.5
    assert (tmp_path / "ab.json").exists()
    worktrees = subprocess.run(["git", "-C", str(repo), "worktree", "list"], capture_output=True, text=True, check=True)
    assert len(worktrees.stdout.splitlines()) == 1, "the before checkout is removed afterwards"


def test_a_bench_whose_output_is_not_named_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        ab.main(["--before", "HEAD", "--metric", "seconds", "--repo", str(tmp_path), "--", "probe", "out.json"])


def test_a_metric_that_is_missing_or_not_a_number_is_named() -> None:
    with pytest.raises(KeyError, match="missing 'p99'"):
        ab.metric({"backends": {"tantivy": {"p50": 1}}}, "backends.tantivy.p99")
    assert ab.metric({"runs": [{"cpu": 3}]}, "runs.0.cpu") == 3.0
    with pytest.raises(TypeError, match="not a number"):
        ab.metric({"seconds": "fast"}, "seconds")
