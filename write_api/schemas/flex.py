"""Flex request and response models."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from write_api.schemas.common import Id, Name, Out, Slug, Strict, Timestamps


class FlexSchemaIn(Strict):
    slug: Slug
    name: Name
    fields: Annotated[list[Any], Field(max_length=50)]


class FlexSchemaUpdate(Strict):
    name: Name
    fields: Annotated[list[Any], Field(max_length=50)]
    allow_invalid_entries: bool = False


class InvalidEntry(BaseModel):
    id: Any
    errors: list[dict[str, Any]]


class FlexSchemaOut(Out, Timestamps):
    id: Any
    slug: str
    name: str
    fields: list[dict[str, Any]]
    version: int | None = None
    schema_version: int
    invalid_entries: list[InvalidEntry] = []


class FlexEntryIn(Strict):
    schema_id: Id
    entity_type: Literal["product", "node"] | None = None
    entity_id: Id | None = None
    data: Annotated[dict[str, Any], Field(max_length=50)]


class FlexEntryUpdate(Strict):
    data: Annotated[dict[str, Any], Field(max_length=50)]


class FlexEntryOut(Out, Timestamps):
    id: Any
    schema_id: Any
    schema_version: int
    entity_type: str | None
    entity_id: Any | None
    data: dict[str, Any]
