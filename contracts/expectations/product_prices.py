"""Suite ``product_prices``: the per-currency price ranges inside live product documents.

One row per (document, currency) from ``document->'prices'``. A value of the wrong JSON
type becomes NULL here, so the not-null expectations catch it instead of the query failing.
"""

from __future__ import annotations

import pycountry

from contracts.expectations.base import Scope, SqlSuite, gxe, live_version

ISO_CURRENCIES = sorted(c.alpha_3 for c in pycountry.currencies)


def _query(scope: Scope) -> str:
    return f"""
SELECT r.tenant_id, r.locale, r.product_id AS entity_id, p.value->>'currency' AS currency,
       CASE WHEN jsonb_typeof(p.value->'min') = 'number' THEN (p.value->>'min')::numeric END AS min_amount,
       CASE WHEN jsonb_typeof(p.value->'max') = 'number' THEN (p.value->>'max')::numeric END AS max_amount
FROM index_products r
CROSS JOIN LATERAL jsonb_array_elements(
    CASE WHEN jsonb_typeof(r.document->'prices') = 'array' THEN r.document->'prices' ELSE '[]'::jsonb END) p
WHERE r.index_version = {live_version('product')} AND {scope.tenant_filter('r.tenant_id')}"""


def product_prices_suite(scope: Scope) -> SqlSuite:
    return SqlSuite(
        name="product_prices",
        query=_query(scope),
        expectations=(
            gxe.ExpectColumnValuesToBeInSet(
                column="currency", value_set=ISO_CURRENCIES,
                description="every price range is in an ISO 4217 currency"),
            gxe.ExpectColumnValuesToNotBeNull(
                column="min_amount", description="every price range has a numeric minimum"),
            gxe.ExpectColumnValuesToNotBeNull(
                column="max_amount", description="every price range has a numeric maximum"),
            gxe.ExpectColumnValuesToBeBetween(
                column="min_amount", min_value=0, description="prices are not negative"),
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="max_amount", column_B="min_amount", or_equal=True,
                description="the minimum price is at most the maximum in each currency"),
            gxe.ExpectCompoundColumnsToBeUnique(
                column_list=["tenant_id", "locale", "entity_id", "currency"],
                description="a document has one price range per currency (currencies never mixed)"),
        ),
    )
