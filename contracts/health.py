"""Readiness as data: each dependency probed with its latency and, when down, the reason."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Literal

from pydantic import BaseModel


class Check(BaseModel):
    name: str
    ok: bool
    latency_ms: float
    reason: str | None = None
    detail: dict[str, object] | None = None


class Readiness(BaseModel):
    service: str
    status: Literal["ready", "not_ready"]
    checks: list[Check]


Probe = Callable[[], dict[str, object] | None]
"""Returns optional details when the dependency is usable; raises when it is not."""


def run_checks(service: str, probes: Mapping[str, Probe]) -> Readiness:
    checks = []
    for name, probe in probes.items():
        started = time.perf_counter()
        try:
            detail, ok, reason = probe(), True, None
        except Exception as exc:  # noqa: BLE001 — a failing dependency is reported, never raised
            detail, ok, reason = None, False, f"{type(exc).__name__}: {exc}"[:500]
        checks.append(Check(name=name, ok=ok, latency_ms=round((time.perf_counter() - started) * 1000, 2),
                            reason=reason, detail=detail))
    return Readiness(service=service, status="ready" if all(c.ok for c in checks) else "not_ready", checks=checks)
