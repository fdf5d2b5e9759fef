"""Continuous, varied writes on the demo catalogue: what crash and freshness runs feed Debezium."""

from __future__ import annotations

import random
import threading
import time
import uuid
from typing import Any

import psycopg

from rustok import demo

HANDLES = tuple(demo.PRODUCTS)


class Churn:
    """Writes ``rate`` small transactions per second until stopped; each a different kind of change.

    Parameters:
        database_url: the captured database (demo data seeded).
        rate: transactions per second.
        seed: for a reproducible mix.
    """

    def __init__(self, database_url: str, rate: float, seed: int = 7) -> None:
        self._url = database_url
        self._rate = rate
        self._random = random.Random(seed)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="churn", daemon=True)
        self._created: list[uuid.UUID] = []
        self.writes = 0
        self.error: BaseException | None = None

    def __enter__(self) -> Churn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        try:
            with psycopg.connect(self._url, autocommit=True) as conn:
                started = time.monotonic()
                while not self._stop.is_set():
                    self._write(conn)
                    self.writes += 1
                    delay = started + self.writes / self._rate - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
        except BaseException as exc:  # noqa: BLE001 — surfaced in __exit__
            self.error = exc

    def _write(self, conn: psycopg.Connection[Any]) -> None:
        pick = self._random.random()
        handle = self._random.choice(HANDLES)
        product = demo.demo_id("product", handle)
        n = self._random.randrange(1_000_000)
        if pick < 0.35:
            conn.execute("UPDATE commerce_product_translations SET title = %s WHERE product_id = %s AND locale = %s",
                         (f"{handle} {n}", product, self._random.choice(demo.LOCALES)))
        elif pick < 0.55:
            conn.execute("UPDATE commerce_prices SET amount = %s WHERE product_id = %s AND currency_code = 'EUR'",
                         (1000 + n % 9000, product))
        elif pick < 0.7:
            conn.execute("UPDATE commerce_inventory_levels SET stocked_quantity = %s WHERE product_id = %s",
                         (n % 50, product))
        elif pick < 0.8:
            category = demo.demo_id("category", self._random.choice(tuple(demo.CATEGORIES)))
            conn.execute("UPDATE commerce_category_translations SET name = %s WHERE category_id = %s AND locale = 'en'",
                         (f"Category {n}", category))
        elif pick < 0.92 or not self._created:
            self._create(conn, n)
        else:
            gone = self._created.pop(self._random.randrange(len(self._created)))
            conn.execute("DELETE FROM commerce_products WHERE id = %s", (gone,))

    def _create(self, conn: psycopg.Connection[Any], n: int) -> None:
        product = uuid.uuid4()
        with conn.transaction():
            conn.execute("INSERT INTO commerce_products (id, tenant_id, handle, status, published_at, created_at,"
                         " updated_at) VALUES (%s, %s, %s, 'published', now(), now(), now())",
                         (product, demo.TENANT_ID, f"churn-{product.hex[:12]}"))
            conn.execute("INSERT INTO commerce_product_translations (id, tenant_id, product_id, locale, title,"
                         " created_at, updated_at) VALUES (%s, %s, %s, 'en', %s, now(), now())",
                         (uuid.uuid4(), demo.TENANT_ID, product, f"Churn product {n}"))
        self._created.append(product)
