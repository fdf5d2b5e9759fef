"""Read helpers over the state store for building documents, cached for one build phase.

Every lookup names the tenant it reads for and ignores rows of any other tenant, so a
document can never pick up another tenant's category, tag or author even if ids were
confused upstream.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from contracts.documents import CategoryRef
from contracts.locale import fallback_chain
from pipelines.core.tables import categories_group, locales_group, row_key, translations_group
from pipelines.state.port import StateStore

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class TenantView:
    """A tenant as documents see it: its default locale and its enabled locales, in order."""

    id: str
    default_locale: str
    locales: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CategoryNode:
    id: str
    handle: str
    parent_id: str | None
    names: Mapping[str, str]


@dataclass
class Lookup:
    """Cached reads of dimension rows; build one per batch, after every event is applied."""

    store: StateStore
    _tenants: dict[str, TenantView | None] = field(default_factory=dict)
    _categories: dict[str, dict[str, CategoryNode]] = field(default_factory=dict)
    _chains: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    # (tenant, category, locale chain) → a product document's category ref (None: not in the
    # tree), filled by the product builder.
    category_refs: dict[tuple[str, str, tuple[str, ...]], CategoryRef | None] = field(default_factory=dict)

    def row(self, table: str, row_id: str | None, tenant_id: str) -> Row | None:
        """A live row of ``table`` that belongs to ``tenant_id``, or None."""
        if row_id is None:
            return None
        stored = self.store.get(row_key(table, row_id))
        if stored is None or stored.row is None or stored.row["tenant_id"] != tenant_id:
            return None
        return stored.row

    def tenant(self, tenant_id: str) -> TenantView | None:
        if tenant_id not in self._tenants:
            self._tenants[tenant_id] = self._load_tenant(tenant_id)
        return self._tenants[tenant_id]

    def _load_tenant(self, tenant_id: str) -> TenantView | None:
        stored = self.store.get(row_key("tenants", tenant_id))
        if stored is None or stored.row is None:
            return None
        default = stored.row["default_locale"]
        enabled = sorted(
            (row["position"], row["locale"])
            for _, member in self.store.members(locales_group(tenant_id))
            if (row := member.row) is not None and row["enabled"] and row["tenant_id"] == tenant_id
        )
        locales = tuple(dict.fromkeys(locale for _, locale in enabled)) or (default,)
        return TenantView(tenant_id, default, locales)

    def translations(self, table: str, parent_id: str, tenant_id: str) -> dict[str, Row]:
        """Live translation rows of a dimension row, by locale."""
        return {
            row["locale"]: row
            for _, member in self.store.members(translations_group(table, parent_id))
            if (row := member.row) is not None and row["tenant_id"] == tenant_id
        }

    def category(self, category_id: str, tenant_id: str) -> CategoryNode | None:
        """A commerce category with its names; the tenant's tree is loaded once per batch."""
        tree = self._categories.get(tenant_id)
        if tree is None:
            tree = self._categories[tenant_id] = self._load_categories(tenant_id)
        return tree.get(category_id)

    def _load_categories(self, tenant_id: str) -> dict[str, CategoryNode]:
        tree: dict[str, CategoryNode] = {}
        for _, member in self.store.members(categories_group(tenant_id)):
            row = member.row
            if row is None or row["tenant_id"] != tenant_id:
                continue
            names = {
                locale: tr["name"]
                for locale, tr in self.translations("commerce_categories", row["id"], tenant_id).items()
            }
            tree[row["id"]] = CategoryNode(row["id"], row["handle"], row.get("parent_id"), names)
        return tree

    def chain(self, locale: str, tenant: TenantView) -> tuple[str, ...]:
        """Locales to try for ``locale``: requested, its language, the tenant default."""
        key = (locale, tenant.default_locale)
        chain = self._chains.get(key)
        if chain is None:
            chain = self._chains[key] = tuple(fallback_chain(locale, tenant.default_locale))
        return chain


def pick(by_locale: Mapping[str, Row], chain: Sequence[str], *, any_locale: bool = False) -> tuple[Row, str] | None:
    """The first translation along ``chain``; None if there is none there.

    With ``any_locale`` a root's own text never goes blank while it has any
    translation at all: past the chain, the first translation by locale tag is used.
    """
    for locale in chain:
        row = by_locale.get(locale)
        if row is not None:
            return row, locale
    if any_locale and by_locale:
        locale = min(by_locale)
        return by_locale[locale], locale
    return None


def pick_name(names: Mapping[str, str], chain: Sequence[str], default: str) -> str:
    for locale in chain:
        name = names.get(locale)
        if name is not None:
            return name
    return names[min(names)] if names else default
