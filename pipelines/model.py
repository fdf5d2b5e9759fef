"""What the projection core hands to sinks: the complete set of documents of one root.

A root is the aggregate a document is built from (a product, or a content node of kind
page, post or topic). After any change that touches a root, the core emits a
``RootDocuments`` with every document the root now has, one per enabled locale of its
tenant. Sinks make the read model hold exactly those documents for that root: upsert
each, remove the root's documents in any other locale. An empty ``documents`` removes
the root everywhere (deleted, or no longer indexable).

``version`` orders the emissions of one root: it never decreases from one emission to
the next, and equal versions carry equal or newer content. A sink keeps the newest: it
applies an emission only if its version is at least the stored one, so a late or
duplicated emission never overwrites newer facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from uuid import UUID

from contracts.documents import ContentDocument, ProductDocument

DocType = Literal["product", "content"]
Document = ProductDocument | ContentDocument


@dataclass(frozen=True, slots=True, order=True)
class RootKey:
    doc_type: DocType
    tenant_id: UUID
    id: UUID


@dataclass(frozen=True, slots=True)
class RootDocuments:
    """Parameters:
    root: the aggregate the documents belong to.
    version: source LSN ordering this emission among the root's emissions (see module doc).
    documents: one per locale; each has ``locale`` set and ``version == self.version``.
    committed_at: commit time of the newest source change behind this emission, for
        freshness metrics; None when unknown (snapshot reads).
    """

    root: RootKey
    version: int
    documents: tuple[Document, ...]
    committed_at: datetime | None = None
    _json: tuple[str, ...] | None = field(default=None, init=False, compare=False, repr=False)

    def documents_json(self) -> tuple[str, ...]:
        """Each document as pydantic writes it, made once: every sink stores the same JSON
        (the JSONB column, Tantivy's stored ``doc_json``, the emission codec)."""
        encoded = self._json
        if encoded is None:
            encoded = tuple(doc.model_dump_json() for doc in self.documents)
            object.__setattr__(self, "_json", encoded)
        return encoded

    @property
    def locales(self) -> tuple[str, ...]:
        return tuple(doc.locale for doc in self.documents)
