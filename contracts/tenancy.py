"""Tenancy: the tenant a request or a change belongs to, and its locale settings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from contracts.ids import TenantId
from contracts.locale import Locale, fallback_chain

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
SLUG_RE = re.compile(SLUG_PATTERN)
SLUG_MAX = 128

MODULES: tuple[str, ...] = ("content", "blog", "forum", "pages", "commerce", "flex", "index")
"""Modules a tenant may enable. Blog, forum and pages wrap content nodes."""


@dataclass(frozen=True)
class TenantLocales:
    """A tenant's default locale and the set it publishes in."""

    tenant_id: TenantId
    default: Locale
    enabled: frozenset[Locale] = field(default_factory=frozenset)

    def resolve(self, requested: str) -> list[Locale]:
        """Fallback chain for ``requested``, limited to locales the tenant has."""
        return [loc for loc in fallback_chain(requested, self.default) if loc in self.enabled or loc == self.default]
