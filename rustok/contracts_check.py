"""Running the data-contract suites against a deployment: the read tables and the change streams.

``check(database_url, ...)`` runs every read-model suite in the deployment's PostgreSQL
(great-expectations SQL query assets, so cross-row rules run as SQL beside the data) and,
unless told not to, samples recent change events and runs the change-stream suites over
them in pandas.

Why a temporary slot for the stream sample: it needs nothing running (no Kafka, no
pipeline cooperation), its events are exactly the embedded connector's (Debezium-identical)
encoding of every captured table, it leaves the pipeline's own slot and confirmed position
untouched, and PostgreSQL drops it when the connection closes. It takes a snapshot of the
captured tables (``op = r``, at most ``per_table`` rows kept per table) and then listens for
live changes (``c``/``u``/``d``) for ``listen`` seconds. The snapshot reads every captured
row once, so on a large database it costs about as much as a full snapshot read.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any
from uuid import UUID

import psycopg

from contracts.expectations import FrameSuite, Scope, SqlSuite, change_stream_suite, event_records, read_model_suites
from contracts.rows import ROW_CONTRACTS
from contracts.signals import PROGRESS_TABLE, SIGNAL_TABLE
from migrations.runner import sqlalchemy_url

log = logging.getLogger(__name__)

SAMPLE_LIMIT = 5
CONNECTOR_TABLES = frozenset({SIGNAL_TABLE, PROGRESS_TABLE})


class ContractsCheckError(Exception):
    """Root of the check errors.

    ContractsCheckError
     └── UnknownTenant   a tenant slug that names no tenant
    """


class UnknownTenant(ContractsCheckError, LookupError):
    """A tenant slug that names no tenant."""


@dataclass(frozen=True)
class Outcome:
    """One expectation's result: ``unexpected`` rows or values found, a few of them in ``sample``."""

    suite: str
    expectation: str
    description: str
    success: bool
    unexpected: int | None = None
    sample: list[Any] = field(default_factory=list)
    error: str | None = None


@dataclass
class CheckReport:
    outcomes: list[Outcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return all(o.success for o in self.outcomes)

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.success]

    def as_dict(self) -> dict[str, Any]:
        return {"success": self.success, "expectations": len(self.outcomes), "failed": len(self.failures),
                "notes": self.notes, "results": [asdict(o) for o in self.outcomes]}


def tenant_id_of(database_url: str, slug: str) -> UUID:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT id FROM tenants WHERE slug = %s", (slug,)).fetchone()
    if row is None:
        raise UnknownTenant(f"no tenant with slug {slug!r}")
    return UUID(str(row[0]))


def check(database_url: str, scope: Scope, *, streams: bool = True, per_table: int = 200,
          listen: float = 0.0) -> CheckReport:
    """Run the read-model suites and (with ``streams``) the change-stream suites on a fresh sample."""
    report = CheckReport(run_sql_suites(database_url, read_model_suites(scope)))
    if streams:
        events = sample_change_events(database_url, per_table=per_table, listen=listen)
        outcomes, notes = run_stream_suites(events)
        report.outcomes.extend(outcomes)
        report.notes.extend(notes)
    return report


def run_stream_suites(events: Sequence[Mapping[str, Any]]) -> tuple[list[Outcome], list[str]]:
    """The change-stream suite of every table with sampled events; notes name tables without any."""
    records = event_records(events)
    outcomes: list[Outcome] = []
    notes = [f"no change events sampled for {table}" for table in sorted(ROW_CONTRACTS) if table not in records]
    runs: list[tuple[FrameSuite, Sequence[Mapping[str, Any]]]] = []
    for table, rows in sorted(records.items()):
        if table in CONNECTOR_TABLES:
            continue  # the connectors' own signalling rows, not data
        if table in ROW_CONTRACTS:
            runs.append((change_stream_suite(table), rows))
        else:
            outcomes.append(Outcome(f"change_stream.{table}", "row_contract", "the table has a row contract", False,
                                    len(rows), [_plain(r) for r in rows[:SAMPLE_LIMIT]]))
    return run_frame_suites(runs) + outcomes, notes


# -- great-expectations ------------------------------------------------------------------


@contextmanager
def _quiet_context() -> Iterator[Any]:
    # Imported here: great_expectations takes seconds to import, and only these commands need it.
    # Its own deprecation and datasource-advice warnings say nothing about the data checked.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        yield context


def run_sql_suites(database_url: str, suites: Sequence[SqlSuite]) -> list[Outcome]:
    """Each suite over its query's rows, run in the database (one great-expectations context)."""
    with _quiet_context() as context:
        source = context.data_sources.add_postgres(name="rustok", connection_string=sqlalchemy_url(database_url))
        outcomes: list[Outcome] = []
        try:
            for suite in suites:
                asset = source.add_query_asset(name=suite.name, query=suite.query)
                batch = asset.add_batch_definition_whole_table("all")
                outcomes.extend(_validate(context, suite.name, suite.expectations, batch, None))
        finally:
            source.get_engine().dispose()  # GX keeps a pool open otherwise
        return outcomes


def run_frame_suites(runs: Sequence[tuple[FrameSuite, Sequence[Mapping[str, Any]]]]) -> list[Outcome]:
    """Each suite over a dataframe of its rows, in one great-expectations context."""
    import pandas as pd

    outcomes: list[Outcome] = []
    with _quiet_context() as context:
        source = context.data_sources.add_pandas(name="events")
        for suite, rows in runs:
            # object dtype keeps each value as the event carried it (no int → float for NULLs).
            frame = pd.DataFrame(list(rows), dtype=object)
            batch = source.add_dataframe_asset(name=suite.name).add_batch_definition_whole_dataframe("all")
            outcomes.extend(_validate(context, suite.name, suite.expectations, batch, {"dataframe": frame}))
    return outcomes


def _validate(context: Any, name: str, expectations: Sequence[Any], batch: Any,
              parameters: dict[str, Any] | None) -> list[Outcome]:
    import great_expectations as gx

    suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=[e.copy() for e in expectations]))
    definition = context.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch, suite=suite))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = definition.run(batch_parameters=parameters, result_format="COMPLETE")
    return [_outcome(name, r) for r in result.results]


def _outcome(suite: str, result: Any) -> Outcome:
    config = result.expectation_config
    error = _error_of(result.exception_info or {})
    details: dict[str, Any] = result.result or {}
    unexpected = details.get("unexpected_count", details.get("observed_value"))
    sample = details.get("partial_unexpected_list") or (details.get("details") or {}).get("unexpected_rows") or []
    return Outcome(
        suite=suite, expectation=config.type, description=config.description or config.type,
        success=bool(result.success) and error is None,
        unexpected=unexpected if isinstance(unexpected, int) else None,
        sample=[_plain(v) for v in list(sample)[:SAMPLE_LIMIT]], error=error,
    )


def _error_of(info: Mapping[str, Any]) -> str | None:
    """The first exception message of a result (keyed by metric when several metrics ran)."""
    if info.get("raised_exception"):
        return str(info.get("exception_message"))
    for nested in info.values():
        if isinstance(nested, Mapping) and nested.get("raised_exception"):
            return str(nested.get("exception_message")).split("\n[SQL:")[0]
    return None


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)


# -- change-event sample -------------------------------------------------------------------


def sample_change_events(database_url: str, *, per_table: int = 200, listen: float = 0.0,
                         publication: str = "rustok_cdc", prefix: str = "rustok",
                         clock: Callable[[], float] = time.monotonic) -> list[dict[str, Any]]:
    """Up to ``per_table`` change-event values per captured table, from a temporary slot (see module doc)."""
    from connectors.embedded import ConnectorConfig, EmbeddedConnector, InMemoryConsumer

    kept: dict[str, int] = {}
    events: list[dict[str, Any]] = []

    def keep(batch: Sequence[Any]) -> None:
        for record in batch:
            value = record.value
            if not isinstance(value, dict) or "op" not in value:
                continue  # tombstones and transaction markers
            if kept.get(record.topic, 0) < per_table:
                kept[record.topic] = kept.get(record.topic, 0) + 1
                events.append(value)

    slot = f"rustok_contracts_{os.getpid()}_{secrets.token_hex(3)}"
    config = ConnectorConfig(dsn=database_url, slot_name=slot, publication=publication, topic_prefix=prefix,
                             temporary_slot=True, take_snapshot=True)
    connector = EmbeddedConnector(config, InMemoryConsumer(keep=False, on_batch=keep))
    try:
        connector.start()
        deadline = clock() + listen
        while clock() < deadline:
            connector.poll(0.2)
    finally:
        connector.close()
    log.info("change events sampled", extra={"events": len(events), "topics": len(kept)})
    return events
