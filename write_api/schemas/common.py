"""Field types and base models shared by every request and response schema."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from contracts.ids import Id
from contracts.locale import LocaleField
from contracts.money import CurrencyField
from write_api.domain.rules import SLUG_MESSAGE, is_slug

__all__ = ["Id", "LocaleField", "CurrencyField", "Slug", "Title", "Text", "Strict", "Out", "Page"]


def _slug(value: str) -> str:
    if not is_slug(value):
        raise ValueError(SLUG_MESSAGE)
    return value


Slug = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_slug)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(max_length=200_000)]
ShortText = Annotated[str, StringConstraints(max_length=500)]
Metadata = Annotated[dict[str, Any], Field(max_length=100)]


class Strict(BaseModel):
    """Request bodies refuse unknown fields, so a typo is an error rather than silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Out(BaseModel):
    """A response: ``version`` feeds the ETag; write responses also carry ``consistency_token``."""

    version: int | None = None
    consistency_token: str | None = None


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class Deleted(BaseModel):
    id: str
    deleted: bool = True
    consistency_token: str | None = None


class Timestamps(BaseModel):
    created_at: datetime | None = None
    updated_at: datetime | None = None
