"""Flex entries attached to a root, as the ``flex`` field of its documents.

``flex`` maps the schema's slug to the entry's data. When a root has several entries
of one schema, the newest entry id (ULIDs sort by creation) wins, so the result does
not depend on arrival order. An entry whose schema is not known yet is keyed by the
schema id until the schema arrives (its arrival rebuilds the root).
"""

from __future__ import annotations

from typing import Any

import orjson

from pipelines.core.lookup import Lookup, Row


def flex_of(entries: list[Row], lookup: Lookup, tenant_id: str) -> dict[str, Any]:
    flex: dict[str, Any] = {}
    for entry in sorted(entries, key=lambda e: e["id"]):
        schema = lookup.row("flex_schemas", entry["schema_id"], tenant_id)
        name = schema["slug"] if schema is not None else entry["schema_id"]
        flex[name] = orjson.loads(entry["data"])
    return dict(sorted(flex.items()))
