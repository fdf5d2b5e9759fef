"""Pytest fixtures for the local Kafka runtime, loaded as a plugin (``-p tests.fixtures_kafka``).

``kafka_runtime`` fetches the jars if needed (scripts/install_kafka_deps.sh, a no-op
once cached), starts a KRaft broker and a Kafka Connect worker with Debezium in a
temporary state directory, and stops both at the end of the session. Tests that use
it carry ``@pytest.mark.kafka``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from connectors.kafka_runtime import KafkaRuntime, install_jars

log = logging.getLogger(__name__)


@pytest.fixture(scope="session")
def kafka_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaRuntime]:
    runtime = KafkaRuntime(tmp_path_factory.mktemp("kafka"), install_jars())
    try:
        status = runtime.up()
        log.info("kafka runtime up", extra={"bootstrap": status.bootstrap_servers, "connect": status.connect_url})
        yield runtime
    finally:
        runtime.down()
