"""What change data capture relies on: tenant_id everywhere, full replica identity,
the publication holding exactly the captured tables and none of the secrets."""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa

from contracts.captured import CAPTURED_TABLES, PUBLICATION, UNCAPTURED_TABLES
from contracts.rows import ROW_CONTRACTS
from contracts.signals import SIGNAL_TABLE
from write_api.models import metadata

NOT_TENANT_ROWS = {"tenants"}


def test_every_tenant_table_has_a_non_null_tenant_id_referencing_tenants(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        for table in set(metadata.tables) - NOT_TENANT_ROWS:
            nullable = conn.execute(
                "SELECT is_nullable FROM information_schema.columns WHERE table_name = %s AND column_name = 'tenant_id'",
                (table,),
            ).fetchone()
            assert nullable == ("NO",), f"{table} lacks a NOT NULL tenant_id"
    for table in set(metadata.tables) - NOT_TENANT_ROWS - {"outbox"}:
        targets = {fk.column.table.name for fk in metadata.tables[table].c.tenant_id.foreign_keys}
        assert "tenants" in targets, f"{table}.tenant_id does not reference tenants"


def test_captured_tables_have_full_replica_identity_and_are_published(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        published = {r[0] for r in conn.execute(
            "SELECT tablename FROM pg_publication_tables WHERE pubname = %s", (PUBLICATION,))}
        identity: dict[str, str] = dict(conn.execute(
            "SELECT relname, relreplident FROM pg_class WHERE relname = ANY(%s)", (list(CAPTURED_TABLES),)).fetchall())
    # The signal table is published too: connectors see signals in the stream (not data).
    assert published == set(CAPTURED_TABLES) | {SIGNAL_TABLE}
    assert published.isdisjoint(UNCAPTURED_TABLES)
    assert set(identity.values()) == {"f"}
    assert set(CAPTURED_TABLES) | set(UNCAPTURED_TABLES) == set(metadata.tables)


@pytest.mark.parametrize("table", CAPTURED_TABLES)
def test_row_contracts_match_the_table_columns(table: str) -> None:
    contract = ROW_CONTRACTS[table]
    columns = metadata.tables[table].c
    assert list(contract.model_fields) == [c.name for c in columns]
    for column in columns:
        field = contract.model_fields[column.name]
        assert field.is_required() == (not column.nullable), f"{table}.{column.name} nullability"


def test_read_tables_stem_each_locale_in_its_language(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        for locale, config, title in (("en", "english", "Running shoes"), ("de", "german", "Laufschuhe"),
                                      ("ru", "russian", "Беговые кроссовки")):
            conn.execute(sa.text(
                "INSERT INTO index_products (tenant_id, locale, product_id, handle, status, ts_config, document, source_lsn)"
                " VALUES (gen_random_uuid(), :locale, gen_random_uuid(), 'shoes', 'published', CAST(:config AS regconfig),"
                " CAST(:doc AS jsonb), 1)"), {"locale": locale, "config": config, "doc": f'{{"title": "{title}"}}'})
        hits = {
            query: conn.execute(sa.text(
                "SELECT locale FROM index_products WHERE search_vector @@ websearch_to_tsquery(ts_config, :q)"),
                {"q": query}).scalars().all()
            for query in ("run", "Laufschuh", "кроссовка")
        }
    assert hits == {"run": ["en"], "Laufschuh": ["de"], "кроссовка": ["ru"]}
