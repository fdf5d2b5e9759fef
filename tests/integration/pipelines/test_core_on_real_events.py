"""The projection core fed with real change events: the demo data captured by the
embedded connector from PostgreSQL, then a streamed category rename."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from connectors.embedded import ConnectorConfig, EmbeddedConnector, InMemoryConsumer
from connectors.embedded.records import ChangeRecord
from contracts.documents import PriceRange, ProductDocument
from contracts.envelope import ChangeEvent, parse_change_event
from pipelines.core import Projector
from pipelines.model import RootDocuments
from pipelines.state import SqliteStateStore
from rustok import demo

SLOT = "core_on_real_events"


@pytest.fixture
def slot_dropped(database_url: str) -> Iterator[None]:
    yield
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = %s",
                     (SLOT,))


def change_events(records: list[ChangeRecord]) -> list[ChangeEvent]:
    return [parse_change_event(r.value) for r in records if r.topic != "rustok.transaction" and r.value is not None]


def products(emissions: list[RootDocuments]) -> dict[str, dict[str, Any]]:
    """Product documents by handle, then locale."""
    found: dict[str, dict[str, Any]] = {}
    for emission in emissions:
        for doc in emission.documents:
            if isinstance(doc, ProductDocument):
                found.setdefault(doc.handle, {})[doc.locale] = doc
    return found


def test_demo_data_captured_from_postgres_becomes_the_expected_documents(
    database_url: str, engine: sa.Engine, slot_dropped: None, tmp_path: Any
) -> None:
    demo.seed_demo(engine)
    consumer = InMemoryConsumer()
    projector = Projector(SqliteStateStore(tmp_path / "state.sqlite"))
    with EmbeddedConnector(ConnectorConfig(dsn=database_url, slot_name=SLOT), consumer) as connector:
        emissions = projector.process(change_events(consumer.records))
        assert projector.invalid == []
        docs = products(emissions)
        assert sorted(docs) == sorted(demo.PRODUCTS)
        assert all(sorted(by_locale) == ["de", "en", "ru"] for by_locale in docs.values())

        linen = docs["linen-shirt"]
        assert (linen["ru"].resolved_locale, linen["ru"].title) == ("en", "Linen Shirt")
        assert (linen["de"].resolved_locale, linen["de"].title) == ("de", "Leinenhemd")
        assert linen["en"].prices == [PriceRange(currency="EUR", min=4990, max=5190),
                                      PriceRange(currency="USD", min=5490, max=5690)]
        assert (linen["en"].total_stock, linen["en"].skus) == (12, ["LINEN-SHIRT-M", "LINEN-SHIRT-L"])
        assert linen["de"].categories[0].path == ["Bekleidung", "T-Shirts"]
        assert linen["ru"].categories[0].path == ["Одежда", "Футболки"]
        assert docs["zip-hoodie"]["en"].in_stock is False
        assert docs["organic-cotton-tee"]["en"].tag_slugs == ["bestseller", "organic"]

        content: dict[tuple[str | None, str], Any] = {(doc.slug, str(doc.locale)): doc for e in emissions for doc in e.documents if doc.doc_type == "content"}
        care = content["caring-for-linen", "en"]
        assert (care.reply_count, care.author_name, care.category_name, care.tags) == (1, "Erika Editor", "News", ["Care"])
        assert content["caring-for-linen-de", "de"].category_name == "Neuigkeiten"
        assert (content["caring-for-linen", "ru"].resolved_locale, content["caring-for-linen", "ru"].category_name) == (
            "en", "Новости")
        assert content["about-ru", "ru"].body_text == "О нас\nМы делаем долговечную одежду и товары для дома из честных материалов."

        projector.store.commit()
        consumer.clear()
        with engine.begin() as conn:
            conn.execute(sa.text(
                "UPDATE commerce_category_translations SET name = 'Oberteile'"
                " WHERE locale = 'de' AND category_id = :id"), {"id": demo.demo_id("category", "t-shirts")})
        for _ in range(20):
            connector.poll(0.5)
            if change_events(consumer.records):
                break
        renamed = projector.process(change_events(consumer.records))
        assert projector.invalid == []
        assert sorted(products(renamed)) == ["linen-shirt", "organic-cotton-tee"]
        assert products(renamed)["linen-shirt"]["de"].categories[0].path == ["Bekleidung", "Oberteile"]
        assert all(e.version > max(d.version for d in linen.values()) for e in renamed)
    projector.store.close()
