"""Fixtures for incremental snapshot tests: the demo tenant plus a second tenant, and slot cleanup."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
import sqlalchemy as sa

from contracts.ids import new_id
from rustok import demo
from tests.waiting import wait_for  # noqa: F401  (re-exported for the signal tests)

OTHER_PRODUCTS = 3


@pytest.fixture
def two_tenants(engine: sa.Engine, database_url: str) -> Iterator[str]:
    """Seeds the demo tenant and a second tenant with a few products; yields the second tenant's id."""
    demo.seed_demo(engine)
    other = new_id()
    with psycopg.connect(database_url) as conn:
        conn.execute("INSERT INTO tenants (id, slug, name, default_locale, status, settings)"
                     " VALUES (%s, 'other', 'Other', 'en', 'active', '{}')", (other,))
        conn.execute("INSERT INTO tenant_locales (id, tenant_id, locale, position) VALUES (%s, %s, 'en', 0)",
                     (new_id(), other))
        for n in range(OTHER_PRODUCTS):
            product = new_id()
            conn.execute("INSERT INTO commerce_products (id, tenant_id, handle, status) VALUES (%s, %s, %s, 'draft')",
                         (product, other, f"other-{n}"))
            conn.execute("INSERT INTO commerce_product_translations (id, tenant_id, product_id, locale, title)"
                         " VALUES (%s, %s, %s, 'en', %s)", (new_id(), other, product, f"Other {n}"))
    yield str(other)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE NOT active")
