"""Data contracts as great-expectations suites, kept as code so they are reviewed like code.

One module per suite:

* :mod:`.read_products` — the live product read rows (``index_products``) against the write model;
* :mod:`.product_prices` — the per-currency price ranges inside those documents;
* :mod:`.read_content` — the live content read rows (``index_content``) against the write model;
* :mod:`.change_streams` — change events per captured table against its row contract.

A suite is data: the rows it validates (an SQL query over the deployment's database,
or a dataframe of sampled change events) and the expectations. Running them is I/O and
lives in :mod:`rustok.contracts_check`.

Errors (root :class:`ExpectationsError`)::

    ExpectationsError
    └── InvalidScope      a tenant id or freshness bound that cannot be used in a suite
"""

from __future__ import annotations

from contracts.expectations.base import ExpectationsError, FrameSuite, InvalidScope, Scope, SqlSuite
from contracts.expectations.change_streams import change_stream_suite, event_records
from contracts.expectations.product_prices import product_prices_suite
from contracts.expectations.read_content import content_read_suite
from contracts.expectations.read_products import product_read_suite


def read_model_suites(scope: Scope) -> list[SqlSuite]:
    """Every read-model suite, for one tenant or all (``scope``)."""
    return [product_read_suite(scope), product_prices_suite(scope), content_read_suite(scope)]


__all__ = [
    "ExpectationsError",
    "FrameSuite",
    "InvalidScope",
    "Scope",
    "SqlSuite",
    "change_stream_suite",
    "content_read_suite",
    "event_records",
    "product_prices_suite",
    "product_read_suite",
    "read_model_suites",
]
