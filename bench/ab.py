"""Interleaved before/after runs of one bench, for a shared machine whose speed drifts.

On these machines the same code's rebuild ran 20-30% slower late in a session than early
in it, so a "before" measured in the morning and an "after" in the afternoon compare the
machine, not the change. This runs the two revisions alternately (before, after, before,
after, ...) with the same arguments and reports each side's runs and median and the
median of the pairwise after/before ratios: drift then moves both sides of a pair alike.

    .venv/bin/python -m bench.ab --before e134912 --pairs 4 --metric median_seconds -- \\
        bench.pipeline_rebuild --admin-url URL --template T --manifest M.json --runs 1 --out {out}

``--before`` is a revision, checked out into a temporary git worktree; ``--after`` is a
revision too, or the working tree (default). The bench module runs from each checkout
(``python -m`` puts it first on the path, and spawned children inherit the path), and
``{out}`` in its arguments becomes a fresh JSON path per run, read for each ``--metric``
(repeatable): a dotted path into that JSON (``median_seconds``, ``backends.tantivy.p50_ms``).
The report goes to stdout and, with ``--report``, to a JSON file.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

OUT = "{out}"


def metric(data: Any, path: str) -> float:
    """The number at a dotted ``path`` of a bench's JSON (``a.b.c``; ``runs.0.x`` indexes a list)."""
    for part in path.split("."):
        if isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        elif isinstance(data, dict) and part in data:
            data = data[part]
        else:
            raise KeyError(f"no {path!r} in the bench's output (missing {part!r})")
    if not isinstance(data, (int, float)) or isinstance(data, bool):
        raise TypeError(f"{path!r} is {data!r}, not a number")
    return float(data)


@contextmanager
def checkout(repo: Path, revision: str | None) -> Iterator[Path]:
    """``repo`` itself for None (the working tree), else a temporary worktree of ``revision``."""
    if revision is None:
        yield repo
        return
    where = Path(tempfile.mkdtemp(prefix="rustok-ab-")) / "tree"
    subprocess.run(["git", "-C", str(repo), "worktree", "add", "--detach", "--quiet", str(where), revision],
                   check=True)
    try:
        yield where
    finally:
        subprocess.run(["git", "-C", str(repo), "worktree", "remove", "--force", str(where)], check=False)
        shutil.rmtree(where.parent, ignore_errors=True)


def run_once(tree: Path, module: str, args: Sequence[str], out: Path, paths: Sequence[str]) -> dict[str, float]:
    command = [sys.executable, "-m", module, *(a.replace(OUT, str(out)) for a in args)]
    subprocess.run(command, cwd=tree, check=True, stdout=subprocess.DEVNULL)
    data = json.loads(out.read_text())
    return {path: metric(data, path) for path in paths}


def compare(before: list[float], after: list[float]) -> dict[str, Any]:
    ratios = [a / b for a, b in zip(after, before, strict=True) if b]
    return {
        "before": {"runs": before, "median": statistics.median(before)},
        "after": {"runs": after, "median": statistics.median(after)},
        "pairwise_after_over_before": {"ratios": [round(r, 4) for r in ratios],
                                       "median": round(statistics.median(ratios), 4) if ratios else None},
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--before", required=True, help="revision measured first in each pair")
    parser.add_argument("--after", help="revision measured second (default: the working tree)")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--metric", required=True, action="append",
                        help="dotted path of a number in the bench's JSON (repeatable)")
    parser.add_argument("--repo", type=Path, default=Path.cwd(), help="the git checkout (default: here)")
    parser.add_argument("--report", type=Path, help="also write the report here as JSON")
    parser.add_argument("bench", nargs=argparse.REMAINDER, help="-- MODULE ARGS... ({out}: the run's JSON path)")
    args = parser.parse_args(argv)
    command = args.bench[1:] if args.bench[:1] == ["--"] else args.bench
    if not command:
        parser.error("name the bench module after --")
    if not any(OUT in a for a in command[1:]):
        parser.error("the bench's arguments must send its JSON to {out}")
    module, bench_args = command[0], command[1:]
    results: dict[str, dict[str, list[float]]] = {m: {"before": [], "after": []} for m in args.metric}
    scratch = Path(tempfile.mkdtemp(prefix="rustok-ab-out-"))
    try:
        with checkout(args.repo, args.before) as before, checkout(args.repo, args.after) as after:
            for pair in range(args.pairs):
                for side, tree in (("before", before), ("after", after)):
                    values = run_once(tree, module, bench_args, scratch / f"{side}-{pair}.json", args.metric)
                    for name, value in values.items():
                        results[name][side].append(value)
                    print(f"pair {pair + 1}/{args.pairs} {side}: {values}", flush=True)  # noqa: T201
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    report = {"module": module, "arguments": bench_args, "before_revision": args.before,
              "after_revision": args.after or "working tree",
              "metrics": {name: compare(sides["before"], sides["after"]) for name, sides in results.items()}}
    print(json.dumps(report, indent=2))  # noqa: T201
    if args.report:
        args.report.write_text(json.dumps(report, indent=2) + "\n")
    return report


if __name__ == "__main__":
    main()
