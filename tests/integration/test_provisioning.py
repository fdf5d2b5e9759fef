"""Where PostgreSQL comes from: the embedded server, or a configured URL checked at start."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from migrations import runner
from rustok.database import provision
from rustok.postgres import EmbeddedPostgres, PostgresNotReady, ServerInfo
from rustok.settings import RustokSettings


def test_the_embedded_server_feeds_logical_replication(pg_server: ServerInfo) -> None:
    with psycopg.connect(pg_server.url("postgres")) as conn:
        settings: dict[str, str] = dict(conn.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN"
            " ('wal_level', 'max_replication_slots', 'max_wal_senders', 'listen_addresses', 'max_slot_wal_keep_size')"
        ).fetchall())
    assert settings["wal_level"] == "logical"
    assert int(settings["max_replication_slots"]) >= 10 and int(settings["max_wal_senders"]) >= 10
    assert settings["listen_addresses"] == "127.0.0.1"
    assert int(settings["max_slot_wal_keep_size"]) > 0


def test_provisioning_without_a_url_starts_the_embedded_server_and_creates_the_database(tmp_path: Path) -> None:
    settings = RustokSettings(state_dir=tmp_path, postgres_port=55499, database_name="shop")
    try:
        database = provision(settings)
        assert database.embedded and database.url.endswith("/shop")
        again = provision(settings)  # idempotent: already running, database exists
        assert again.url == database.url
        with psycopg.connect(database.url) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("shop",)
    finally:
        EmbeddedPostgres(settings.postgres_dir).destroy()


def test_a_configured_server_without_logical_wal_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    server = EmbeddedPostgres(tmp_path / "replica-wal", preferred_port=55498,
                              settings={"wal_level": "replica", "max_wal_senders": "10"})
    info = server.start()
    try:
        settings = RustokSettings(database_url=info.url("postgres"))
        with pytest.raises(PostgresNotReady, match="wal_level is 'replica'.*wal_level=logical"):
            provision(settings)
        result = CliRunner().invoke(__import__("rustok.cli", fromlist=["app"]).app, ["db", "start"],
                                    env={"RUSTOK_DATABASE_URL": info.url("postgres")})
        assert result.exit_code == 2
        assert "wal_level" in result.output
    finally:
        server.destroy()


def test_an_unreachable_configured_server_is_reported_not_crashed() -> None:
    settings = RustokSettings(database_url="postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(PostgresNotReady, match="cannot connect"):
        provision(settings)


def test_rustok_up_provisions_migrates_seeds_and_is_idempotent(tmp_path: Path) -> None:
    from rustok import cli
    from rustok.settings import get_settings

    env = {"RUSTOK_STATE_DIR": str(tmp_path), "RUSTOK_POSTGRES_PORT": "55497"}
    get_settings.cache_clear()
    try:
        args = ["up", "--exit-when-ready", "--write-port", "0", "--search-port", "0"]
        first = CliRunner().invoke(cli.app, args, env=env)
        get_settings.cache_clear()
        second = CliRunner().invoke(cli.app, args, env=env)
    finally:
        get_settings.cache_clear()
        EmbeddedPostgres(tmp_path / "postgres").destroy()
    assert first.exit_code == 0, first.output
    assert f"base → {runner.head_revision()}" in first.output and "commerce_products" in first.output
    assert "RusToK is running" in first.output and "stopped cleanly" in first.output
    assert "change events indexed while starting: 0" not in first.output
    assert second.exit_code == 0, second.output
    assert "already present, nothing changed" in second.output
    assert "change events indexed while starting: 0" in second.output, "a restart resumes, it does not re-index"
