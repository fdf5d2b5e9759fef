"""Settings of the search API (env prefix ``RUSTOK_SEARCH_``), loaded once and injected.

``host_tenants`` maps a request host to a tenant slug (``{"shop.example.com": "demo"}``,
in the environment as JSON). ``stale_mode`` decides what ``min_version`` does past
``wait_bound_seconds``: ``flag`` answers 200 with ``"stale": true`` and the header
``RusToK-Stale: true``; ``error`` answers 503 ``stale_read``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

BackendName = Literal["tantivy", "postgres", "meilisearch"]


class SearchSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RUSTOK_SEARCH_", frozen=True, extra="ignore")

    database_url: SecretStr
    index_dir: Path = Field(default=Path(".rustok/index"), description="Tantivy root: <root>/<doc_type>/v<version>/")
    backend: BackendName = "tantivy"
    host_tenants: dict[str, str] = Field(default_factory=dict)
    pipeline_name: str = "embedded"
    wait_bound_seconds: float = Field(default=2.0, ge=0, le=30)
    wait_poll_seconds: float = Field(default=0.02, gt=0, le=1)
    stale_mode: Literal["flag", "error"] = "flag"
    key_cache_ttl_seconds: float = Field(default=5.0, ge=0, le=300)
    rate_limit_per_second: float = Field(default=50.0, gt=0)
    rate_limit_burst: int = Field(default=100, ge=1)
    processes: int = Field(default=1, ge=1, description="Worker processes serving the API (uvicorn --workers): the"
                           " rate limit is kept per process, each allowing its share of the rate and burst")
    cache_max_age_seconds: int = Field(default=5, ge=0)
    max_query_chars: int = Field(default=256, ge=1)
    max_page_size: int = Field(default=100, ge=1)
    max_offset: int = Field(default=10_000, ge=0)
    max_filter_values: int = Field(default=50, ge=1)
    max_multi_queries: int = Field(default=10, ge=1)
    tantivy_reload_seconds: float = Field(default=0.05, ge=0, description="How often a reader checks for new commits")
    tantivy_facet_workers: int = Field(default=4, ge=0, description="Threads fetching a page while the request's own"
                                       " thread counts its facets; 0: one after the other")
    tantivy_facet_cache_size: int = Field(default=4096, ge=0, description="Facet answers (and apart, filtered"
                                          " facets' counts) kept per process; 0: none")
    answer_on_event_loop: bool = Field(default=True, description="Run a search that needs no database round trip"
                                       " (Tantivy, no min_version) on the event loop instead of a worker thread: no"
                                       " thread hand-off (about 1 ms of a 6 ms search when the server idles between"
                                       " requests), but a slow query holds up the requests behind it")
    db_pool_size: int = Field(default=8, ge=1)
    db_statement_timeout_ms: int = Field(default=5000, ge=0, description="A read query running longer is cancelled"
                                         " and answered 503; 0: no limit")
    meilisearch_url: str | None = None
    meilisearch_key: SecretStr | None = None
