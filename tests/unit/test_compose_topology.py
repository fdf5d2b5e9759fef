"""docker-compose.yml describes the topology the tests run: same versions, same settings."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from rustok.cli import app

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = (ROOT / "docker-compose.yml").read_text()
POM = (ROOT / "connectors" / "kafka" / "pom.xml").read_text()


def pom_property(name: str) -> str:
    match = re.search(rf"<{re.escape(name)}>([^<]+)</{re.escape(name)}>", POM)
    assert match is not None
    return match.group(1)


def test_compose_runs_the_kafka_and_debezium_versions_the_tests_resolve_from_maven() -> None:
    assert f"image: apache/kafka:{pom_property('kafka.version')}" in COMPOSE
    assert f"image: quay.io/debezium/connect:{pom_property('debezium.version')}" in COMPOSE


def test_compose_postgres_has_the_settings_the_embedded_server_uses() -> None:
    for setting in ("wal_level=logical", "max_replication_slots=20", "max_wal_senders=20", "max_slot_wal_keep_size=4GB"):
        assert setting in COMPOSE


def test_every_rustok_command_in_compose_exists() -> None:
    assert '"faust", "-A", "pipelines.app", "worker"' in COMPOSE
    for command in (["seed"], ["connectors", "register"], ["serve", "write"], ["serve", "search"]):
        result = CliRunner().invoke(app, [*command, "--help"])
        assert result.exit_code == 0, (command, result.output)
        assert f'command: ["{command[0]}"' in COMPOSE
