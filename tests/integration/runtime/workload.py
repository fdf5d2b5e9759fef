"""A mixed stream of small write transactions on the demo tenant, for crash and
freshness scenarios: text edits, price and stock changes, new products, deletes,
unpublish/publish and category renames. Deterministic for a given seed."""

from __future__ import annotations

import random
from uuid import UUID

import psycopg

from contracts.ids import new_id
from rustok import demo

Conn = psycopg.Connection[tuple[object, ...]]


class Workload:
    def __init__(self, database_url: str, seed: int = 7) -> None:
        self._url = database_url
        self._rng = random.Random(seed)
        self._created: list[UUID] = []
        self.transactions = 0

    def step(self, conn: Conn) -> None:
        """One transaction of a randomly chosen kind."""
        kind = self._rng.choice(("title", "title", "price", "stock", "create", "create", "delete", "status",
                                 "category"))
        with conn.transaction():
            getattr(self, f"_{kind}")(conn)
        self.transactions += 1

    def _pick(self, conn: Conn, table: str) -> object:
        rows = conn.execute(f"SELECT id FROM {table} WHERE tenant_id = %s ORDER BY id", (demo.TENANT_ID,)).fetchall()
        return self._rng.choice(rows)[0]

    def _title(self, conn: Conn) -> None:
        conn.execute("UPDATE commerce_product_translations SET title = %s WHERE id = %s",
                     (f"Title {self._rng.randrange(10**6)}", self._pick(conn, "commerce_product_translations")))

    def _price(self, conn: Conn) -> None:
        conn.execute("UPDATE commerce_prices SET amount = %s WHERE id = %s",
                     (self._rng.randrange(100, 20000), self._pick(conn, "commerce_prices")))

    def _stock(self, conn: Conn) -> None:
        conn.execute("UPDATE commerce_inventory_levels SET stocked_quantity = %s WHERE id = %s",
                     (self._rng.randrange(0, 50), self._pick(conn, "commerce_inventory_levels")))

    def _create(self, conn: Conn) -> None:
        pid, vid, t = new_id(), new_id(), demo.TENANT_ID
        handle = f"w-{pid.hex[:12]}"
        conn.execute("INSERT INTO commerce_products (id, tenant_id, handle, status, published_at)"
                     " VALUES (%s, %s, %s, 'published', now())", (pid, t, handle))
        for locale in ("en", "de"):
            conn.execute("INSERT INTO commerce_product_translations (id, tenant_id, product_id, locale, title)"
                         " VALUES (%s, %s, %s, %s, %s)", (new_id(), t, pid, locale, f"Workload {locale} {handle}"))
        conn.execute("INSERT INTO commerce_variants (id, tenant_id, product_id, sku, options)"
                     " VALUES (%s, %s, %s, %s, '{\"size\": \"M\"}')", (vid, t, pid, handle.upper()))
        conn.execute("INSERT INTO commerce_prices (id, tenant_id, product_id, variant_id, currency_code, amount)"
                     " VALUES (%s, %s, %s, %s, 'EUR', %s)", (new_id(), t, pid, vid, self._rng.randrange(100, 9000)))
        conn.execute("INSERT INTO commerce_product_categories (id, tenant_id, product_id, category_id, position)"
                     " VALUES (%s, %s, %s, %s, 0)", (new_id(), t, pid, demo.demo_id("category", "t-shirts")))
        self._created.append(pid)

    def _delete(self, conn: Conn) -> None:
        if not self._created:
            return self._create(conn)
        pid = self._created.pop(self._rng.randrange(len(self._created)))
        conn.execute("DELETE FROM commerce_products WHERE id = %s", (pid,))

    def _status(self, conn: Conn) -> None:
        conn.execute("UPDATE commerce_products SET status = CASE status WHEN 'published' THEN 'draft'"
                     " ELSE 'published' END WHERE id = %s", (self._pick(conn, "commerce_products"),))

    def _category(self, conn: Conn) -> None:
        conn.execute("UPDATE commerce_category_translations SET name = %s WHERE id = %s",
                     (f"Category {self._rng.randrange(10**6)}", self._pick(conn, "commerce_category_translations")))
