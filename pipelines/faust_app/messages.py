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

from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import ValidationError

from pipelines.errors import PipelineError
from pipelines.emission_codec import decode_emission, encode_emission
from pipelines.model import RootDocuments, RootKey
from pipelines.runtime.dead_letters import DeadLetter


class InvalidDocsMessage(PipelineError, ValueError):
    """A documents-topic value that is not a valid emission."""


def docs_key(root: RootKey) -> bytes:
    return f"{root.tenant_id}/{root.id}".encode()


encode_docs = encode_emission  # a documents-topic value (pipelines.emission_codec)


def decode_docs(value: bytes) -> RootDocuments:
    try:
        return decode_emission(value)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, ValidationError) as exc:
        raise InvalidDocsMessage(f"not a documents message: {exc}") from exc


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
