"""Kafka topic names shared by connectors and pipelines."""

from __future__ import annotations

DEFAULT_PREFIX = "rustok"
DEFAULT_SCHEMA = "public"


def table_topic(table: str, *, prefix: str = DEFAULT_PREFIX, schema: str = DEFAULT_SCHEMA) -> str:
    """Change events of one table: ``<prefix>.<schema>.<table>``."""
    return f"{prefix}.{schema}.{table}"


def outbox_topic(aggregatetype: str, *, prefix: str = DEFAULT_PREFIX) -> str:
    """Outbox events routed by aggregate type: ``<prefix>.events.<aggregatetype>``."""
    return f"{prefix}.events.{aggregatetype}"


def transaction_topic(*, prefix: str = DEFAULT_PREFIX) -> str:
    """Debezium transaction metadata (BEGIN/END records)."""
    return f"{prefix}.transaction"


def dlq_topic(*, prefix: str = DEFAULT_PREFIX) -> str:
    return f"{prefix}.dlq"


def docs_topic(doc_type: str, *, prefix: str = DEFAULT_PREFIX) -> str:
    """Finished read-model documents, compacted, keyed by (tenant, locale, id)."""
    return f"{prefix}.docs.{doc_type}"


def split_table_topic(topic: str) -> tuple[str, str, str]:
    """``rustok.public.nodes`` → (prefix, schema, table)."""
    prefix, schema, table = topic.rsplit(".", 2)
    return prefix, schema, table
