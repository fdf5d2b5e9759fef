"""Requesting an incremental snapshot writes one signal row, or nothing when the request is bad."""

from __future__ import annotations

import json

import psycopg
import pytest

from contracts.signals import InvalidSignal, request_incremental_snapshot, tenant_conditions


def test_a_request_inserts_one_execute_snapshot_signal_and_returns_its_id(database_url: str) -> None:
    tenant = "01890a5d-ac96-774b-bcce-b302099a8057"
    with psycopg.connect(database_url) as conn:
        signal_id = request_incremental_snapshot(
            conn, ["commerce_products"], conditions=tenant_conditions(["commerce_products"], tenant))
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT id, type, data FROM rustok_signals").fetchall()
    assert [(r[0], r[1]) for r in rows] == [(signal_id, "execute-snapshot")]
    assert json.loads(rows[0][2])["additional-conditions"][0]["filter"] == f"tenant_id = '{tenant}'"


def test_a_bad_request_writes_nothing(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        with pytest.raises(InvalidSignal):
            request_incremental_snapshot(conn, ["commerce_products", "api_keys"])
        conn.commit()
        assert conn.execute("SELECT count(*) FROM rustok_signals").fetchone() == (0,)
