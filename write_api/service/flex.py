"""Flex commands: schemas (a change reports or refuses entries it would strand) and entries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from write_api.domain.flex import fields_to_json, parse_fields, validate_entry
from write_api.errors import Conflict, FieldError, InvalidInput, NotFound
from write_api.schemas.flex import FlexEntryIn, FlexEntryUpdate, FlexSchemaIn, FlexSchemaUpdate
from write_api.service.common import Written
from write_api.service.principal import Principal
from write_api.service.uow import UnitOfWork


@dataclass(frozen=True)
class DefineSchema:
    principal: Principal
    data: FlexSchemaIn


@dataclass(frozen=True)
class ChangeSchema:
    principal: Principal
    schema_id: UUID
    data: FlexSchemaUpdate
    if_match: int | None


@dataclass(frozen=True)
class DeleteSchema:
    principal: Principal
    schema_id: UUID
    if_match: int | None


@dataclass(frozen=True)
class CreateEntry:
    principal: Principal
    data: FlexEntryIn


@dataclass(frozen=True)
class UpdateEntry:
    principal: Principal
    entry_id: UUID
    data: FlexEntryUpdate
    if_match: int | None


@dataclass(frozen=True)
class DeleteEntry:
    principal: Principal
    entry_id: UUID
    if_match: int | None


def define_schema(cmd: DefineSchema, uow: UnitOfWork) -> Written:
    fields = fields_to_json(parse_fields(cmd.data.fields))
    with uow:
        row = uow.flex.add_schema({"slug": cmd.data.slug, "name": cmd.data.name, "fields": fields})
        uow.outbox.append("flex_schema", row["id"], "FlexSchemaDefined", {"id": str(row["id"]), "slug": row["slug"]})
        token = uow.commit()
    return Written(schema_view(row), row["version"], token)


def _stranded(specs: Any, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    stranded = []
    for entry in entries:
        errors = validate_entry(specs, entry["data"], ("data",))
        if errors:
            stranded.append({"id": entry["id"], "errors": [{"path": list(e.path), "message": e.message} for e in errors]})
    return stranded


def change_schema(cmd: ChangeSchema, uow: UnitOfWork) -> Written:
    specs = parse_fields(cmd.data.fields)
    with uow:
        current = uow.flex.touch_schema(cmd.schema_id, cmd.if_match)
        stranded = _stranded(specs, uow.flex.entries_of(cmd.schema_id))
        if stranded and not cmd.data.allow_invalid_entries:
            raise Conflict(
                f"{len(stranded)} existing entries would no longer be valid; fix them first or send allow_invalid_entries",
                tuple(FieldError(("entries", str(s["id"]), *e["path"]), e["message"]) for s in stranded for e in s["errors"]),
            )
        new_def = int(current["definition_version"]) + 1
        row = uow.flex.touch_schema(cmd.schema_id, None, {"name": cmd.data.name, "fields": fields_to_json(specs), "version": new_def})
        valid_ids = {e["id"] for e in uow.flex.entries_of(cmd.schema_id)} - {s["id"] for s in stranded}
        if valid_ids:
            uow.flex.restamp_entries(cmd.schema_id, new_def)
        uow.outbox.append("flex_schema", cmd.schema_id, "FlexSchemaChanged",
                          {"id": str(cmd.schema_id), "schema_version": new_def, "invalid_entries": [str(s["id"]) for s in stranded]})
        token = uow.commit()
    return Written(schema_view(row, stranded), row["version"], token)


def delete_schema(cmd: DeleteSchema, uow: UnitOfWork) -> Written:
    with uow:
        if uow.flex.entries_of(cmd.schema_id):
            raise Conflict("entries still use this schema; delete them first", (FieldError(("path", "schema_id"), "in use"),))
        uow.flex.delete_schema(cmd.schema_id, cmd.if_match)
        uow.outbox.append("flex_schema", cmd.schema_id, "FlexSchemaDeleted", {"id": str(cmd.schema_id)})
        token = uow.commit()
    return Written({"id": str(cmd.schema_id), "deleted": True}, None, token)


def create_entry(cmd: CreateEntry, uow: UnitOfWork) -> Written:
    data = cmd.data
    if (data.entity_type is None) != (data.entity_id is None):
        raise InvalidInput("entity_type and entity_id go together",
                           (FieldError(("body", "entity_id" if data.entity_id is None else "entity_type"), "give both or neither"),))
    with uow:
        schema = uow.flex.get_schema(data.schema_id)
        if schema is None:
            raise InvalidInput("unknown schema", (FieldError(("body", "schema_id"), f"no schema with id {data.schema_id}"),))
        _validate(schema, data.data)
        if data.entity_type is not None and data.entity_id is not None and not uow.flex.attachable_exists(data.entity_type, data.entity_id):
            raise InvalidInput("unknown attachment", (FieldError(("body", "entity_id"), f"no {data.entity_type} with this id"),))
        row = uow.flex.add_entry({"schema_id": data.schema_id, "schema_version": _schema_def(schema),
                                  "entity_type": data.entity_type, "entity_id": data.entity_id, "data": data.data})
        uow.outbox.append("flex_entry", row["id"], "FlexEntryCreated",
                          {"id": str(row["id"]), "schema_id": str(data.schema_id), "entity_type": data.entity_type,
                           "entity_id": str(data.entity_id) if data.entity_id else None})
        token = uow.commit()
    return Written(entry_view(row), row["version"], token)


def update_entry(cmd: UpdateEntry, uow: UnitOfWork) -> Written:
    with uow:
        entry = uow.flex.touch_entry(cmd.entry_id, cmd.if_match)
        schema = uow.flex.get_schema(entry["schema_id"])
        if schema is None:
            raise NotFound("the entry's schema is gone")
        _validate(schema, cmd.data.data)
        row = uow.flex.touch_entry(cmd.entry_id, None, {"data": cmd.data.data, "schema_version": _schema_def(schema)})
        uow.outbox.append("flex_entry", cmd.entry_id, "FlexEntryUpdated", {"id": str(cmd.entry_id)})
        token = uow.commit()
    return Written(entry_view(row), row["version"], token)


def delete_entry(cmd: DeleteEntry, uow: UnitOfWork) -> Written:
    with uow:
        uow.flex.delete_entry(cmd.entry_id, cmd.if_match)
        uow.outbox.append("flex_entry", cmd.entry_id, "FlexEntryDeleted", {"id": str(cmd.entry_id)})
        token = uow.commit()
    return Written({"id": str(cmd.entry_id), "deleted": True}, None, token)


def _validate(schema: dict[str, Any], data: dict[str, Any]) -> None:
    errors = validate_entry(parse_fields(schema["fields"], ("schema", "fields")), data)
    if errors:
        raise InvalidInput("the entry does not match its schema", tuple(errors))


def _schema_def(schema: dict[str, Any]) -> int:
    return int(schema["definition_version"])


def entry_view(row: dict[str, Any]) -> dict[str, Any]:
    return dict(row)


def schema_view(row: dict[str, Any], stranded: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    # ``version`` is the row version behind the ETag; ``schema_version`` counts definition changes.
    return {**row, "schema_version": row["definition_version"], "invalid_entries": stranded or []}
