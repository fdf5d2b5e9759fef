"""The local platform on the embedded default: pipeline, write API and search API.

``LocalPlatform`` starts, in this order, the embedded pipeline (a first start
snapshots the database; later starts resume from the committed position), the write
API and the search API, each uvicorn server in its own thread. ``stop()`` reverses it:
the servers stop taking requests, then the pipeline flushes its sinks, commits its
state and confirms the slot position.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from connectors.kafka_runtime import KafkaRuntime
from pipelines.state.sqlite import DEFAULT_MEMORY_ROWS

from rustok.distributed import DistributedOptions, DistributedPipeline
from rustok.health import PlatformHealth
from rustok.observability import observe
from rustok.pipeline import EmbeddedPipeline, PipelineOptions
from rustok.serve import ServerThread, free_port, port_is_free
from search_api.app import create_app as create_search_app
from search_api.settings import SearchSettings
from write_api.app import create_app as create_write_app
from write_api.settings import WriteApiSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlatformOptions:
    database_url: str
    state_dir: Path
    host: str = "127.0.0.1"
    write_port: int = 8000
    search_port: int = 8001
    topic_prefix: str = "rustok"
    kafka: bool = False
    wait_bound_seconds: float = 2.0  # how long a search with min_version waits for the pipeline
    state_memory_rows: int = DEFAULT_MEMORY_ROWS  # see PipelineOptions

    @property
    def pipeline(self) -> PipelineOptions:
        return PipelineOptions(database_url=self.database_url, state_dir=self.state_dir / "pipeline",
                               topic_prefix=self.topic_prefix, state_memory_rows=self.state_memory_rows)


@dataclass
class LocalPlatform:
    options: PlatformOptions
    pipeline: EmbeddedPipeline | DistributedPipeline | None = None
    servers: list[ServerThread] = field(default_factory=list)
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    kafka_runtime: KafkaRuntime | None = None  # an already running Kafka stack for --kafka (tests share one)

    def start(self) -> None:
        options = self.options
        pipeline: EmbeddedPipeline | DistributedPipeline
        if options.kafka:
            distributed = DistributedOptions(options.database_url, options.state_dir, options.topic_prefix)
            pipeline = DistributedPipeline(distributed, self.kafka_runtime)
            index_dir, name = distributed.index_dir, distributed.pipeline
        else:
            pipeline = EmbeddedPipeline(options.pipeline, registry=self.registry)
            index_dir, name = options.pipeline.index_dir, options.pipeline.pipeline
        self.pipeline = pipeline
        pipeline.start()
        write = WriteApiSettings(database_url=SecretStr(options.database_url))
        search = SearchSettings(database_url=SecretStr(options.database_url), index_dir=index_dir, pipeline_name=name,
                                wait_bound_seconds=options.wait_bound_seconds)
        health = PlatformHealth(options.database_url, index_dir, name, pipeline)
        write_app = observe(create_write_app(write), "write-api", health.write_probes(), health.write_modules,
                            self.registry)
        search_app = observe(create_search_app(search), "search-api", health.search_probes(),
                             health.search_modules, self.registry)
        self.servers = [
            ServerThread("write API", write_app, options.host, _port(options.host, options.write_port)),
            ServerThread("search API", search_app, options.host, _port(options.host, options.search_port)),
        ]
        for server in self.servers:
            server.start()

    def stop(self) -> None:
        for server in reversed(self.servers):
            server.stop()
        if self.pipeline is not None:
            self.pipeline.stop()

    @property
    def write_url(self) -> str:
        return self.servers[0].url

    @property
    def search_url(self) -> str:
        return self.servers[1].url


def _port(host: str, wanted: int) -> int:
    if wanted and port_is_free(host, wanted):
        return wanted
    chosen = free_port(host)
    if wanted:
        log.warning("port %s is taken; using %s", wanted, chosen)
    return chosen
