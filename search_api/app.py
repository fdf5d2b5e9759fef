"""The storefront search API: ``create_app(settings)`` wires ports to adapters."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from contracts.serving import tune_gc_for_serving
from search_api import problems
from search_api.backends.base import SearchBackend
from search_api.backends.postgres import PostgresBackend
from search_api.backends.tantivy import TantivyBackend
from search_api.consistency import FreshnessGate, PostgresAppliedPosition
from search_api.db import Database
from search_api.documents import DocumentStore
from search_api.ratelimit import RateLimiter
from search_api.routes import router
from search_api.service import SearchService
from search_api.settings import SearchSettings
from search_api.tenancy import Authenticator, PostgresTenantDirectory

# The older generations' thresholds for a search server: full collections over the
# framework's long-lived objects were ~5% of a search's CPU.
SEARCH_GC_OLDER = (50, 100)

log = logging.getLogger(__name__)


def create_app(settings: SearchSettings, backend: SearchBackend | None = None) -> FastAPI:
    database = Database(settings.database_url.get_secret_value(), settings.db_pool_size,
                        settings.db_statement_timeout_ms)
    documents = DocumentStore(database)
    chosen = backend or _backend(settings, database, documents)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        chosen.close()
        database.close()

    app = FastAPI(title="RusToK search API", version="1", lifespan=lifespan)
    app.state.settings = settings
    app.state.authenticator = Authenticator(PostgresTenantDirectory(database), settings.host_tenants,
                                            settings.key_cache_ttl_seconds)
    app.state.limiter = RateLimiter(settings.rate_limit_per_second / settings.processes,
                                    max(1, settings.rate_limit_burst // settings.processes))
    gate = FreshnessGate(PostgresAppliedPosition(database, settings.pipeline_name), settings.wait_bound_seconds,
                         settings.wait_poll_seconds)
    app.state.service = SearchService(chosen, documents, gate, settings.stale_mode)
    app.include_router(router)
    problems.install(app)

    @app.get("/health", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok", "backend": chosen.name}

    return app


def _backend(settings: SearchSettings, database: Database, documents: DocumentStore) -> SearchBackend:
    if settings.backend == "postgres":
        return PostgresBackend(database)
    if settings.backend == "meilisearch":
        from search_api.backends.meilisearch import MeilisearchBackend

        backend: SearchBackend = MeilisearchBackend.from_settings(settings)
        return backend
    live = LiveVersions(documents.live_version, 1.0)
    return TantivyBackend(settings.index_dir, live, settings.tantivy_reload_seconds, settings.tantivy_facet_workers,
                          settings.tantivy_facet_cache_size, version_known=live.known)


class LiveVersions:
    """The live index version of each document type, read from the database at most once
    per ``ttl``: it changes only when a rebuild switches the alias. ``known`` tells whether
    a call would be answered from memory now (a search may then run on the event loop)."""

    def __init__(self, load: Callable[[str], int], ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._load, self._ttl, self._clock = load, ttl, clock
        self._seen: dict[str, tuple[float, int]] = {}

    def __call__(self, doc_type: str) -> int:
        hit = self._seen.get(doc_type)
        if hit is not None and on_event_loop():
            return hit[1]  # expired since ``known`` said it was not: never a database read on the loop
        if hit is None or self._clock() - hit[0] > self._ttl:
            hit = (self._clock(), self._load(doc_type))
            self._seen[doc_type] = hit
        return hit[1]

    def known(self, doc_type: str) -> bool:
        hit = self._seen.get(doc_type)
        return hit is not None and self._clock() - hit[0] <= self._ttl


def on_event_loop() -> bool:
    """Whether the caller runs on an asyncio event loop's thread (where no blocking I/O may happen)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def app_from_environment() -> FastAPI:
    """Factory for ``uvicorn --factory search_api.app:app_from_environment`` (settings from RUSTOK_SEARCH_*)."""
    app = create_app(SearchSettings())
    tune_gc_for_serving(*SEARCH_GC_OLDER)  # the server's process only (see contracts.serving)
    return app
