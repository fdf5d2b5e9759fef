"""What every sink does with ``write(batch)`` before any I/O: check, filter, collapse.

A batch is checked whole before anything is kept, so a bad emission leaves the buffer
as it was. Emissions of one root collapse to the newest: the highest version wins and,
between equal versions, the later one (equal versions carry equal or newer content).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

from pipelines.model import DocType, RootDocuments, RootKey
from pipelines.sinks.errors import InvalidEmission, SinkConfigError

DOC_TYPES: tuple[DocType, ...] = ("product", "content")


def check_doc_types(doc_types: Iterable[str]) -> frozenset[DocType]:
    chosen = frozenset(doc_types)
    unknown = sorted(chosen - set(DOC_TYPES))
    if unknown or not chosen:
        raise SinkConfigError(f"doc_types must be a non-empty subset of {DOC_TYPES}, got {sorted(chosen)}")
    return frozenset(t for t in DOC_TYPES if t in chosen)


def check_emission(emission: RootDocuments) -> None:
    """Raise InvalidEmission unless every document belongs to the emission's root and version."""
    root = emission.root
    if emission.version < 0:
        raise InvalidEmission(f"{root}: version {emission.version} is negative")
    seen: set[str] = set()
    for doc in emission.documents:
        if doc.doc_type != root.doc_type or doc.tenant_id != root.tenant_id or doc.id != root.id:
            raise InvalidEmission(
                f"{root}: document {doc.doc_type}/{doc.tenant_id}/{doc.id} belongs to another root"
            )
        if doc.version != emission.version:
            raise InvalidEmission(f"{root}: document version {doc.version} != emission version {emission.version}")
        if doc.locale in seen:
            raise InvalidEmission(f"{root}: locale {doc.locale} appears twice")
        seen.add(doc.locale)


class EmissionBuffer:
    """Pending emissions of the doc types a sink handles, newest per root."""

    def __init__(self, doc_types: Collection[DocType]) -> None:
        self._doc_types = frozenset(doc_types)
        self._pending: dict[RootKey, RootDocuments] = {}

    def add(self, batch: Sequence[RootDocuments]) -> None:
        for emission in batch:
            check_emission(emission)
        for emission in batch:
            if emission.root.doc_type not in self._doc_types:
                continue
            current = self._pending.get(emission.root)
            if current is None or emission.version >= current.version:
                self._pending[emission.root] = emission

    def take(self) -> list[RootDocuments]:
        """Everything pending, emptied at once (flush clears its buffer even when it fails)."""
        pending = list(self._pending.values())
        self._pending.clear()
        return pending

    def __len__(self) -> int:
        return len(self._pending)
