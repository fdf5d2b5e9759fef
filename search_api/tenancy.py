"""Who is asking: a tenant and what its key may see, from a search key or the host.

Keys are looked up by their clear prefix and checked against the stored SHA-256; the
answer (found or not) is cached for ``ttl`` seconds, so a revoked key stops working
within that time (5 s by default) while a hot key costs one dict lookup per request.
Integration keys never open the search API. Host mapping yields a public principal.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol
from uuid import UUID

from contracts.keys import InvalidApiKey, key_matches, parse_api_key
from contracts.locale import Locale, language_of
from search_api.db import Database
from search_api.errors import Forbidden, Unauthorized
from search_api.query import Status

PrincipalKind = Literal["search_public", "search_admin", "host"]


@dataclass(frozen=True, slots=True)
class Tenant:
    id: UUID
    slug: str
    default_locale: Locale
    locales: tuple[Locale, ...]
    active: bool = True

    def resolve_locale(self, requested: Locale | None) -> Locale:
        """Requested locale if enabled, else its language if enabled, else the tenant default."""
        if requested is not None:
            for candidate in (requested, Locale(language_of(requested))):
                if candidate in self.locales:
                    return candidate
        return self.default_locale


@dataclass(frozen=True, slots=True)
class Principal:
    tenant: Tenant
    kind: PrincipalKind
    bucket: str  # rate-limit bucket: the key prefix, or host plus client address

    def allowed_statuses(self, requested: tuple[Status, ...]) -> tuple[Status, ...]:
        if self.kind != "search_admin" and requested != ("published",):
            raise Forbidden("only an admin search key may see unpublished documents")
        return requested


@dataclass(frozen=True, slots=True)
class StoredKey:
    tenant_id: UUID
    kind: str
    key_hash: str
    revoked_at: datetime | None
    expires_at: datetime | None


class TenantDirectory(Protocol):
    def key_by_prefix(self, prefix: str) -> StoredKey | None: ...

    def tenant_by_id(self, tenant_id: UUID) -> Tenant | None: ...

    def tenant_by_slug(self, slug: str) -> Tenant | None: ...


class PostgresTenantDirectory:
    def __init__(self, database: Database) -> None:
        self._db = database

    def key_by_prefix(self, prefix: str) -> StoredKey | None:
        row = self._db.fetch_one("SELECT tenant_id, kind, key_hash, revoked_at, expires_at FROM api_keys"
                                 " WHERE prefix = %s", [prefix])
        return StoredKey(*row) if row else None

    def tenant_by_id(self, tenant_id: UUID) -> Tenant | None:
        return self._tenant("t.id = %s", tenant_id)

    def tenant_by_slug(self, slug: str) -> Tenant | None:
        return self._tenant("t.slug = %s", slug)

    def _tenant(self, condition: str, value: object) -> Tenant | None:
        row = self._db.fetch_one(
            "SELECT t.id, t.slug, t.default_locale, t.status, coalesce(array_agg(l.locale ORDER BY l.position)"
            " FILTER (WHERE l.enabled), '{}') FROM tenants t LEFT JOIN tenant_locales l ON l.tenant_id = t.id"
            f" WHERE {condition} GROUP BY t.id", [value])
        if row is None:
            return None
        locales = tuple(Locale(x) for x in row[4]) or (Locale(row[2]),)
        return Tenant(id=row[0], slug=row[1], default_locale=Locale(row[2]), locales=locales, active=row[3] == "active")


class _TtlCache:
    def __init__(self, ttl: float, clock: Callable[[], float]) -> None:
        self._ttl, self._clock = ttl, clock
        self._items: dict[object, tuple[float, object]] = {}
        self._lock = threading.Lock()

    def peek(self, key: object) -> tuple[bool, object]:
        """(True, value) while ``key`` holds a fresh answer, else (False, None); never loads."""
        with self._lock:
            hit = self._items.get(key)
        if hit is not None and self._clock() - hit[0] < self._ttl:
            return True, hit[1]
        return False, None

    def get(self, key: object, load: Callable[[], object]) -> object:
        fresh, value = self.peek(key)
        if fresh:
            return value
        now = self._clock()
        value = load()
        with self._lock:
            if len(self._items) > 10_000:
                self._items.clear()  # bounded memory against floods of random prefixes
            self._items[key] = (now, value)
        return value


class Authenticator:
    """Turns a presented key or a request host into a ``Principal`` (or refuses)."""

    def __init__(self, directory: TenantDirectory, host_tenants: Mapping[str, str], ttl: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._directory = directory
        self._hosts = {host.lower(): slug for host, slug in host_tenants.items()}
        self._cache = _TtlCache(ttl, clock)

    def cached(self, key: str | None, host: str | None, client: str) -> Principal | None:
        """The principal when every lookup it needs is cached and fresh, else None: the
        event loop calls this and leaves a directory read to a worker thread."""
        if key:
            try:
                prefix = parse_api_key(key).prefix
            except InvalidApiKey:
                return None
            fresh, stored = self._cache.peek(("key", prefix))
            lookups: list[tuple[str, object]] = []
            if fresh and isinstance(stored, StoredKey):
                lookups.append(("tenant", stored.tenant_id))
        else:
            slug = self._hosts.get((host or "").split(":", 1)[0].lower())
            fresh, lookups = slug is not None, [("slug", slug)]
        if not fresh or not all(self._cache.peek(k)[0] for k in lookups):
            return None
        return self.authenticate(key, host, client)

    def authenticate(self, key: str | None, host: str | None, client: str) -> Principal:
        if key:
            return self._by_key(key)
        slug = self._hosts.get((host or "").split(":", 1)[0].lower())
        if slug is None:
            raise Unauthorized("send a search key (Authorization: Bearer <key> or X-Search-Key)")
        tenant = self._tenant(("slug", slug), lambda: self._directory.tenant_by_slug(slug))
        if tenant is None or not tenant.active:
            raise Unauthorized("this host is not mapped to an active tenant")
        return Principal(tenant=tenant, kind="host", bucket=f"host:{slug}:{client}")

    def _by_key(self, key: str) -> Principal:
        refused = Unauthorized("this key is not a valid, current search key")
        try:
            presented = parse_api_key(key)
        except InvalidApiKey:
            raise refused from None
        stored = self._cache.get(("key", presented.prefix), lambda: self._directory.key_by_prefix(presented.prefix))
        if not isinstance(stored, StoredKey) or not key_matches(presented, stored.key_hash):
            raise refused
        now = datetime.now(UTC)
        if stored.revoked_at is not None or (stored.expires_at is not None and stored.expires_at <= now):
            raise refused
        if stored.kind not in ("search_public", "search_admin") or stored.kind != presented.kind:
            raise Forbidden("integration keys cannot be used for search; issue a search key")
        tenant_id = stored.tenant_id
        tenant = self._tenant(("tenant", tenant_id), lambda: self._directory.tenant_by_id(tenant_id))
        if tenant is None or not tenant.active:
            raise refused
        kind: PrincipalKind = "search_admin" if stored.kind == "search_admin" else "search_public"
        return Principal(tenant=tenant, kind=kind, bucket=f"key:{presented.prefix}")

    def _tenant(self, key: object, load: Callable[[], object]) -> Tenant | None:
        value = self._cache.get(key, load)
        return value if isinstance(value, Tenant) else None
