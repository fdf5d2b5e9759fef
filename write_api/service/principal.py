"""Who is calling: a user (JWT) or an integration key, always inside one tenant."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from write_api.errors import NotFound, PermissionDenied


@dataclass(frozen=True, slots=True)
class Principal:
    tenant_id: UUID
    user_id: UUID | None
    api_key_id: UUID | None
    permissions: frozenset[str]
    modules: frozenset[str]
    default_locale: str
    locales: frozenset[str]

    def require(self, permission: str, module: str | None) -> None:
        # A disabled module answers 404 before any permission talk, so it looks absent.
        if module is not None and module not in self.modules:
            raise NotFound(f"the {module} module is not enabled for this tenant")
        if permission not in self.permissions:
            raise PermissionDenied(f"this credential lacks the permission {permission}")
