"""CPU time of local processes from ``/proc`` (Linux): what a shared, noisy machine disturbs
less than wall time."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg


def _stat(pid: int | str) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds(postmaster: int | None) -> float | None:
    """CPU of a PostgreSQL cluster so far: the postmaster, its live children (backends,
    WAL writer, ...) and its children that have exited. None without a local postmaster."""
    if postmaster is None:
        return None
    try:
        fields = _stat(postmaster)
    except OSError:
        return None
    ticks = sum(int(f) for f in fields[11:15])
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                child = _stat(entry.name)
            except (OSError, IndexError):  # exited meanwhile
                continue
            if int(child[1]) == postmaster:
                ticks += int(child[11]) + int(child[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def local_postmaster(database_url: str) -> int | None:
    """The pid of the postmaster serving ``database_url`` when it runs on this machine (the
    parent of this connection's backend), else None."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        try:  # while the backend lives: it exits as soon as the connection closes
            postmaster = int(_stat(int(str(row[0])))[1]) if row is not None else None
        except (OSError, ValueError):
            return None
    if postmaster is None:
        return None
    try:
        return postmaster if Path(f"/proc/{postmaster}/cmdline").read_bytes().split(b"\0")[0].endswith(b"postgres") else None
    except OSError:
        return None
