"""What the Faust stages put on Kafka: documents messages and dead letters, as plain JSON.

Plain JSON rather than ``faust.Record``: search nodes and tools that are not Faust
apps read these topics too, and Faust's records add ``__faust`` metadata to the value.

Documents topic ``<prefix>.docs.<doc_type>`` (compacted):

* key ``<tenant_id>/<id>`` — one key per *root*, not per (tenant, locale, id) as the
  design first sketched: an emission is the complete set of a root's documents, and
  a sink must see it whole to drop the locales the root no longer has. Per-locale keys
  would split that set, and compaction could keep a locale the root has since lost.
* value ``{"doc_type", "tenant_id", "id", "version", "committed_at", "documents": [...]}``;
  ``documents: []`` removes the root. It is not a Kafka tombstone (null value)
  because the sinks need the version to order it against late older emissions;
  compaction keeps the newest value per root, so a node rebuilding from the topic
  gets each root's last word.

DLQ topic ``<prefix>.dlq``: key = the original record key; value
``{"pipeline", "stage", "topic", "partition", "offset", "lsn", "reason",
"error_type", "payload"}`` with the original value as text.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from pydantic import ValidationError

from contracts.documents import ContentDocument, ProductDocument
from pipelines.errors import PipelineError
from pipelines.model import Document, RootDocuments, RootKey
from pipelines.runtime.dead_letters import DeadLetter


class InvalidDocsMessage(PipelineError, ValueError):
    """A documents-topic value that is not a valid emission."""


_MODELS: dict[str, type[ProductDocument] | type[ContentDocument]] = {
    "product": ProductDocument, "content": ContentDocument,
}


def docs_key(root: RootKey) -> bytes:
    return f"{root.tenant_id}/{root.id}".encode()


def encode_docs(emission: RootDocuments) -> bytes:
    root = emission.root
    return orjson.dumps({
        "doc_type": root.doc_type,
        "tenant_id": str(root.tenant_id),
        "id": str(root.id),
        "version": emission.version,
        "committed_at": emission.committed_at.isoformat() if emission.committed_at else None,
        # Pydantic writes each document's JSON itself; orjson splices it in (no dict in between).
        "documents": [orjson.Fragment(doc.model_dump_json()) for doc in emission.documents],
    })


def decode_docs(value: bytes) -> RootDocuments:
    try:
        data = orjson.loads(value)
        doc_type = data["doc_type"]
        model: type[ProductDocument] | type[ContentDocument] = _MODELS[doc_type]
        documents: tuple[Document, ...] = tuple(model.model_validate(d) for d in data["documents"])
        committed = data.get("committed_at")
        return RootDocuments(
            root=RootKey(doc_type, UUID(data["tenant_id"]), UUID(data["id"])),
            version=int(data["version"]),
            documents=documents,
            committed_at=datetime.fromisoformat(committed) if committed else None,
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, ValidationError) as exc:
        raise InvalidDocsMessage(f"not a documents message: {exc}") from exc


class PublishedEmissions:
    """The emissions this process published, by their encoded value, for its own index stage.

    The project and index agents of one worker run in one process: an index batch mostly
    consists of messages the project agent just encoded from already validated documents.
    Decoding them again (JSON, then pydantic validation of every document) was ~40% of the
    index stage's CPU. A message whose bytes are exactly what :func:`encode_docs` produced
    for an emission stands for that emission; any other message is decoded and validated.

    Parameters:
        capacity: emissions kept at most; the oldest are forgotten first (they are then
            simply decoded).
    """

    def __init__(self, capacity: int = 20_000) -> None:
        self._capacity = capacity
        self._by_value: OrderedDict[bytes, RootDocuments] = OrderedDict()
        self._lock = threading.Lock()  # the project agent adds on the event loop, the index stage takes in a thread

    def encode(self, emission: RootDocuments) -> bytes:
        """:func:`encode_docs`, remembering the emission under its message value."""
        value = encode_docs(emission)
        with self._lock:
            self._by_value[value] = emission
            while len(self._by_value) > self._capacity:
                self._by_value.popitem(last=False)
        return value

    def decode(self, value: bytes) -> RootDocuments:
        """The emission ``value`` was encoded from, else :func:`decode_docs` (once per value)."""
        with self._lock:
            known = self._by_value.pop(value, None)
        return known if known is not None else decode_docs(value)


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a Kafka record came from (for dead letters and logs)."""

    topic: str
    partition: int
    offset: int


def encode_dead_letter(letter: DeadLetter, origin: Origin | None) -> bytes:
    body: dict[str, Any] = {
        "pipeline": letter.pipeline,
        "stage": letter.stage,
        "topic": letter.topic,
        "partition": origin.partition if origin else None,
        "offset": origin.offset if origin else None,
        "lsn": letter.source_lsn,
        "reason": letter.reason,
        "error_type": letter.error_type,
        "payload": letter.payload,
        "created_at": letter.created_at.isoformat(),
    }
    return orjson.dumps(body)
