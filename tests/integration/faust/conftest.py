"""Fixtures of the Faust runtime tests: a module's own database, Debezium connector and worker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from ulid import ULID

from connectors.kafka_runtime import KafkaRuntime
from migrations import runner
from rustok.postgres import ServerInfo, drop_database, ensure_database
from tests.integration.faust.harness import Debezium, create_source_topics, unique


@pytest.fixture(scope="module")
def module_database_url(admin_url: str, pg_server: ServerInfo, migrated_template: str) -> Iterator[str]:
    name = f"t_{str(ULID()).lower()}"
    ensure_database(admin_url, name, template=migrated_template)
    yield pg_server.url(name)
    drop_database(admin_url, name)


@pytest.fixture(scope="module")
def module_engine(module_database_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(runner.sqlalchemy_url(module_database_url))
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def debezium(kafka_runtime: KafkaRuntime, module_database_url: str) -> Iterator[Debezium]:
    prefix = unique("faust")
    create_source_topics(kafka_runtime.bootstrap_servers, prefix)
    connector = Debezium(kafka_runtime.connect_url, module_database_url, prefix, f"{prefix}_slot", f"{prefix}-connector")
    connector.register()
    yield connector
    connector.delete()


@pytest.fixture(scope="module")
def module_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("faust")
