"""Comparing expected and actual documents (pure): missing, extra, differing, counts."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson

Fields = dict[str, Any]


class DocKey(NamedTuple):
    doc_type: str
    tenant_id: str
    locale: str
    id: str


def checksum(fields: Mapping[str, Any]) -> str:
    """A stable digest of the compared fields (key order does not matter)."""
    return hashlib.sha256(orjson.dumps(dict(fields), option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


@dataclass
class Drift:
    """What differs; ``differing`` maps a key to the names of the fields that differ."""

    missing: list[DocKey] = field(default_factory=list)
    extra: list[DocKey] = field(default_factory=list)
    differing: dict[DocKey, list[str]] = field(default_factory=dict)
    counts: dict[tuple[str, str, str], tuple[int, int]] = field(default_factory=dict)
    checksums: dict[DocKey, tuple[str | None, str | None]] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not (self.missing or self.extra or self.differing)

    def as_dict(self) -> dict[str, Any]:
        def entity(key: DocKey) -> dict[str, Any]:
            expected, actual = self.checksums.get(key, (None, None))
            return {**key._asdict(), "expected_checksum": expected, "actual_checksum": actual}

        return {
            "clean": self.clean,
            "missing": [entity(k) for k in self.missing],
            "extra": [entity(k) for k in self.extra],
            "differing": [{**entity(k), "fields": f} for k, f in self.differing.items()],
            "counts": [{"doc_type": d, "tenant_id": t, "locale": loc, "expected": e, "actual": a}
                       for (d, t, loc), (e, a) in sorted(self.counts.items())],
        }


def compare(expected: Mapping[DocKey, Fields], actual: Mapping[DocKey, Fields]) -> Drift:
    drift = Drift()
    for key in sorted(expected.keys() | actual.keys()):
        want, have = expected.get(key), actual.get(key)
        bucket = (key.doc_type, key.tenant_id, key.locale)
        e, a = drift.counts.get(bucket, (0, 0))
        drift.counts[bucket] = (e + (want is not None), a + (have is not None))
        drift.checksums[key] = (None if want is None else checksum(want), None if have is None else checksum(have))
        if have is None:
            drift.missing.append(key)
        elif want is None:
            drift.extra.append(key)
        elif checksum(want) != checksum(have):
            drift.differing[key] = sorted(k for k in want.keys() | have.keys() if want.get(k) != have.get(k))
    for key in list(drift.checksums):
        if key not in drift.differing and key not in drift.missing and key not in drift.extra:
            del drift.checksums[key]  # only drifted entities are reported
    return drift


def union(*drifts: Drift) -> Drift:
    """Every drifted entity of several sides (for repair: a root drifted anywhere is re-emitted)."""
    merged = Drift()
    for drift in drifts:
        merged.missing = sorted(set(merged.missing) | set(drift.missing))
        merged.extra = sorted(set(merged.extra) | set(drift.extra))
        for key, fields in drift.differing.items():
            merged.differing[key] = sorted(set(merged.differing.get(key, [])) | set(fields))
    return merged
