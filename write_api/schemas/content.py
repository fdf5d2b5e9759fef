"""Content request and response models (nodes; blog, forum and pages wrap them)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from write_api.schemas.common import Id, LocaleField, Metadata, Name, Out, ShortText, Slug, Strict, Text, Timestamps

NodeKind = Literal["page", "post", "comment", "topic", "reply"]


class NodeTranslationIn(Strict):
    locale: LocaleField
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)] | None = None
    slug: Slug | None = None
    excerpt: Text | None = None
    body: Text | None = None
    format: Literal["markdown", "html"] = "markdown"
    meta_title: Annotated[str, StringConstraints(max_length=300)] | None = None
    meta_description: ShortText | None = None


Translations = Annotated[list[NodeTranslationIn], Field(min_length=1, max_length=50)]


class NodeContent(Strict):
    """What a wrapper route (blog post, forum topic, page, comment) accepts: a node without its kind."""

    category_id: Id | None = None
    tags: Annotated[list[Slug], Field(max_length=50)] = []
    metadata: Metadata = {}
    position: int = Field(default=0, ge=0, le=100_000)
    status: Literal["draft", "published"] = "draft"
    translations: Translations


class NodeIn(NodeContent):
    kind: NodeKind
    parent_id: Id | None = None


class NodePatch(Strict):
    category_id: Id | None = None
    tags: Annotated[list[Slug], Field(max_length=50)] | None = None
    metadata: Metadata | None = None
    position: int | None = Field(default=None, ge=0, le=100_000)
    translations: Translations | None = None


class NodeTranslationOut(BaseModel):
    locale: str
    title: str | None = None
    slug: str | None = None
    excerpt: str | None = None
    body: str | None = None
    format: str | None = None
    meta_title: str | None = None
    meta_description: str | None = None


class NodeOut(Out, Timestamps):
    id: Any
    kind: str
    status: str
    parent_id: Any | None
    root_id: Any
    author_id: Any | None
    category_id: Any | None
    position: int
    depth: int
    metadata: dict[str, Any]
    published_at: datetime | None
    translations: list[NodeTranslationOut]
    tags: list[str]


class ContentCategoryTranslationIn(Strict):
    locale: LocaleField
    name: Name
    description: Text | None = None


class ContentCategoryIn(Strict):
    slug: Slug
    parent_id: Id | None = None
    position: int = Field(default=0, ge=0, le=10_000)
    translations: Annotated[list[ContentCategoryTranslationIn], Field(min_length=1, max_length=50)]


class ContentCategoryPatch(Strict):
    slug: Slug | None = None
    parent_id: Id | None = None
    position: int | None = Field(default=None, ge=0, le=10_000)
    translations: Annotated[list[ContentCategoryTranslationIn], Field(min_length=1, max_length=50)] | None = None


class ContentCategoryOut(Out):
    id: Any
    slug: str
    parent_id: Any | None
    position: int
    translations: list[dict[str, Any]]


class ContentTagIn(Strict):
    slug: Slug
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class ContentTagOut(Out):
    id: Any
    slug: str
    name: str
