"""``rustok up --kafka``, the README's command for the distributed runtime, from the command
line: its own broker, Kafka Connect with Debezium and Faust worker. It reports ready only
once the worker has indexed what the database held at the start (the demo catalogue), and
stops every part cleanly."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from rustok import cli, demo
from rustok.postgres import EmbeddedPostgres
from rustok.settings import get_settings


@pytest.mark.kafka
def test_rustok_up_kafka_is_ready_once_the_demo_catalogue_is_indexed_and_stops_cleanly(tmp_path: Path) -> None:
    env = {"RUSTOK_STATE_DIR": str(tmp_path), "RUSTOK_POSTGRES_PORT": "55496"}
    server = EmbeddedPostgres(tmp_path / "postgres")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli.app, ["up", "--kafka", "--exit-when-ready", "--write-port", "0",
                                              "--search-port", "0"], env=env)
        assert result.exit_code == 0, result.output
        assert "the Faust worker applied every commit made before the start" in result.output
        assert "RusToK is running" in result.output and "stopped cleanly" in result.output
        info = server.start()  # stopped with the platform: read what the worker left behind
        with psycopg.connect(info.url("rustok")) as conn:
            indexed = {row[0] for row in conn.execute("SELECT DISTINCT handle FROM index_products")}
        assert indexed == set(demo.PRODUCTS)
    finally:
        get_settings.cache_clear()
        server.destroy()
