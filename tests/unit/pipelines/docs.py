"""Reading emissions in tests: documents by (root id, locale)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from pipelines.core import Projector
from pipelines.model import Document, RootDocuments


def by_locale(emissions: Iterable[RootDocuments], root_id: str) -> dict[str, Any]:
    """The documents of one root in the latest emission for it, by locale."""
    latest = None
    for emission in emissions:
        if emission.root.id == UUID(root_id):
            latest = emission
    assert latest is not None, f"no emission for {root_id}"
    return {doc.locale: doc for doc in latest.documents}


def emitted_ids(emissions: Iterable[RootDocuments]) -> set[str]:
    return {str(e.root.id) for e in emissions}


def run(projector: Projector, events: list[Any]) -> list[RootDocuments]:
    emissions = projector.process(events)
    assert projector.invalid == [], projector.invalid
    return emissions


def only(emissions: list[RootDocuments], root_id: str) -> tuple[Document, ...]:
    matching = [e for e in emissions if e.root.id == UUID(root_id)]
    assert len(matching) == 1, matching
    return matching[0].documents
