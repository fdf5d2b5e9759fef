"""Flex repository: schemas and entries, and the existence of what entries attach to."""

from __future__ import annotations

from uuid import UUID

from write_api.adapters.tables import Row, TenantTables, table_of
from write_api.models import commerce, content
from write_api.models import flex as m

SCHEMAS = table_of(m.FlexSchema)
ENTRIES = table_of(m.FlexEntry)
_ATTACHABLE = {"product": table_of(commerce.Product), "node": table_of(content.Node)}


class FlexRepository:
    def __init__(self, tables: TenantTables) -> None:
        self.t = tables

    def add_schema(self, row: Row) -> Row:
        return self.t.insert_returning(SCHEMAS, row)

    def get_schema(self, schema_id: UUID) -> Row | None:
        return self.t.get(SCHEMAS, schema_id)

    def touch_schema(self, schema_id: UUID, if_match: int | None, values: Row | None = None) -> Row:
        return self.t.touch(SCHEMAS, schema_id, "schema", if_match, values)

    def delete_schema(self, schema_id: UUID, if_match: int | None) -> Row:
        return self.t.delete_versioned(SCHEMAS, schema_id, "schema", if_match)

    def list_schemas(self, after: UUID | None, limit: int) -> list[Row]:
        where = [SCHEMAS.c.id > after] if after is not None else []
        return self.t.select(SCHEMAS, *where, limit=limit, versioned=True)

    def entries_of(self, schema_id: UUID) -> list[Row]:
        return self.t.select(ENTRIES, ENTRIES.c.schema_id == schema_id)

    def restamp_entries(self, schema_id: UUID, version: int) -> None:
        self.t.update(ENTRIES, {"schema_version": version}, ENTRIES.c.schema_id == schema_id)

    def attachable_exists(self, entity_type: str, entity_id: UUID) -> bool:
        return bool(self.t.existing_ids(_ATTACHABLE[entity_type], [entity_id]))

    def add_entry(self, row: Row) -> Row:
        return self.t.insert_returning(ENTRIES, row)

    def get_entry(self, entry_id: UUID) -> Row | None:
        return self.t.get(ENTRIES, entry_id)

    def touch_entry(self, entry_id: UUID, if_match: int | None, values: Row | None = None) -> Row:
        return self.t.touch(ENTRIES, entry_id, "entry", if_match, values)

    def delete_entry(self, entry_id: UUID, if_match: int | None) -> Row:
        return self.t.delete_versioned(ENTRIES, entry_id, "entry", if_match)

    def list_entries(self, schema_id: UUID | None, entity_id: UUID | None, after: UUID | None, limit: int) -> list[Row]:
        where = []
        if schema_id is not None:
            where.append(ENTRIES.c.schema_id == schema_id)
        if entity_id is not None:
            where.append(ENTRIES.c.entity_id == entity_id)
        if after is not None:
            where.append(ENTRIES.c.id > after)
        return self.t.select(ENTRIES, *where, limit=limit, versioned=True)
