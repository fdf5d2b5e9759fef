"""The key → tenant cache the event loop answers from (pure, with an in-memory directory)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from contracts.keys import issue_api_key
from contracts.locale import Locale
from search_api.errors import Unauthorized
from search_api.tenancy import Authenticator, StoredKey, Tenant


@dataclass
class InMemoryDirectory:
    """A real ``TenantDirectory`` over dicts that counts its reads."""

    keys: dict[str, StoredKey] = field(default_factory=dict)
    tenants: dict[UUID, Tenant] = field(default_factory=dict)
    reads: int = 0

    def key_by_prefix(self, prefix: str) -> StoredKey | None:
        self.reads += 1
        return self.keys.get(prefix)

    def tenant_by_id(self, tenant_id: UUID) -> Tenant | None:
        self.reads += 1
        return self.tenants.get(tenant_id)

    def tenant_by_slug(self, slug: str) -> Tenant | None:
        self.reads += 1
        return next((t for t in self.tenants.values() if t.slug == slug), None)


def _shop() -> tuple[InMemoryDirectory, str, list[float]]:
    tenant = Tenant(id=uuid4(), slug="shop", default_locale=Locale("en"), locales=(Locale("en"),))
    issued = issue_api_key("search_public")
    directory = InMemoryDirectory(keys={issued.prefix: StoredKey(tenant.id, "search_public", issued.key_hash, None, None)},
                                  tenants={tenant.id: tenant})
    return directory, issued.key, [0.0]


def test_a_key_seen_within_the_ttl_is_answered_without_reading_the_directory() -> None:
    directory, key, now = _shop()
    authenticator = Authenticator(directory, {}, ttl=5.0, clock=lambda: now[0])
    assert authenticator.cached(key, None, "client") is None
    assert directory.reads == 0  # a miss never reads: the caller sends the read to a worker thread

    first = authenticator.authenticate(key, None, "client")
    reads = directory.reads
    now[0] = 4.0
    again = authenticator.cached(key, None, "client")

    assert again == first and again.tenant.slug == "shop"
    assert directory.reads == reads


def test_a_revoked_key_stops_working_once_its_cache_entry_is_older_than_the_ttl() -> None:
    directory, key, now = _shop()
    authenticator = Authenticator(directory, {}, ttl=5.0, clock=lambda: now[0])
    authenticator.authenticate(key, None, "client")
    prefix = next(iter(directory.keys))
    directory.keys[prefix] = replace(directory.keys[prefix], revoked_at=datetime.now(UTC))

    now[0] = 5.5
    assert authenticator.cached(key, None, "client") is None
    with pytest.raises(Unauthorized):
        authenticator.authenticate(key, None, "client")


def test_a_wrong_secret_with_a_cached_prefix_is_refused_from_the_cache_too() -> None:
    directory, key, now = _shop()
    authenticator = Authenticator(directory, {}, ttl=5.0, clock=lambda: now[0])
    authenticator.authenticate(key, None, "client")
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")

    with pytest.raises(Unauthorized):
        authenticator.cached(forged, None, "client")


def test_a_mapped_host_is_answered_from_the_cache_after_its_first_lookup() -> None:
    directory, _, now = _shop()
    authenticator = Authenticator(directory, {"shop.example.com": "shop"}, ttl=5.0, clock=lambda: now[0])
    assert authenticator.cached(None, "shop.example.com", "1.2.3.4") is None
    authenticator.authenticate(None, "shop.example.com", "1.2.3.4")
    reads = directory.reads

    who = authenticator.cached(None, "SHOP.example.com:443", "1.2.3.4")

    assert who is not None and who.kind == "host" and who.tenant.slug == "shop"
    assert directory.reads == reads
