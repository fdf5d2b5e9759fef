"""The read-model suites: all pass on the pipeline's real output; each fails on a crafted bad row."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from contracts.expectations import Scope, content_read_suite, product_prices_suite, product_read_suite
from contracts.expectations.base import SqlSuite
from rustok import demo
from rustok.contracts_check import Outcome, run_sql_suites

SCOPE = Scope(freshness=timedelta(seconds=60))
TENANT = str(demo.TENANT_ID)
LINEN = str(demo.demo_id("product", "linen-shirt"))


def failed(outcomes: list[Outcome]) -> list[str]:
    return [f"{o.suite}: {o.description} ({o.unexpected}, {o.error}) {o.sample}" for o in outcomes if not o.success]


def test_every_read_model_expectation_passes_on_the_pipelines_real_output(pipeline_db: str) -> None:
    suites = [product_read_suite(SCOPE), product_prices_suite(SCOPE), content_read_suite(SCOPE)]
    outcomes = run_sql_suites(pipeline_db, suites)
    assert failed(outcomes) == []
    assert len(outcomes) == sum(len(s.expectations) for s in suites)


def live(table: str = "index_products") -> str:
    doc_type = "product" if table == "index_products" else "content"
    return f"index_version = (SELECT live_version FROM read_model_aliases WHERE doc_type = '{doc_type}')"


ONE_LINEN_ROW = f"{live()} AND product_id = '{LINEN}' AND locale = 'en'"
A_PUBLISHED = "(SELECT id FROM commerce_products WHERE status = 'published' ORDER BY handle LIMIT 1)"
COPY_COLUMNS = "index_version, tenant_id, locale, product_id, handle, status, ts_config, document, source_lsn"

# (suite, the expectation's description starts with, SQL making one bad row)
BAD_ROWS = {
    "document locale not a tag": (product_read_suite, "the document's locale is",
        f"UPDATE index_products SET document = jsonb_set(document, '{{locale}}', '\"english\"') WHERE {ONE_LINEN_ROW}"),
    "resolved locale not a tag": (product_read_suite, "the document's resolved locale",
        f"UPDATE index_products SET document = jsonb_set(document, '{{resolved_locale}}', '\"EN_us\"')"
        f" WHERE {ONE_LINEN_ROW}"),
    "unknown status": (product_read_suite, "the document's status",
        f"UPDATE index_products SET document = jsonb_set(document, '{{status}}', '\"gone\"') WHERE {ONE_LINEN_ROW}"),
    "duplicate handle": (product_read_suite, "handles are unique",
        "UPDATE index_products SET document = jsonb_set(document, '{handle}', '\"ceramic-mug\"')"
        f" WHERE {ONE_LINEN_ROW}"),
    "document of another entity": (product_read_suite, "the document states",
        f"UPDATE index_products SET document = jsonb_set(document, '{{id}}', '\"{demo.demo_id('product', 'x')}\"')"
        f" WHERE {ONE_LINEN_ROW}"),
    "locale not enabled": (product_read_suite, "every row is in a locale",
        f"INSERT INTO index_products ({COPY_COLUMNS}) SELECT index_version, tenant_id, 'fr', product_id, handle,"
        f" status, ts_config, jsonb_set(document, '{{locale}}', '\"fr\"'), source_lsn FROM index_products"
        f" WHERE {ONE_LINEN_ROW}"),
    "missing locale row": (product_read_suite, "every published product has one row",
        f"DELETE FROM index_products WHERE {live()} AND locale = 'de' AND product_id = {A_PUBLISHED}"),
    "row of a deleted product": (product_read_suite, "no row for a deleted",
        f"DELETE FROM commerce_products WHERE id = '{LINEN}'"),
    "unpublished product still published": (product_read_suite, "no row for a deleted",
        f"UPDATE commerce_products SET status = 'draft' WHERE id = {A_PUBLISHED}"),
    "row in another tenant": (product_read_suite, "no row for a deleted",
        f"INSERT INTO tenants (id, slug, name, default_locale) VALUES ('{demo.demo_id('tenant', 'b')}', 'other-b',"
        f" 'Other', 'en'); INSERT INTO index_products ({COPY_COLUMNS}) SELECT index_version,"
        f" '{demo.demo_id('tenant', 'b')}', locale, product_id, handle, status, ts_config,"
        f" jsonb_set(document, '{{tenant_id}}', '\"{demo.demo_id('tenant', 'b')}\"'), source_lsn FROM index_products"
        f" WHERE {ONE_LINEN_ROW}"),
    "indexed late": (product_read_suite, "every row was indexed within",
        f"UPDATE index_products SET source_committed_at = indexed_at - interval '5 minutes' WHERE {ONE_LINEN_ROW}"),
    "invalid currency": (product_prices_suite, "every price range is in an ISO",
        f"UPDATE index_products SET document = jsonb_set(document, '{{prices,0,currency}}', '\"EUX\"')"
        f" WHERE {ONE_LINEN_ROW}"),
    "minimum not a number": (product_prices_suite, "every price range has a numeric minimum",
        f"UPDATE index_products SET document = jsonb_set(document, '{{prices,0,min}}', '\"12\"') WHERE {ONE_LINEN_ROW}"),
    "maximum missing": (product_prices_suite, "every price range has a numeric maximum",
        f"UPDATE index_products SET document = document #- '{{prices,0,max}}' WHERE {ONE_LINEN_ROW}"),
    "negative price": (product_prices_suite, "prices are not negative",
        f"UPDATE index_products SET document = jsonb_set(document, '{{prices,0,min}}', '-1') WHERE {ONE_LINEN_ROW}"),
    "min above max": (product_prices_suite, "the minimum price is at most",
        f"UPDATE index_products SET document = jsonb_set(document, '{{prices,0,min}}', '999999999')"
        f" WHERE {ONE_LINEN_ROW}"),
    "currency twice": (product_prices_suite, "a document has one price range per currency",
        f"UPDATE index_products SET document = jsonb_set(document, '{{prices}}',"
        f" (document->'prices') || jsonb_build_array(document->'prices'->0)) WHERE {ONE_LINEN_ROW}"),
    "duplicate slug": (content_read_suite, "slugs are unique",
        "UPDATE index_content a SET document = jsonb_set(a.document, '{slug}', to_jsonb(b.slug))"
        f" FROM (SELECT slug FROM index_content WHERE {live('index_content')} AND locale = 'en' AND slug IS NOT NULL"
        " ORDER BY node_id LIMIT 1) b"
        f" WHERE a.{live('index_content')} AND a.locale = 'en' AND a.node_id = (SELECT node_id FROM index_content"
        f" WHERE {live('index_content')} AND locale = 'en' AND slug IS NOT NULL ORDER BY node_id DESC LIMIT 1)"),
}


def only(suite: SqlSuite, description: str) -> SqlSuite:
    chosen = tuple(e for e in suite.expectations if (e.description or "").startswith(description))
    assert len(chosen) == 1, description
    return SqlSuite(suite.name, suite.query, chosen)


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_each_read_model_expectation_fails_on_a_crafted_bad_row(pipeline_db: str, case: str) -> None:
    make_suite, description, bad_row = BAD_ROWS[case]
    suite = only(make_suite(SCOPE), description)
    assert failed(run_sql_suites(pipeline_db, [suite])) == []
    with psycopg.connect(pipeline_db, autocommit=True) as conn:
        conn.execute(bad_row)
    [outcome] = run_sql_suites(pipeline_db, [suite])
    assert not outcome.success and outcome.error is None
    assert outcome.unexpected is not None and outcome.unexpected >= 1
