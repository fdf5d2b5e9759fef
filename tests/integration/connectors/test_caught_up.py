"""Idle progress for read-your-writes: ``caught_up`` against a real PostgreSQL."""

from __future__ import annotations

import threading
import time

import psycopg

from connectors.embedded.lsn import parse_lsn

from .conftest import ProgressConsumer, start_in_thread

BOUND_SECONDS = 1.0  # the target is ~0.1 s; the bound leaves room for a loaded machine


def commit_and_token(url: str, statement: str) -> int:
    """Run ``statement`` in its own transaction; return pg_current_wal_lsn() right after the commit."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement)
        row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
    assert row is not None
    return parse_lsn(str(row[0]))


def test_after_a_commit_and_nothing_more_caught_up_reaches_the_commit_token_promptly(cdc_url, running) -> None:  # type: ignore[no-untyped-def]
    consumer = ProgressConsumer()
    start_in_thread(running, cdc_url, consumer)
    time.sleep(0.3)  # let the connector go idle

    waits = []
    for n in range(5):
        token = commit_and_token(cdc_url, f"INSERT INTO items VALUES ({n}, 'item {n}', 1)")
        waited = consumer.wait_caught_up(token, BOUND_SECONDS)
        assert waited is not None, f"caught_up never reached {token}: {consumer.reports[-3:]}"
        waits.append(waited)
        assert any(r.value and r.value.get("after", {}).get("id") == n for r in consumer.records)
    assert sorted(waits)[len(waits) // 2] < 0.5


def test_wal_without_captured_changes_is_still_covered_by_keepalives(cdc_url, running) -> None:  # type: ignore[no-untyped-def]
    consumer = ProgressConsumer()
    start_in_thread(running, cdc_url, consumer)
    time.sleep(0.3)
    # scratch is not in the publication: no change message will ever carry this position.
    token = commit_and_token(cdc_url, "INSERT INTO scratch (payload) SELECT repeat('x', 100) FROM generate_series(1, 500)")

    assert consumer.wait_caught_up(token, BOUND_SECONDS) is not None
    assert consumer.count == 0


def test_caught_up_never_claims_a_position_past_an_undelivered_commit(cdc_url, running) -> None:  # type: ignore[no-untyped-def]
    consumer = ProgressConsumer()
    start_in_thread(running, cdc_url, consumer, max_batch_records=500)
    stop = threading.Event()
    tokens: list[int] = []

    def write() -> None:
        n = 1000
        with psycopg.connect(cdc_url, autocommit=True) as conn:
            while not stop.is_set():
                if n % 7 == 0:  # a big transaction: keepalives arrive while it is being sent
                    conn.execute(f"INSERT INTO items SELECT g, 'bulk', g FROM generate_series({n}, {n + 3000}) g")
                    n += 3001
                else:
                    conn.execute(f"INSERT INTO notes VALUES ({n}, 'small')")
                    conn.execute("INSERT INTO scratch (payload) VALUES ('noise')")
                    n += 1
                row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
                assert row is not None
                tokens.append(parse_lsn(str(row[0])))

    writer = threading.Thread(target=write)
    writer.start()
    began = time.monotonic()
    while (time.monotonic() - began < 2.0 or len(tokens) < 40) and time.monotonic() - began < 20:
        time.sleep(0.1)  # long enough for bulk and small transactions to interleave, even on a loaded machine
    stop.set()
    writer.join()
    assert consumer.wait_caught_up(tokens[-1], 5.0) is not None

    commits = sorted({r.commit_lsn for r in consumer.records if r.commit_lsn is not None})
    assert len(commits) >= 40 and len(consumer.reports) > 3
    for report in consumer.reports:
        missing = [c for c in commits if c <= report.lsn and c not in report.delivered_commits]
        assert not missing, f"caught_up({report.lsn}) before commits {missing} were delivered"
    assert [r.lsn for r in consumer.reports] == sorted({r.lsn for r in consumer.reports})
