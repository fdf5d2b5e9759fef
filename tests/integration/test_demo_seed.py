"""The demo tenant: what `rustok up` seeds, and that seeding twice changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from rustok import demo


def _checksum(engine: sa.Engine) -> dict[str, str]:
    with engine.connect() as conn:
        tables = conn.execute(sa.text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")).scalars()
        return {t: conn.execute(sa.text(f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {t} t")
                                ).scalar_one() for t in list(tables)}


def test_seeding_twice_inserts_nothing_the_second_time(engine: sa.Engine) -> None:
    first = demo.seed_demo(engine)
    before = _checksum(engine)
    second = demo.seed_demo(engine)
    assert first.total > 100
    assert second.total == 0
    assert _checksum(engine) == before


def test_the_demo_tenant_has_three_locales_two_currencies_a_category_tree_pages_and_posts(engine: sa.Engine) -> None:
    demo.seed_demo(engine)
    with engine.connect() as conn:
        def q(sql: str) -> Sequence[Any]:  # rows, compared with plain tuples below (a Row equals its tuple)
            return conn.execute(sa.text(sql)).all()

        assert q("SELECT locale FROM tenant_locales ORDER BY position") == [("en",), ("de",), ("ru",)]
        assert q("SELECT DISTINCT currency_code FROM commerce_prices ORDER BY 1") == [("EUR",), ("USD",)]
        assert q("SELECT count(*) FROM commerce_products p WHERE status = 'published'"
                 " AND (SELECT count(*) FROM commerce_variants v WHERE v.product_id = p.id) >= 1") == [(6,)]
        children = q("SELECT c.handle, p.handle FROM commerce_categories c JOIN commerce_categories p"
                     " ON p.id = c.parent_id ORDER BY 1")
        assert children == [("hoodies", "apparel"), ("mugs", "home"), ("t-shirts", "apparel")]
        assert q("SELECT kind, count(*) FROM nodes GROUP BY kind ORDER BY kind") == [("comment", 1), ("page", 2), ("post", 2)]
        names = q("SELECT locale, name FROM commerce_category_translations t JOIN commerce_categories c"
                  " ON c.id = t.category_id WHERE c.handle = 'mugs' ORDER BY locale")
        assert names == [("de", "Tassen"), ("en", "Mugs"), ("ru", "Кружки")]
        # One product lacks a Russian translation, so the read model's fallback has work to do.
        assert q("SELECT count(*) FROM commerce_product_translations WHERE locale = 'ru'") == [(5,)]
