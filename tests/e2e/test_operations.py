"""What operators see on every service: health, modules, metrics, and a request id that
follows a write into its outbox event."""

from __future__ import annotations

import httpx
import psycopg

from tests.e2e.conftest import Running


def test_every_service_reports_liveness_readiness_with_latencies_and_modules(running: Running) -> None:
    for url in (running.platform.write_url, running.platform.search_url):
        assert httpx.get(f"{url}/health/live").json()["status"] == "live"
        ready = httpx.get(f"{url}/health/ready")
        assert ready.status_code == 200, ready.text
        checks = ready.json()["checks"]
        assert checks and all(c["ok"] and c["latency_ms"] >= 0 for c in checks)
        assert httpx.get(f"{url}/health/modules").status_code == 200
    search_checks = {c["name"] for c in httpx.get(f"{running.platform.search_url}/health/ready").json()["checks"]}
    assert search_checks == {"database", "index", "pipeline"}
    modules = httpx.get(f"{running.platform.write_url}/health/modules").json()["modules"]
    assert {"commerce", "content", "flex"} <= {m["name"] for m in modules}


def test_metrics_count_requests_and_the_pipeline_in_prometheus_format(running: Running) -> None:
    running.search.get("/v1/products/search", params={"q": "shirt", "locale": "en"})
    text = httpx.get(f"{running.platform.search_url}/metrics").text
    assert 'rustok_http_requests_total{method="GET",route="/v1/products/search",service="search-api",status="200"}' \
        in text
    assert "rustok_pipeline_events_total" in text and "rustok_pipeline_freshness_seconds_bucket" in text


def test_a_request_id_follows_a_write_into_its_outbox_event(running: Running, database_url: str) -> None:
    response = running.write.post("/v1/tags", json={"slug": "traced", "name": "Traced"},
                                  headers={"X-Request-Id": "trace-e2e-42"})
    assert response.status_code == 201, response.text
    assert response.headers["X-Request-Id"] == "trace-e2e-42"
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT type FROM outbox WHERE request_id = 'trace-e2e-42'").fetchall()
    assert len(rows) == 1
    generated = running.write.get("/v1/tags").headers["X-Request-Id"]
    assert len(generated) == 32
