"""`rustok lag` numbers, and `rustok replay` as a user runs it: a separate process beside
the live pipeline, killed with SIGKILL mid-snapshot and run again."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner, Result

from rustok.cli import app
from rustok.pipeline import EmbeddedPipeline, PipelineOptions
from rustok.replay.lag import StageLag, read_lag
from rustok.settings import get_settings
from tests.integration.runtime.readmodel import applied_lsn, live_version

from .readmodel import snapshot, wal_position
from tests.waiting import wait_for

DOC_TYPES = ("product", "content")


def _stage(url: str, stage: str, name: str) -> StageLag:
    return next(s for s in read_lag(url).stages if s.stage == stage and s.name == name)


def _write(url: str, n: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for i in range(n):
            conn.execute("UPDATE commerce_product_translations SET title = title || '.' WHERE locale = 'en'")


def test_lag_grows_while_the_pipeline_is_stopped_and_falls_back_when_it_runs(live_options: PipelineOptions) -> None:
    url = live_options.database_url
    with EmbeddedPipeline(live_options):
        pass
    idle = _stage(url, "projection", "embedded")
    assert idle.events_behind == 0 and _stage(url, "capture", "rustok_embedded").events_behind == 0
    _write(url, 20)
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM commerce_product_translations WHERE locale = 'en'").fetchone()
    changed = 20 * int(row[0]) if row else 0
    behind_capture, behind = _stage(url, "capture", "rustok_embedded"), _stage(url, "projection", "embedded")
    assert changed > 0 and behind_capture.events_behind == changed and behind.events_behind == changed
    assert behind_capture.bytes_behind is not None and behind.bytes_behind is not None
    assert behind.bytes_behind > (idle.bytes_behind or 0) + 10_000
    assert behind_capture.bytes_behind > 10_000 and behind.seconds_behind is not None
    assert behind.source_lsn > (behind.processed_lsn or 0) and behind.dead_letters == 0
    with EmbeddedPipeline(live_options):
        target = wal_position(url)
        wait_for(lambda: applied_lsn(url) >= target)
        caught_up = _stage(url, "projection", "embedded")
        assert caught_up.events_behind == 0  # counted through a copy of the slot the pipeline streams
    assert caught_up.bytes_behind is not None and caught_up.bytes_behind < behind.bytes_behind - 10_000
    assert caught_up.seconds_behind == 0.0
    assert read_lag(url).dead_letters_open == 0


def test_wal_the_server_writes_on_its_own_is_not_lag(live_options: PipelineOptions) -> None:
    # Autovacuum analyzes a table soon after it was written (every 5 s on the embedded server):
    # tens of kB of WAL that no pipeline delivers. A caught-up pipeline is still current.
    url = live_options.database_url
    with EmbeddedPipeline(live_options):
        _write(url, 5)
        target = wal_position(url)
        wait_for(lambda: applied_lsn(url) >= target)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE commerce_product_translations")
        conn.execute("ANALYZE")
    current = _stage(url, "projection", "embedded")
    assert current.bytes_behind is not None and current.bytes_behind > 4096  # more than idle WAL lies between
    assert current.events_behind == 0 and current.seconds_behind == 0.0


KILLED_REPLAY = """
import sys
from pathlib import Path
from rustok.replay import EmbeddedReplay, ReplayOptions
EmbeddedReplay(ReplayOptions(database_url=sys.argv[1], state_dir=Path(sys.argv[2]), snapshot_batch_size=20)).run()
"""


def test_a_killed_replay_process_resumes_through_the_command_beside_a_running_pipeline(
    live_options: PipelineOptions, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = live_options.database_url
    with EmbeddedPipeline(live_options) as live:
        old = {dt: live_version(url, dt) for dt in DOC_TYPES}
        before = {dt: snapshot(url, live_options.index_dir, dt, v) for dt, v in old.items()}
        with (tmp_path / "killed.log").open("wb") as log:
            killed = subprocess.Popen([sys.executable, "-c", KILLED_REPLAY, url, str(live_options.state_dir)],
                                      stdout=log, stderr=log)
            wait_for(lambda: _replay_slots(url) > 0, timeout=60)  # it has started its snapshot
            killed.send_signal(signal.SIGKILL)
            killed.wait()

        replay, lag = _cli(monkeypatch, live_options, ["replay", "--json", "--grace", "0"], ["lag", "--json"])
        assert replay.exit_code == 0, replay.output
        report = json.loads(replay.stdout)
        assert report["resumed"] and report["dead_letters"] == 0 and report["documents_written"] > 0
        new = {dt: live_version(url, dt) for dt in DOC_TYPES}
        assert new == {dt: v + 1 for dt, v in old.items()} == {dt: v[1] for dt, v in report["versions"].items()}
        assert {dt: snapshot(url, live_options.index_dir, dt, v) for dt, v in new.items()} == before
        assert _replay_slots(url) == 0
        assert live.index_versions == new and live.failed is None
    assert lag.exit_code == 0, lag.output
    stages = {(s["stage"], s["name"]) for s in json.loads(lag.stdout)["stages"]}
    assert {("capture", "rustok_embedded"), ("projection", "embedded")} <= stages


def _cli(monkeypatch: pytest.MonkeyPatch, options: PipelineOptions, *commands: list[str]) -> list[Result]:
    monkeypatch.setenv("RUSTOK_DATABASE_URL", options.database_url)
    monkeypatch.setenv("RUSTOK_STATE_DIR", str(options.state_dir.parent))
    get_settings.cache_clear()
    try:
        return [CliRunner().invoke(app, command) for command in commands]
    finally:
        get_settings.cache_clear()


def _replay_slots(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'rustok_replay_%'"
                           " AND database = current_database()").fetchone()
    return int(str(row[0])) if row else 0
