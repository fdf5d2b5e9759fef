"""One emission (``RootDocuments``) as one JSON value.

The format of the Kafka documents topics (``pipelines.faust_app.messages``), and how the
embedded runner keeps its recent emissions: as bytes, which the cyclic garbage collector
never walks, instead of thousands of live document objects that every full collection
would walk again (a 30-second memory at 200 writes/s made 200-300 ms pauses).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import orjson

from contracts.documents import ContentDocument, ProductDocument
from pipelines.model import Document, RootDocuments, RootKey

_MODELS: dict[str, type[ProductDocument] | type[ContentDocument]] = {
    "product": ProductDocument, "content": ContentDocument,
}


def encode_emission(emission: RootDocuments) -> bytes:
    root = emission.root
    return orjson.dumps({
        "doc_type": root.doc_type,
        "tenant_id": str(root.tenant_id),
        "id": str(root.id),
        "version": emission.version,
        "committed_at": emission.committed_at.isoformat() if emission.committed_at else None,
        # Pydantic writes each document's JSON itself; orjson splices it in (no dict in between).
        "documents": [orjson.Fragment(encoded) for encoded in emission.documents_json()],
    })


def decode_emission(value: bytes) -> RootDocuments:
    """Raises orjson.JSONDecodeError, KeyError, TypeError, ValueError or pydantic's
    ValidationError (a ValueError) for a value that is not an emission."""
    data = orjson.loads(value)
    model = _MODELS[data["doc_type"]]
    documents: tuple[Document, ...] = tuple(model.model_validate(d) for d in data["documents"])
    committed = data.get("committed_at")
    return RootDocuments(
        root=RootKey(data["doc_type"], UUID(data["tenant_id"]), UUID(data["id"])),
        version=int(data["version"]),
        documents=documents,
        committed_at=datetime.fromisoformat(committed) if committed else None,
    )
