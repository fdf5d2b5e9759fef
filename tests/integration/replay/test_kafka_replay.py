"""``rustok replay --kafka`` against a real broker, Debezium and a Faust worker (a subprocess).

One database, connector and worker for the module; the tests run in file order and each
leaves the worker streaming into whatever version is live.
"""

from __future__ import annotations

import json
import threading
import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner
from ulid import ULID

from connectors.kafka_runtime import KafkaRuntime
from contracts.topics import table_topic
from migrations import runner
from pipelines.model import DocType
from pipelines.runtime.targets import load_targets
from pipelines.sinks.postgres import live_version
from rustok import demo
from rustok.cli import app
from rustok.postgres import ServerInfo, drop_database, ensure_database
from rustok.replay import ReplayConfigError, ReplayInterrupted, SilentProgress
from rustok.replay.kafka import KafkaReplay, KafkaReplayOptions
from rustok.settings import get_settings
from tests.integration.faust.harness import (
    Debezium, Worker, applied_lsn, create_source_topics, running, unique, wait_for, wal_position,
)
from tests.integration.replay.readmodel import checksum
from tests.integration.runtime.readmodel import table_documents, tantivy_documents

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", r"(read|open)_text is deprecated", DeprecationWarning)
    from kafka import KafkaConsumer, TopicPartition

pytestmark = pytest.mark.kafka

PIPELINE = "faust"
DOC_TYPES: tuple[DocType, ...] = ("product", "content")


@pytest.fixture(scope="module")
def db_url(admin_url: str, pg_server: ServerInfo, migrated_template: str) -> Iterator[str]:
    name = f"t_{str(ULID()).lower()}"
    ensure_database(admin_url, name, template=migrated_template)
    yield pg_server.url(name)
    drop_database(admin_url, name)


@pytest.fixture(scope="module")
def debezium(kafka_runtime: KafkaRuntime, db_url: str) -> Iterator[Debezium]:
    engine = sa.create_engine(runner.sqlalchemy_url(db_url))
    demo.seed_demo(engine)
    engine.dispose()
    prefix = unique("kreplay")
    create_source_topics(kafka_runtime.bootstrap_servers, prefix)
    connector = Debezium(kafka_runtime.connect_url, db_url, prefix, f"{prefix}_slot", f"{prefix}-connector")
    connector.register()
    yield connector
    connector.delete()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kafka-replay")


@pytest.fixture(scope="module")
def worker(kafka_runtime: KafkaRuntime, db_url: str, debezium: Debezium, home: Path) -> Iterator[Worker]:
    faust = Worker(home / "worker", {
        "broker": kafka_runtime.bootstrap_servers, "topic_prefix": debezium.prefix, "database_url": db_url,
        "index_dir": str(home / "index"), "app_id": unique("kreplay-app-"), "slot_name": debezium.slot,
        "pipeline": PIPELINE,
    })
    with running(faust):
        try:
            _settle(db_url, faust, timeout=60)
        except AssertionError:
            # Once in a full run the worker's consumer never received its partitions (the
            # group join stalled right after finding the coordinator): restart it once, as an
            # operator would; these tests are about replays, not about joining a group.
            faust.stop()
            faust.start()
            _settle(db_url, faust)
        yield faust
        assert faust.alive(), f"the worker died:\n{faust.log_tail()}"


def _settle(db_url: str, faust: Worker, timeout: float = 120) -> None:
    """Wait until the worker's checkpoint covers every commit so far (call it right after a
    commit of this database: WAL written by other databases never reaches its slot)."""
    with psycopg.connect(db_url) as conn:
        target = wal_position(conn)
    try:
        wait_for(lambda: applied_lsn(db_url, PIPELINE) >= target or not faust.alive(), timeout, "the worker caught up")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{faust.diagnose(db_url)}") from None
    assert faust.alive(), faust.log_tail()


def _options(kafka_runtime: KafkaRuntime, db_url: str, debezium: Debezium, home: Path, worker: Worker,
             **changes: object) -> KafkaReplayOptions:
    return KafkaReplayOptions(
        database_url=db_url, state_dir=home / "replay", index_root=home / "index", topic_prefix=debezium.prefix,
        bootstrap=kafka_runtime.bootstrap_servers, live_group=worker.settings["app_id"], grace_seconds=0.1,
        handover_timeout=60, **changes)  # type: ignore[arg-type]


def _versions(db_url: str) -> dict[str, int]:
    return {dt: live_version(db_url, dt) for dt in DOC_TYPES}


def _rename(db_url: str, handle: str, title: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("UPDATE commerce_product_translations SET title = %s WHERE product_id = %s AND locale = 'en'",
                     (title, demo.demo_id("product", handle)))


def _title(db_url: str, handle: str) -> str | None:
    key = (str(demo.TENANT_ID), "en", str(demo.demo_id("product", handle)))
    doc = table_documents(db_url).get(key)
    return None if doc is None else str(doc["title"])


def test_a_replay_from_earliest_equals_the_live_version_and_the_worker_follows_it(
    kafka_runtime: KafkaRuntime, db_url: str, debezium: Debezium, home: Path, worker: Worker
) -> None:
    before = _versions(db_url)
    expected = {dt: checksum(db_url, dt, v) for dt, v in before.items()}
    assert expected["product"][0] > 0 and expected["content"][0] > 0

    report = KafkaReplay(_options(kafka_runtime, db_url, debezium, home, worker), SilentProgress()).run()

    after = _versions(db_url)
    assert after == {dt: v + 1 for dt, v in before.items()}
    assert {dt: checksum(db_url, dt, v) for dt, v in after.items()} == expected
    assert all(checksum(db_url, dt, v)[0] == 0 for dt, v in before.items()), "the old versions are dropped"
    assert tantivy_documents(home / "index", "product", after["product"]) == table_documents(db_url)
    assert report.events_read > 0 and report.documents_written >= expected["product"][0]
    assert report.versions == {dt: [before[dt], after[dt]] for dt in DOC_TYPES}
    targets = load_targets(db_url, PIPELINE)
    assert {dt: t.index_version for dt, t in targets.items()} == after, "the worker recorded its move"

    _rename(db_url, "travel-mug", "Mug After The Switch")
    wait_for(lambda: _title(db_url, "travel-mug") == "Mug After The Switch", 30, "a later write in the new version")
    key = (str(demo.TENANT_ID), "en", str(demo.demo_id("product", "travel-mug")))
    wait_for(lambda: tantivy_documents(home / "index", "product", after["product"]).get(key, {}).get("title")
             == "Mug After The Switch", 30, "the later write in the new Tantivy version")


class _StopAfterFirstBatch(SilentProgress):
    """Asks the replay to stop once it made some progress (as Ctrl-C in the CLI does)."""

    def __init__(self, stop: threading.Event) -> None:
        super().__init__()
        self._stop = stop

    def update(self, completed: float, total: float | None = None) -> None:
        super().update(completed, total)
        if completed > 0:
            self._stop.set()


def _records_in_table_topics(bootstrap: str, prefix: str) -> int:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    try:
        tps = [TopicPartition(t, 0) for t in consumer.topics() if t.startswith(f"{prefix}.public.")]
        ends, starts = consumer.end_offsets(tps), consumer.beginning_offsets(tps)
        return sum(ends[tp] - starts[tp] for tp in tps)
    finally:
        consumer.close()


def test_an_interrupted_replay_resumes_where_it_stopped_and_ends_equal(
    kafka_runtime: KafkaRuntime, db_url: str, debezium: Debezium, home: Path, worker: Worker
) -> None:
    before = _versions(db_url)
    expected = {dt: checksum(db_url, dt, v) for dt, v in before.items()}
    options = _options(kafka_runtime, db_url, debezium, home, worker, poll_records=50)
    stop = threading.Event()
    with pytest.raises(ReplayInterrupted):
        KafkaReplay(options, _StopAfterFirstBatch(stop), stop).run()
    assert _versions(db_url) == before, "nothing switched"

    report = KafkaReplay(options, SilentProgress()).run()

    assert report.resumed
    total = _records_in_table_topics(kafka_runtime.bootstrap_servers, debezium.prefix)
    assert 0 < report.events_read <= total - 50, "the second run started after the first run's batch"
    after = _versions(db_url)
    assert after == {dt: v + 1 for dt, v in before.items()}
    assert {dt: checksum(db_url, dt, v) for dt, v in after.items()} == expected


def _write_until_after_the_switch(db_url: str, version_before: int, done: threading.Event) -> None:
    """Rename one (product, locale) after another until shortly after the alias moved, then stop,
    so the last renames fall between the build position and the worker's move and nothing
    overwrites them later."""
    keys = [(handle, locale) for handle in demo.PRODUCTS for locale in demo.LOCALES]
    switched: float | None = None
    with psycopg.connect(db_url, autocommit=True) as conn:
        for i in range(100_000):
            if done.is_set() or (switched is not None and time.monotonic() - switched > 0.3):
                return
            handle, locale = keys[i % len(keys)]
            conn.execute("UPDATE commerce_product_translations SET title = %s WHERE product_id = %s AND locale = %s",
                         (f"{handle} #{i}", demo.demo_id("product", handle), locale))
            row = conn.execute("SELECT live_version FROM read_model_aliases WHERE doc_type = 'product'").fetchone()
            if switched is None and row is not None and row[0] != version_before:
                switched = time.monotonic()
            time.sleep(0.02)


def _titles_in_write_model(db_url: str) -> dict[tuple[str, str], str]:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute("SELECT product_id::text, locale, title FROM commerce_product_translations"
                            " WHERE tenant_id = %s", (demo.TENANT_ID,)).fetchall()
    return {(str(p), str(loc)): str(t) for p, loc, t in rows}


def test_writes_around_the_switch_reach_the_new_version_through_the_workers_rewrite(
    kafka_runtime: KafkaRuntime, db_url: str, debezium: Debezium, home: Path, worker: Worker
) -> None:
    before = _versions(db_url)
    done = threading.Event()
    writer = threading.Thread(target=_write_until_after_the_switch, args=(db_url, before["product"], done))
    writer.start()
    try:
        KafkaReplay(_options(kafka_runtime, db_url, debezium, home, worker), SilentProgress()).run()
        writer.join(30)
    finally:
        done.set()
        writer.join()
    _rename(db_url, "travel-mug", "Mug After The Writer")
    _settle(db_url, worker)

    new = _versions(db_url)["product"]
    assert new == before["product"] + 1
    expected = _titles_in_write_model(db_url)
    tenant = str(demo.TENANT_ID)
    in_rows = {(i, loc): str(doc["title"]) for (t, loc, i), doc in table_documents(db_url).items() if t == tenant}
    in_tantivy = {(i, loc): str(doc["title"])
                  for (t, loc, i), doc in tantivy_documents(home / "index", "product", new).items() if t == tenant}
    assert in_rows and in_tantivy == in_rows
    translated = {key: title for key, title in in_rows.items() if key in expected}  # not a locale fallback
    assert len(translated) >= len(demo.PRODUCTS)
    assert translated == {key: expected[key] for key in translated}


def test_a_replay_from_a_timestamp_is_refused_unless_on_top_of_the_live_version(
    kafka_runtime: KafkaRuntime, db_url: str, debezium: Debezium, home: Path, worker: Worker
) -> None:
    with pytest.raises(ReplayConfigError, match="--on-top"):
        KafkaReplay(_options(kafka_runtime, db_url, debezium, home, worker, start=datetime.now(UTC).isoformat()))


def test_a_replay_on_top_from_a_timestamp_rebuilds_only_later_roots_and_ends_equal(
    kafka_runtime: KafkaRuntime, db_url: str, debezium: Debezium, home: Path, worker: Worker
) -> None:
    since = datetime.now(UTC)
    _rename(db_url, "travel-mug", "Mug Since The Timestamp")
    _settle(db_url, worker)  # the rename is the last commit of this database
    before = _versions(db_url)
    expected = {dt: checksum(db_url, dt, v) for dt, v in before.items()}

    report = KafkaReplay(_options(kafka_runtime, db_url, debezium, home, worker, start=since.isoformat(),
                                  on_top=True), SilentProgress()).run()

    after = _versions(db_url)
    assert after == {dt: v + 1 for dt, v in before.items()}
    assert {dt: checksum(db_url, dt, v) for dt, v in after.items()} == expected
    assert tantivy_documents(home / "index", "product", after["product"]) == table_documents(db_url)
    # The events before the timestamp only warmed the state: one root (its locales) was rebuilt.
    assert 0 < report.documents_written <= len(demo.LOCALES)
    assert _title(db_url, "travel-mug") == "Mug Since The Timestamp"


@pytest.mark.parametrize("spec, error", [
    ("{topic}:7:0", "not a partition"),
    ("{prefix}.public.no_such_table:0:0", "not a partition"),
    ("{topic}:0:999999999", "outside"),
    ("{topic}:zero:0", "bad offset"),
    ("yesterday", "--from must be"),
])
def test_bad_offsets_are_refused_and_nothing_is_written(
    kafka_runtime: KafkaRuntime, db_url: str, debezium: Debezium, home: Path, worker: Worker, spec: str, error: str
) -> None:
    before = _versions(db_url)
    topic = table_topic("commerce_products", prefix=debezium.prefix)
    state_dir = home / f"refused-{unique('')}"
    options = _options(kafka_runtime, db_url, debezium, home, worker, on_top=True,
                       start=spec.format(topic=topic, prefix=debezium.prefix))
    options = KafkaReplayOptions(**{**options.__dict__, "state_dir": state_dir})
    with pytest.raises(ReplayConfigError, match=error):
        KafkaReplay(options, SilentProgress(), threading.Event()).run()
    assert _versions(db_url) == before
    assert not state_dir.exists()
    assert all(checksum(db_url, dt, v + 1)[0] == 0 for dt, v in before.items())


def test_a_replay_scoped_to_one_tenant_and_doc_type_switches_only_that_doc_type(
    kafka_runtime: KafkaRuntime, db_url: str, debezium: Debezium, home: Path, worker: Worker
) -> None:
    before = _versions(db_url)
    expected = checksum(db_url, "product", before["product"])
    content = checksum(db_url, "content", before["content"])

    report = KafkaReplay(_options(kafka_runtime, db_url, debezium, home, worker, doc_types=("product",),
                                  tenant=str(demo.TENANT_ID)), SilentProgress()).run()

    after = _versions(db_url)
    assert after == {"product": before["product"] + 1, "content": before["content"]}
    assert checksum(db_url, "product", after["product"]) == expected
    assert checksum(db_url, "content", after["content"]) == content
    assert report.tenant == str(demo.TENANT_ID) and report.doc_types == ("product",)
    assert load_targets(db_url, PIPELINE)["product"].index_version == after["product"]


def test_the_command_replays_from_kafka_and_refuses_a_bad_offset_with_a_clear_message(
    kafka_runtime: KafkaRuntime, db_url: str, debezium: Debezium, home: Path, worker: Worker,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUSTOK_DATABASE_URL", db_url)
    monkeypatch.setenv("RUSTOK_STATE_DIR", str(home / "cli"))
    monkeypatch.setenv("RUSTOK_TOPIC_PREFIX", debezium.prefix)
    before = _versions(db_url)
    common = ["replay", "--kafka", "--bootstrap", kafka_runtime.bootstrap_servers, "--faust-app",
              worker.settings["app_id"], "--faust-index", str(home / "index"), "--grace", "0", "--json"]
    topic = table_topic("commerce_products", prefix=debezium.prefix)
    get_settings.cache_clear()
    try:
        refused = CliRunner().invoke(app, [*common, "--from", f"{topic}:0:999999999", "--on-top"])
        assert refused.exit_code == 1 and "outside" in refused.output
        assert _versions(db_url) == before
        done = CliRunner().invoke(app, [*common, "--from", "earliest"])
    finally:
        get_settings.cache_clear()
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout[done.stdout.index("{"):])
    assert report["versions"]["product"] == [before["product"], before["product"] + 1]
    assert report["events_read"] > 0 and report["dead_letters"] == 0
    assert _versions(db_url) == {dt: v + 1 for dt, v in before.items()}
