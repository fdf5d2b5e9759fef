"""The permission catalogue (`<module>.<entity>.<action>`) and the roles seeded per tenant."""

from __future__ import annotations

import re

PERMISSION_RE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")

_CRUD = ("create", "read", "update", "delete")

_ENTITIES: dict[str, tuple[str, ...]] = {
    "auth.user": ("create", "read", "update"),
    "auth.role": ("read",),
    "auth.api_key": ("create", "read", "revoke"),
    "content.node": (*_CRUD, "publish", "import"),
    "content.category": _CRUD,
    "content.tag": ("create", "read", "delete"),
    "commerce.product": (*_CRUD, "publish", "import"),
    "commerce.category": _CRUD,
    "commerce.tag": ("create", "read", "delete"),
    "commerce.price_list": ("create", "read"),
    "commerce.inventory": ("update",),
    "commerce.order": ("create", "read", "update"),
    "flex.schema": _CRUD,
    "flex.entry": _CRUD,
}

PERMISSIONS: tuple[str, ...] = tuple(f"{entity}.{action}" for entity, actions in _ENTITIES.items() for action in actions)


def _editor() -> tuple[str, ...]:
    return tuple(p for p in PERMISSIONS if not p.startswith("auth.") and not p.startswith("commerce.order."))


def _viewer() -> tuple[str, ...]:
    return tuple(p for p in PERMISSIONS if p.endswith(".read") and not p.startswith("auth."))


ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "admin": PERMISSIONS,
    "editor": _editor(),
    "viewer": _viewer(),
}
"""Roles every tenant starts with. Admin holds every permission explicitly (no wildcard),
so the database alone says who may do what."""

assert all(PERMISSION_RE.match(p) for p in PERMISSIONS)
