"""Register the Debezium PostgreSQL connector with a Kafka Connect worker over its REST API.

The settings that fix the shape of our change events live in
``connectors/debezium/postgres-connector.json``; connection settings are left as
``{placeholders}`` there and filled here. Uses only urllib: three REST calls do not
justify another HTTP client dependency.

Errors::

    RegistrationError
     ├── ConnectorConfigError   placeholders left unfilled, or Connect rejected the configuration
     ├── ConnectUnavailable     the worker's REST API did not answer usefully in time
     └── ConnectorFailed        the connector or its task FAILED (Java trace inside) or never ran
"""

from __future__ import annotations

import json
import logging
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contracts.captured import CAPTURED_TABLES
from contracts.signals import SIGNAL_COLLECTION, SIGNAL_TABLE
from contracts.topics import DEFAULT_PREFIX, DEFAULT_SCHEMA

log = logging.getLogger(__name__)

CONFIG_PATH = Path(__file__).resolve().parent / "debezium" / "postgres-connector.json"
DEFAULT_NAME = "rustok-postgres"
_PLACEHOLDER = re.compile(r"^\{[a-z.]+\}$")
# Connect answers 409 while a rebalance is under way and 5xx while it starts or
# forwards to a leader that is not there yet; both pass on their own.
_RETRYABLE = {409, 500, 502, 503, 504}
# Rows per incremental snapshot chunk: Debezium's default, and the embedded connector's.
INCREMENTAL_CHUNK_SIZE = 1024


class RegistrationError(Exception):
    """Root of connector registration errors."""


class ConnectorConfigError(RegistrationError):
    """The configuration is incomplete or Kafka Connect refused it."""


class ConnectUnavailable(RegistrationError):
    """The Kafka Connect REST API did not answer usefully before the deadline."""


class ConnectorFailed(RegistrationError):
    """The connector or one of its tasks is FAILED, or did not reach RUNNING in time."""


@dataclass(frozen=True)
class ConnectorState:
    """What ``GET /connectors/<name>/status`` says, reduced to what callers act on."""

    name: str
    connector: str
    tasks: tuple[str, ...]
    worker_id: str

    @property
    def running(self) -> bool:
        return self.connector == "RUNNING" and bool(self.tasks) and all(t == "RUNNING" for t in self.tasks)


def connection_settings(database_url: str) -> dict[str, str]:
    """``postgresql://user[:password]@host[:port]/dbname`` → Debezium's ``database.*`` settings."""
    parts = urllib.parse.urlsplit(database_url)
    if parts.scheme not in ("postgresql", "postgres") or not parts.hostname or not parts.username:
        raise ConnectorConfigError(f"expected postgresql://user[:password]@host[:port]/dbname, got {database_url!r}")
    dbname = parts.path.lstrip("/")
    if not dbname:
        raise ConnectorConfigError(f"the database URL names no database: {database_url!r}")
    return {
        "database.hostname": parts.hostname,
        "database.port": str(parts.port or 5432),
        "database.user": urllib.parse.unquote(parts.username),
        "database.password": urllib.parse.unquote(parts.password or ""),
        "database.dbname": urllib.parse.unquote(dbname),
    }


# Each heartbeat emits a logical message (``<prefix>.message``), so Debezium confirms the slot
# while the captured tables are idle. Debezium counts that message as the last commit in the
# ``source.sequence`` of the next change, which the embedded connector (it does not read
# logical messages) cannot know: record-for-record comparisons register without it.
HEARTBEAT_ACTION = "heartbeat.action.query"


def without_heartbeat_action(config: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in config.items() if k != HEARTBEAT_ACTION}


def load_config(
    *,
    topic_prefix: str = DEFAULT_PREFIX,
    tables: Iterable[str] | None = None,
    **overrides: str | int | bool,
) -> dict[str, str]:
    """The connector configuration with ``overrides`` applied (keys as Debezium spells them).

    Parameters:
        topic_prefix: replaces ``rustok`` in the topic prefix, the outbox route and its predicate.
        tables: tables of schema ``public`` to capture; defaults to the contract's
            captured tables. Debezium snapshots every table its include lists
            match, whatever the publication holds, so tables left out of the
            publication (credentials) must be left out here too. With the default
            tables the signal table ``rustok_signals`` is added and signalling is on
            (pass it in ``tables`` to have it with a custom list): Debezium reads signals (``execute-snapshot``)
            and its own snapshot-window markers from the change stream, so it must be
            captured; its events land on ``<prefix>.public.rustok_signals``, which the
            pipelines ignore.
        overrides: e.g. ``**connection_settings(url)``; pass them with ``**{"a.b": v}``.
    """
    config: dict[str, str] = json.loads(CONFIG_PATH.read_text())
    config["topic.prefix"] = topic_prefix
    config["transforms.outbox.route.topic.replacement"] = f"{topic_prefix}.events.${{routedByValue}}"
    config["predicates.isOutbox.pattern"] = re.escape(f"{topic_prefix}.{DEFAULT_SCHEMA}.outbox")
    captured = CAPTURED_TABLES if tables is None else tuple(tables)
    if tables is None:
        captured = (*captured, SIGNAL_TABLE)
    config["table.include.list"] = ",".join(re.escape(f"{DEFAULT_SCHEMA}.{table}") for table in captured)
    if SIGNAL_TABLE in captured:
        config["signal.data.collection"] = SIGNAL_COLLECTION
        config["signal.enabled.channels"] = "source"
        config["incremental.snapshot.chunk.size"] = str(INCREMENTAL_CHUNK_SIZE)
    for key, value in overrides.items():
        config[key] = str(value).lower() if isinstance(value, bool) else str(value)
    return config


def register(
    connect_url: str,
    config: Mapping[str, str],
    name: str = DEFAULT_NAME,
    timeout: float = 120.0,
) -> ConnectorState:
    """Create or update connector ``name`` and wait until it and its task are RUNNING.

    Idempotent: ``PUT /connectors/<name>/config`` creates the connector or replaces
    its configuration.
    """
    unfilled = sorted(key for key, value in config.items() if _PLACEHOLDER.match(value))
    if unfilled:
        raise ConnectorConfigError(f"connector settings left unfilled: {', '.join(unfilled)}")
    deadline = time.monotonic() + timeout
    status, body = _call_until_answered("PUT", f"{connect_url}/connectors/{name}/config", deadline, dict(config))
    if status >= 400:
        raise ConnectorConfigError(f"Kafka Connect refused connector {name!r} ({status}): {_message(body)}")
    log.info("connector configured", extra={"connector": name, "new_connector": status == 201})
    return wait_running(connect_url, name, deadline - time.monotonic())


def wait_running(connect_url: str, name: str = DEFAULT_NAME, timeout: float = 120.0) -> ConnectorState:
    """Poll the connector's status until it and every task are RUNNING; raise on FAILED."""
    deadline = time.monotonic() + timeout
    last: ConnectorState | None = None
    while time.monotonic() < deadline:
        status, body = _call_until_answered("GET", f"{connect_url}/connectors/{name}/status", deadline)
        if status == 200:
            _raise_if_failed(name, body)
            last = _state(name, body)
            if last.running:
                log.info("connector running", extra={"connector": name, "worker": last.worker_id})
                return last
        time.sleep(0.5)
    raise ConnectorFailed(f"connector {name!r} not RUNNING after {timeout:.0f}s (last status: {last})")


def delete(connect_url: str, name: str = DEFAULT_NAME, timeout: float = 60.0) -> bool:
    """Delete connector ``name``; False if there was none. Its replication slot stays."""
    status, body = _call_until_answered("DELETE", f"{connect_url}/connectors/{name}", time.monotonic() + timeout)
    if status == 404:
        return False
    if status >= 400:
        raise RegistrationError(f"deleting connector {name!r} failed ({status}): {_message(body)}")
    log.info("connector deleted", extra={"connector": name})
    return True


def _state(name: str, body: Any) -> ConnectorState:
    connector = body.get("connector", {})
    return ConnectorState(
        name=name,
        connector=str(connector.get("state", "UNKNOWN")),
        tasks=tuple(str(task.get("state", "UNKNOWN")) for task in body.get("tasks", [])),
        worker_id=str(connector.get("worker_id", "")),
    )


def _raise_if_failed(name: str, body: Any) -> None:
    connector = body.get("connector", {})
    if connector.get("state") == "FAILED":
        raise ConnectorFailed(f"connector {name!r} FAILED:\n{connector.get('trace', '(no trace)')}")
    for task in body.get("tasks", []):
        if task.get("state") == "FAILED":
            raise ConnectorFailed(f"task {task.get('id')} of connector {name!r} FAILED:\n{task.get('trace', '(no trace)')}")


def _call_until_answered(method: str, url: str, deadline: float, body: Any = None) -> tuple[int, Any]:
    """One REST call, retried while Connect is unreachable, rebalancing or starting."""
    while True:
        try:
            status, answer = _call(method, url, body)
        except (urllib.error.URLError, OSError) as exc:
            status, answer = 0, str(exc)
        if status and status not in _RETRYABLE:
            return status, answer
        if time.monotonic() > deadline:
            raise ConnectUnavailable(f"{method} {url}: {status or 'no answer'} {_message(answer)}")
        time.sleep(0.5)


def _call(method: str, url: str, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Content-Type": "application/json", "Accept": "application/json",
    })
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, _decode(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, _decode(exc.read())


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode(errors="replace")


def _message(body: Any) -> str:
    if isinstance(body, dict):
        return str(body.get("message", body))
    return str(body)
