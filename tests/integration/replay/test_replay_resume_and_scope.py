"""Interrupted replays resume; a replay beside a busy writer ends equal to a clean rebuild;
a tenant-scoped replay rebuilds one tenant and keeps every other."""

from __future__ import annotations

import threading
from dataclasses import replace
from uuid import UUID

import psycopg
import pytest

from contracts.ids import new_id
from rustok import demo
from rustok.pipeline import EmbeddedPipeline, PipelineOptions
from rustok.replay import EmbeddedReplay, ReplayInterrupted, ReplayOptions, SilentProgress
from rustok.replay.errors import ReplayConfigError
from rustok.replay.manifest import unfinished
from tests.integration.runtime.readmodel import applied_lsn, live_version, table_documents
from tests.integration.runtime.workload import Workload

from .readmodel import snapshot, wal_position
from tests.waiting import wait_for

DOC_TYPES = ("product", "content")


class StopAt(SilentProgress):
    """Sets ``stop`` once step ``step`` has advanced ``after`` (0: as soon as the step starts)."""

    def __init__(self, stop: threading.Event, step: str, after: float = 0) -> None:
        super().__init__()
        self._stop, self._step, self._after = stop, step, after

    def step(self, name: str, total: float | None = None) -> None:
        super().step(name, total)
        if name == self._step and self._after == 0:
            self._stop.set()

    def update(self, completed: float, total: float | None = None) -> None:
        super().update(completed, total)
        if self.steps[-1] == self._step and completed >= self._after > 0:
            self._stop.set()


def _versions(url: str) -> dict[str, int]:
    return {dt: live_version(url, dt) for dt in DOC_TYPES}


def _state(url: str, options: PipelineOptions) -> dict[str, object]:
    return {dt: snapshot(url, options.index_dir, dt, v) for dt, v in _versions(url).items()}


def _interrupt(options: ReplayOptions, step: str, after: float = 0) -> None:
    stop = threading.Event()
    with pytest.raises(ReplayInterrupted):
        EmbeddedReplay(options, StopAt(stop, step, after), stop).run()


def test_a_replay_interrupted_mid_snapshot_resumes_and_ends_equal_to_the_live_version(
    live_options: PipelineOptions, replay_options: ReplayOptions
) -> None:
    url = live_options.database_url
    with EmbeddedPipeline(live_options):
        pass
    before, versions = _state(url, live_options), _versions(url)

    _interrupt(replay_options, "snapshot", after=1)
    assert _versions(url) == versions  # nothing switched
    assert [m.phase for m in unfinished(replay_options.state_dir)] == ["building"]

    report = EmbeddedReplay(replay_options).run()
    assert report.resumed
    assert _versions(url) == {dt: v + 1 for dt, v in versions.items()}
    assert _state(url, live_options) == before
    assert unfinished(replay_options.state_dir) == []
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'rustok_replay_%'"
                            " AND database = current_database()").fetchone() == (0,)


def test_a_replay_interrupted_after_its_snapshot_resumes_from_its_position_and_sees_later_writes(
    live_options: PipelineOptions, replay_options: ReplayOptions
) -> None:
    url = live_options.database_url
    _interrupt(replay_options, "catch-up")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE commerce_product_translations SET title = 'Written While Interrupted'"
                     " WHERE product_id = %s AND locale = 'en'", (demo.demo_id("product", "linen-shirt"),))

    report = EmbeddedReplay(replay_options).run()
    assert report.resumed
    assert report.events_read < 50  # streamed the change, not a second snapshot
    titles = {doc["title"] for doc in table_documents(url).values()}
    assert "Written While Interrupted" in titles
    after = _state(url, live_options)
    EmbeddedReplay(replay_options).run()  # a clean rebuild to compare with
    assert _state(url, live_options) == after


def test_a_replay_while_writes_continue_ends_equal_to_a_clean_rebuild(
    live_options: PipelineOptions, replay_options: ReplayOptions
) -> None:
    """The writer stops shortly after the switch, before the live pipeline (looking at the
    aliases only every 1.5 s) follows it: its last commits reach the new version only
    through the live pipeline's rewrite of what it emitted after the replay's position."""
    url = live_options.database_url
    workload, done = Workload(url, seed=11), threading.Event()
    old = _versions(url)

    def write() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            while not done.is_set():
                workload.step(conn)
                done.wait(0.01)

    with EmbeddedPipeline(replace(live_options, alias_check_interval=1.5)) as live:
        writer = threading.Thread(target=write)
        writer.start()
        replay = threading.Thread(target=EmbeddedReplay(replay_options).run)
        try:
            wait_for(lambda: workload.transactions >= 20)
            replay.start()
            wait_for(lambda: _versions(url) != old, timeout=60)
            written_at_switch = workload.transactions
            wait_for(lambda: workload.transactions >= written_at_switch + 5)
        finally:
            done.set()
            writer.join()
            replay.join()
        assert live.index_versions == _versions(url) == {dt: v + 1 for dt, v in old.items()}
        target = wal_position(url)
        wait_for(lambda: applied_lsn(url) >= target)
        after_replay = _state(url, live_options)
        EmbeddedReplay(replay_options).run()  # a clean rebuild, with no writes
        assert _state(url, live_options) == after_replay
        assert live.failed is None


def _second_tenant(url: str) -> UUID:
    tenant = new_id()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO tenants (id, slug, name, default_locale) VALUES (%s, 'second', 'Second', 'en')",
                     (tenant,))
        conn.execute("INSERT INTO tenant_locales (id, tenant_id, locale, position) VALUES (%s, %s, 'en', 0)",
                     (new_id(), tenant))
        for n in range(3):
            pid = new_id()
            conn.execute("INSERT INTO commerce_products (id, tenant_id, handle, status, published_at)"
                         " VALUES (%s, %s, %s, 'published', now())", (pid, tenant, f"second-{n}"))
            conn.execute("INSERT INTO commerce_product_translations (id, tenant_id, product_id, locale, title)"
                         " VALUES (%s, %s, %s, 'en', %s)", (new_id(), tenant, pid, f"Second {n}"))
    return tenant


def test_a_tenant_scoped_replay_rebuilds_that_tenant_and_keeps_every_other_tenant(
    live_options: PipelineOptions, replay_options: ReplayOptions
) -> None:
    url = live_options.database_url
    second = _second_tenant(url)
    with EmbeddedPipeline(live_options) as live:
        wait_for(lambda: sum(t == str(second) for t, _, _ in table_documents(url)) == 3)
        before = _state(url, live_options)
        with psycopg.connect(url, autocommit=True) as conn:  # drift the scoped tenant's rows: the replay repairs them
            conn.execute("UPDATE index_products SET document = document || '{\"title\": \"drift\"}'"
                         " WHERE tenant_id = %s", (demo.TENANT_ID,))
        EmbeddedReplay(replace(replay_options, tenant=str(demo.TENANT_ID))).run()
        assert _state(url, live_options) == before
        with psycopg.connect(url, autocommit=True) as conn:  # the other tenant still lives on
            conn.execute("UPDATE commerce_product_translations SET title = 'Second renamed' WHERE tenant_id = %s"
                         " AND title = 'Second 0'", (second,))
        wait_for(lambda: "Second renamed" in {d["title"] for d in table_documents(url).values()})
        assert live.failed is None


def test_a_replay_of_an_unknown_tenant_or_doc_type_is_refused_and_writes_nothing(
    live_options: PipelineOptions, replay_options: ReplayOptions
) -> None:
    with pytest.raises(ReplayConfigError):
        EmbeddedReplay(replace(replay_options, tenant=str(new_id())))
    with pytest.raises(ReplayConfigError):
        EmbeddedReplay(replace(replay_options, doc_types=("orders",)))  # type: ignore[arg-type]
    with pytest.raises(ReplayConfigError):
        EmbeddedReplay(replace(replay_options, tenant="not-a-tenant"))
    assert not (replay_options.state_dir / "replays").exists()
