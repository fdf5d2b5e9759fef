"""Health, metrics and request ids on every HTTP service the composition root serves.

``observe(app, service, probes, modules)`` adds to a FastAPI app:

* ``GET /health/live``: the process answers;
* ``GET /health/ready``: each dependency probed, with latency and the reason when it is
  down (503 when any is down);
* ``GET /health/modules``: what the service offers and their state;
* ``GET /metrics``: Prometheus text (request counts and latency by route, plus whatever
  else the process registered, e.g. the embedded pipeline's metrics);
* an ``X-Request-Id`` on every response: the caller's when well formed, else a new one,
  kept in ``contracts.request_context.REQUEST_ID`` for logs and outbox rows.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contracts.health import Probe, run_checks
from contracts.request_context import REQUEST_ID, accept_request_id

log = logging.getLogger(__name__)


class _HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter("rustok_http_requests", "HTTP requests", ["service", "route", "method", "status"],
                                registry=registry)
        self.latency = Histogram("rustok_http_request_seconds", "HTTP request latency", ["service", "route"],
                                 buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5), registry=registry)


_METRICS: weakref.WeakKeyDictionary[CollectorRegistry, _HttpMetrics] = weakref.WeakKeyDictionary()


def _metrics_for(registry: CollectorRegistry) -> _HttpMetrics:
    if registry not in _METRICS:  # one set of collectors per registry, however many apps share it
        _METRICS[registry] = _HttpMetrics(registry)
    return _METRICS[registry]


class RequestContext:
    """ASGI middleware: request id in and out, request metrics by route template."""

    def __init__(self, app: ASGIApp, service: str, metrics: _HttpMetrics) -> None:
        self.app, self.service, self.metrics = app, service, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = dict(scope["headers"]).get(b"x-request-id")
        request_id = accept_request_id(header.decode("latin-1") if header else None)
        token = REQUEST_ID.set(request_id)
        started, status = time.perf_counter(), 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(self.service, route, scope["method"], str(status)).inc()
            self.metrics.latency.labels(self.service, route).observe(elapsed)
            log.info("request", extra={"service": self.service, "method": scope["method"], "route": route,
                                       "status": status, "ms": round(elapsed * 1000, 2)})
            REQUEST_ID.reset(token)


def observe(
    app: FastAPI,
    service: str,
    probes: Mapping[str, Probe],
    modules: Callable[[], Any],
    registry: CollectorRegistry = REGISTRY,
) -> FastAPI:
    app.add_middleware(RequestContext, service=service, metrics=_metrics_for(registry))

    @app.get("/health/live", include_in_schema=False)
    def live() -> dict[str, str]:
        return {"service": service, "status": "live"}

    @app.get("/health/ready", include_in_schema=False)
    def ready(response: Response) -> dict[str, Any]:
        readiness = run_checks(service, probes)
        response.status_code = 200 if readiness.status == "ready" else 503
        response.headers["Cache-Control"] = "no-store"
        return readiness.model_dump()

    @app.get("/health/modules", include_in_schema=False)
    def health_modules() -> Any:
        return modules()

    @app.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app
