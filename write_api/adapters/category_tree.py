"""A tenant's category tree with translations.

Commerce and content each have one (``commerce_categories`` keyed by handle,
``content_categories`` keyed by slug); the rows differ only in that key column, so one
adapter serves both.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from write_api.adapters.tables import Row, TenantTables


class CategoryTree:
    def __init__(self, tables: TenantTables, categories: sa.Table, translations: sa.Table, what: str) -> None:
        self.t = tables
        self.categories = categories
        self.translations = translations
        self.what = what

    def ids(self, ids: Iterable[UUID]) -> set[UUID]:
        return self.t.existing_ids(self.categories, ids)

    def add(self, row: Row, translations: Sequence[Row]) -> Row:
        root = self.t.insert_returning(self.categories, row)
        self.replace_translations(root["id"], translations, existing=False)
        return root

    def touch(self, category_id: UUID, if_match: int | None, values: Row | None = None) -> Row:
        return self.t.touch(self.categories, category_id, self.what, if_match, values)

    def replace_translations(self, category_id: UUID, translations: Sequence[Row], *, existing: bool = True) -> None:
        if existing:
            self.t.delete(self.translations, self.translations.c.category_id == category_id)
        self.t.insert(self.translations, [{**t, "category_id": category_id} for t in translations])

    def parents(self) -> dict[UUID, UUID | None]:
        return {r["id"]: r["parent_id"] for r in self.t.select(self.categories)}

    def delete(self, category_id: UUID, if_match: int | None) -> Row:
        return self.t.delete_versioned(self.categories, category_id, self.what, if_match)

    def load(self, roots: Sequence[Row]) -> list[dict[str, Any]]:
        ids = [r["id"] for r in roots]
        names: dict[UUID, list[Row]] = defaultdict(list)
        rows = self.t.select(self.translations, self.translations.c.category_id.in_(ids),
                             order_by=[self.translations.c.locale]) if ids else []
        for t in rows:
            names[t["category_id"]].append({"locale": t["locale"], "name": t["name"], "description": t["description"]})
        return [{**r, "translations": names.get(r["id"], [])} for r in roots]

    def get(self, category_id: UUID) -> dict[str, Any] | None:
        row = self.t.get(self.categories, category_id)
        return None if row is None else self.load([row])[0]

    def list(self, after: UUID | None, limit: int) -> list[dict[str, Any]]:
        where: list[sa.ColumnElement[bool]] = [self.categories.c.id > after] if after is not None else []
        return self.load(self.t.select(self.categories, *where, limit=limit, versioned=True))
