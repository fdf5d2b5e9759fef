"""Scenario outcomes: targets and checks, the machine they ran on, JSON and PNG files, a summary.

A scenario returns an ``Outcome``: its parameters, raw results, the ``Check``s of its
targets (each measured value beside its limit), what it skipped and why, and a chart
description (grouped bars or lines) that ``write`` renders with matplotlib's Agg backend.
``met`` is true when every measured check passed; skipped parts do not count, and a
scenario with nothing measured has ``met`` false.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  - after choosing the backend

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Check:
    """One target: ``value`` against ``limit`` (``at_least`` or ``below``)."""

    name: str
    value: float
    limit: float
    kind: Literal["at_least", "below"]
    unit: str

    @property
    def met(self) -> bool:
        return self.value >= self.limit if self.kind == "at_least" else self.value < self.limit

    def to_json(self) -> dict[str, Any]:
        sign = "≥" if self.kind == "at_least" else "<"
        return {"name": self.name, "value": self.value, "target": f"{sign} {self.limit:g} {self.unit}",
                "met": self.met}


@dataclass
class Chart:
    """Grouped bars (``series``: group → label → value) or lines (``series``: line → x → y)."""

    kind: Literal["bars", "lines"]
    # title, unit, series, the target's value (a dashed line) or None
    panels: list[tuple[str, str, dict[str, dict[str, float]], float | None]] = field(default_factory=list)

    def panel(self, title: str, unit: str, series: dict[str, dict[str, float]], target: float | None = None) -> None:
        if any(series.values()):
            self.panels.append((title, unit, {k: v for k, v in series.items() if v}, target))


@dataclass
class Outcome:
    scenario: str
    target: str
    parameters: dict[str, Any]
    results: dict[str, Any] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # part → reason
    chart: Chart = field(default_factory=lambda: Chart("bars"))
    headline: str = ""

    @property
    def met(self) -> bool:
        return bool(self.checks) and all(check.met for check in self.checks)


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "git_commit": _git("rev-parse", "HEAD"), "git_dirty": bool(_git("status", "--porcelain", "--", "bench")),
            "note": "a shared machine (other helpers' tests and benchmarks): read the load averages"}


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def write(outcome: Outcome, out: Path, started: float, load_before: list[float]) -> dict[str, Any]:
    """Write ``<scenario>.json`` and ``<scenario>.png`` into ``out``; returns the JSON written."""
    out.mkdir(parents=True, exist_ok=True)
    document = {
        "scenario": outcome.scenario, "target": outcome.target, "met": outcome.met,
        "checks": [check.to_json() for check in outcome.checks], "skipped": outcome.skipped,
        "headline": outcome.headline, "parameters": outcome.parameters,
        "machine": {**machine(), "load_average_before": load_before, "load_average_after": load_average()},
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": round(time.time() - started, 1), "results": outcome.results,
        "chart": {"kind": outcome.chart.kind, "panels": outcome.chart.panels},
    }
    (out / f"{outcome.scenario}.json").write_text(json.dumps(document, indent=2, default=str) + "\n")
    draw(outcome, out / f"{outcome.scenario}.png")
    return document


def replot(path: Path) -> None:
    """Draw ``<scenario>.png`` again from ``<scenario>.json`` (after a change to the charts)."""
    document = json.loads(path.read_text())
    outcome = Outcome(document["scenario"], document["target"], document["parameters"],
                      chart=Chart(document["chart"]["kind"], [tuple(p) for p in document["chart"]["panels"]]))
    _draw(outcome, document["met"], path.with_suffix(".png"))


def draw(outcome: Outcome, path: Path) -> None:
    _draw(outcome, outcome.met, path)


def _draw(outcome: Outcome, met: bool, path: Path) -> None:
    panels = outcome.chart.panels or [("nothing measured", "", {}, None)]
    figure, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.5), squeeze=False)
    for ax, (title, unit, series, target) in zip(axes[0], panels):
        if outcome.chart.kind == "bars":
            _bars(ax, series)
        else:
            _lines(ax, series)
        if target is not None:
            ax.axhline(target, color="red", linestyle="--", linewidth=1, label=f"target {target:g}")
            ax.legend(fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(unit)
        ax.grid(axis="y", alpha=0.3)
    verdict = "met" if met else "NOT met"
    figure.suptitle(f"{outcome.scenario}: target {verdict} — {outcome.target}", fontsize=9, wrap=True)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def _bars(ax: Any, series: dict[str, dict[str, float]]) -> None:
    labels = list(dict.fromkeys(label for values in series.values() for label in values))
    width = 0.8 / max(1, len(series))
    for i, (group, values) in enumerate(series.items()):
        xs = [n + i * width for n, label in enumerate(labels) if label in values]
        ax.bar(xs, [values[label] for label in labels if label in values], width, label=group)
    ax.set_xticks([n + width * (len(series) - 1) / 2 for n in range(len(labels))], labels)
    ax.legend(fontsize=8)


def _lines(ax: Any, series: dict[str, dict[str, float]]) -> None:
    for name, points in series.items():
        xs = sorted(points, key=float)
        ax.plot([float(x) for x in xs], [points[x] for x in xs], marker="o", label=name)
    ax.set_xscale("log")
    values = [v for points in series.values() for v in points.values()]
    if values and min(values) > 0 and max(values) / min(values) > 100:
        ax.set_yscale("log")  # sizes a decade apart: 20 s and 90 min, 2 ms and 10 s
    ax.set_xlabel("products")
    ax.legend(fontsize=8)


def summary_rows(documents: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    """(scenario, headline, target, met) per scenario, for the table printed at the end."""
    rows = []
    for document in documents:
        verdict = "yes" if document["met"] else "no"
        if document["skipped"]:
            verdict += f" (skipped: {', '.join(document['skipped'])})"
        rows.append((document["scenario"], document["headline"], document["target"], verdict))
    return rows


def markdown_table(folder: Path) -> str:
    """The results in ``folder`` as a Markdown table (for bench/README.md)."""
    lines = ["| scenario | result | target | met | load average (1 min) before → after |", "|---|---|---|---|---|"]
    for path in sorted(folder.glob("*.json")):
        document = json.loads(path.read_text())
        (scenario, headline, target, met), = summary_rows([document])
        load = f"{document['machine']['load_average_before'][0]} → {document['machine']['load_average_after'][0]}"
        lines.append(f"| `{scenario}` | {headline} | {target} | {met} | {load} |")
    return "\n".join(lines)


def main() -> None:
    """``python -m bench.report FOLDER [--replot]``: print the Markdown table; redraw the PNGs."""
    import sys

    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "bench" / "results" / "harness"
    if "--replot" in sys.argv:
        for path in sorted(folder.glob("*.json")):
            if "chart" in json.loads(path.read_text()):
                replot(path)
    print(markdown_table(folder))  # noqa: T201 - a command-line tool's output


if __name__ == "__main__":
    main()
