"""Throughput of the projection core: ``Projector.process`` over synthetic product events.

Generates N products (each: 3 translations, 2 variants with 2 translations, prices in
EUR and USD, 2 inventory levels, a category link, 2 tag links: 17 events) in one tenant
with 3 locales, parses them into ChangeEvents up front, then times ``process`` in
batches of ``--batch`` events with each state store (SQLite commits every
``--commit-every`` batches, as a runner's checkpoint would). Envelope parsing and
sinks are outside the timing.

    .venv/bin/python bench/core_throughput.py --products 20000
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from contracts.envelope import ChangeEvent
from contracts.ids import new_id
from pipelines.core import Projector
from pipelines.state import InMemoryStateStore, SqliteStateStore, StateStore

TS = "2026-01-01T00:00:00Z"
LOCALES = ("en", "de", "ru")


class _Events:
    def __init__(self) -> None:
        self.lsn = 10_000
        self.events: list[ChangeEvent] = []

    def add(self, table: str, **row: Any) -> str:
        self.lsn += 8
        row = {"id": str(new_id()), **row}
        source = {"version": "3.2.7.Final", "connector": "postgresql", "name": "rustok", "ts_ms": 1_767_225_600_000,
                  "snapshot": "false", "db": "rustok", "sequence": None, "schema": "public", "table": table,
                  "txId": 1, "lsn": self.lsn, "xmin": None}
        self.events.append(ChangeEvent.model_validate({"before": None, "after": row, "source": source, "op": "c"}))
        return str(row["id"])


def generate(products: int) -> list[ChangeEvent]:
    e = _Events()
    t = e.add("tenants", slug="bench", name="Bench", default_locale="en", status="active", settings="{}",
              created_at=TS, updated_at=TS)
    for i, loc in enumerate(LOCALES):
        e.add("tenant_locales", tenant_id=t, locale=loc, enabled=True, position=i, created_at=TS)
    parent = None
    categories = []
    for i in range(20):
        c = e.add("commerce_categories", tenant_id=t, parent_id=parent if i % 4 else None, handle=f"cat-{i}",
                  position=i, created_at=TS, updated_at=TS)
        parent = c if i % 4 == 0 else parent
        categories.append(c)
        for loc in LOCALES:
            e.add("commerce_category_translations", tenant_id=t, category_id=c, locale=loc, name=f"Cat {i} {loc}",
                  description=None)
    tags = [e.add("commerce_tags", tenant_id=t, slug=f"tag-{i}", name=f"Tag {i}") for i in range(10)]
    for n in range(products):
        _product(e, t, n, categories, tags)
    return e.events


def _product(e: _Events, t: str, n: int, categories: list[str], tags: list[str]) -> None:
    p = e.add("commerce_products", tenant_id=t, handle=f"product-{n}", status="published", vendor="Bench",
              product_type=None, discountable=True, metadata="{}", published_at=TS, created_at=TS, updated_at=TS)
    for loc in LOCALES:
        e.add("commerce_product_translations", tenant_id=t, product_id=p, locale=loc, title=f"Product {n} {loc}",
              subtitle=None, description=f"A fine product number {n}", meta_title=None, meta_description=None,
              created_at=TS, updated_at=TS)
    for v, size in enumerate(("M", "L")):
        variant = e.add("commerce_variants", tenant_id=t, product_id=p, sku=f"P{n}-{size}", barcode=None,
                        options=json.dumps({"size": size}), inventory_policy="deny", manage_inventory=True,
                        weight_grams=None, position=v, created_at=TS, updated_at=TS)
        e.add("commerce_variant_translations", tenant_id=t, product_id=p, variant_id=variant, locale="de",
              title=f"Produkt {n} {size}", options="{}")
        for currency, amount in (("EUR", 1000 + n % 500), ("USD", 1200 + n % 500)):
            e.add("commerce_prices", tenant_id=t, product_id=p, variant_id=variant, price_list_id=None,
                  currency_code=currency, amount=amount + 100 * v, compare_at_amount=None, min_quantity=1,
                  created_at=TS, updated_at=TS)
        e.add("commerce_inventory_levels", tenant_id=t, product_id=p, variant_id=variant, location="default",
              stocked_quantity=n % 7, reserved_quantity=0, updated_at=TS)
    e.add("commerce_product_categories", tenant_id=t, product_id=p, category_id=categories[n % len(categories)],
          position=0)
    for tag in (tags[n % len(tags)], tags[(n + 3) % len(tags)]):
        e.add("commerce_product_tags", tenant_id=t, product_id=p, tag_id=tag)


def measure(store: StateStore, events: list[ChangeEvent], batch: int, commit_every: int) -> dict[str, Any]:
    projector = Projector(store)
    documents = emissions = 0
    started = time.perf_counter()
    for index, start in enumerate(range(0, len(events), batch)):
        out = projector.process(events[start:start + batch])
        if projector.invalid:
            raise SystemExit(f"invalid events: {projector.invalid[:3]}")
        emissions += len(out)
        documents += sum(len(e.documents) for e in out)
        if (index + 1) % commit_every == 0:
            store.commit()
    store.commit()
    seconds = time.perf_counter() - started
    return {"events": len(events), "seconds": round(seconds, 3), "events_per_second": round(len(events) / seconds),
            "emissions": emissions, "documents": documents}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=2_000)
    parser.add_argument("--commit-every", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "core_throughput.json")
    args = parser.parse_args()
    events = generate(args.products)
    results: dict[str, Any] = {"products": args.products, "batch": args.batch, "commit_every_batches": args.commit_every}
    results["memory"] = measure(InMemoryStateStore(), events, args.batch, args.commit_every)
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = SqliteStateStore(Path(tmp) / "state.sqlite")
        results["sqlite"] = measure(sqlite, events, args.batch, args.commit_every)
        sqlite.close()
        started = time.perf_counter()
        reopened = SqliteStateStore(Path(tmp) / "state.sqlite")
        results["sqlite"]["reopen_seconds"] = round(time.perf_counter() - started, 3)
        reopened.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
