"""``DistributedPipeline.start()`` returns only once the Faust worker applied what was committed
before it, and fails with the worker's log named when the worker dies first.

The whole start (broker, Connect, Debezium, worker) runs in ``tests/e2e``, where the first
write after the start is searchable within a second; here the wait itself is exercised
against a real checkpoint table and real child processes."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from pipelines.runtime.checkpoints import PostgresCheckpoints
from rustok.distributed import DistributedOptions, DistributedPipeline, PipelineNotReady
from rustok.postgres import current_wal_lsn

RUNTIME_NOT_USED: Any = object()  # the wait never touches Kafka


def pipeline(database_url: str, tmp_path: Path, command: str, timeout: float = 30.0) -> DistributedPipeline:
    running = DistributedPipeline(DistributedOptions(database_url, tmp_path, ready_timeout=timeout), RUNTIME_NOT_USED)
    running.worker = subprocess.Popen([sys.executable, "-c", command])
    return running


def test_the_start_waits_until_the_checkpoint_reaches_the_position_of_its_beginning(
        database_url: str, tmp_path: Path) -> None:
    began_at = current_wal_lsn(database_url)
    running = pipeline(database_url, tmp_path, "import time; time.sleep(60)")
    checkpoints = PostgresCheckpoints(database_url, "faust")
    checkpoints.save(began_at - 1, None, 0)  # a checkpoint from before the start is not enough
    try:
        saved = threading.Timer(0.5, checkpoints.save, (began_at, None, 0))
        saved.start()
        started = time.monotonic()
        running._wait_applied(began_at)
        assert time.monotonic() - started >= 0.5
        assert running.caught_up_seconds is not None and running.caught_up_seconds >= 0.5
    finally:
        saved.join()
        checkpoints.close()
        running.stop()


def test_a_worker_that_exits_while_starting_fails_the_start_with_its_exit_code_and_log(
        database_url: str, tmp_path: Path) -> None:
    running = pipeline(database_url, tmp_path, "raise SystemExit(3)")
    with pytest.raises(PipelineNotReady, match=r"exited with code 3.*faust-worker\.log"):
        running._wait_applied(current_wal_lsn(database_url))


def test_a_worker_that_never_catches_up_fails_the_start_after_the_timeout(database_url: str, tmp_path: Path) -> None:
    running = pipeline(database_url, tmp_path, "import time; time.sleep(60)", timeout=0.5)
    try:
        with pytest.raises(PipelineNotReady, match=r"within 0.5 s; see .*faust-worker\.log"):
            running._wait_applied(current_wal_lsn(database_url))
    finally:
        running.stop()
