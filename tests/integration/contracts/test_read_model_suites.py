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
