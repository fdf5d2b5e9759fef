"""`rustok lag` numbers, and `rustok replay` as a user runs it: a separate process beside
`rustok pipeline run`, killed with SIGKILL and run again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from rustok.pipeline import EmbeddedPipeline, PipelineOptions
from rustok.replay.lag import StageLag, read_lag
from tests.integration.runtime.readmodel import applied_lsn, live_version

from .readmodel import snapshot, wait_for, wal_position

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
    _write(url, 20)
    behind_capture, behind = _stage(url, "capture", "rustok_embedded"), _stage(url, "projection", "embedded")
    assert behind_capture.bytes_behind is not None and behind.bytes_behind is not None
    assert behind.bytes_behind > (idle.bytes_behind or 0) + 10_000
    assert behind_capture.bytes_behind > 10_000 and behind.seconds_behind is not None
    assert behind.source_lsn > (behind.processed_lsn or 0) and behind.dead_letters == 0
    with EmbeddedPipeline(live_options):
        target = wal_position(url)
        wait_for(lambda: applied_lsn(url) >= target)
        caught_up = _stage(url, "projection", "embedded")
    assert caught_up.bytes_behind is not None and caught_up.bytes_behind < behind.bytes_behind - 10_000
    assert caught_up.seconds_behind == 0.0
    assert read_lag(url).dead_letters_open == 0


def _rustok(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    with log.open("ab") as sink:
        return subprocess.Popen([sys.executable, "-m", "rustok.cli", *args], env=env, stdout=sink, stderr=sink)


def test_a_killed_replay_process_resumes_beside_a_running_pipeline_and_the_lag_command_reports_both(
    live_options: PipelineOptions, tmp_path: Path
) -> None:
    url = live_options.database_url
    env = {**os.environ, "RUSTOK_DATABASE_URL": url, "RUSTOK_STATE_DIR": str(live_options.state_dir.parent),
           "RUSTOK_LOG_FORMAT": "text", "RUSTOK_LOG_LEVEL": "WARNING"}
    live_log = tmp_path / "live.log"
    live = _rustok(env, live_log, "pipeline", "run")
    try:
        wait_for(lambda: applied_lsn(url) > 0, timeout=30)
        old = {dt: live_version(url, dt) for dt in DOC_TYPES}
        before = {dt: snapshot(url, live_options.index_dir, dt, v) for dt, v in old.items()}

        killed = _rustok(env, tmp_path / "killed.log", "replay", "--json", "--grace", "0")
        time.sleep(2.5)
        killed.send_signal(signal.SIGKILL)
        killed.wait()

        done = subprocess.run([sys.executable, "-m", "rustok.cli", "replay", "--json", "--grace", "0"], env=env,
                              capture_output=True, timeout=120)
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        report = json.loads(done.stdout)
        new = {dt: live_version(url, dt) for dt in DOC_TYPES}
        assert new == {dt: v + 1 for dt, v in old.items()}
        assert {dt: snapshot(url, live_options.index_dir, dt, v) for dt, v in new.items()} == before
        assert report["dead_letters"] == 0 and set(report["versions"]) == set(DOC_TYPES)

        lag = subprocess.run([sys.executable, "-m", "rustok.cli", "lag", "--json"], env=env, capture_output=True,
                             timeout=60)
        stages = {(s["stage"], s["name"]) for s in json.loads(lag.stdout)["stages"]}
        assert {("capture", "rustok_embedded"), ("projection", "embedded")} <= stages
        assert not any(name.startswith("rustok_replay_") for _, name in stages)  # the replay cleaned up
        assert live.poll() is None, live_log.read_text()[:4000]  # the live pipeline followed the switch and still runs
    finally:
        live.send_signal(signal.SIGTERM)
        live.wait(timeout=30)
