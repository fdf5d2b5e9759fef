"""The Tantivy sink's index writers, in a process of their own.

tantivy-py releases the GIL inside every ``add_json``, and each call must take it back
before it returns. While another thread of the process runs Python (the projection
building the next slice, a Faust agent, the connector decoding the stream) that costs
up to a switch interval per document: 390 documents whose flush takes 46 ms alone took
394 ms beside one busy thread at Faust's 1 ms interval, and 2.4 s at CPython's default
5 ms (``bench`` notes, session 16). Here the sink's process only turns documents into
JSON and hands a flush's operations over a pipe in one message; this process, with a
GIL of its own, deletes, adds and commits.

The writer process holds the index writers (and so Tantivy's writer lock) of one sink.
It ends when the sink closes it, and when the sink's process dies: its end of the socket
closes, what was not committed is dropped, and the lock is freed as the process exits.
It is a new interpreter (``python -m pipelines.sinks.tantivy_writer <fd>``, ~0.25 s to
start), never a fork of the sink's threaded process; requests and replies are pickled
over a socket pair (``multiprocessing.connection``).
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import tantivy

from contracts.search_index import LAYOUTS
from pipelines.sinks.tantivy_schema import open_index

log = logging.getLogger(__name__)

# One root's operations in a flush: its ``root_key``, whether to delete what the index holds
# for it first, and the JSON documents to add (``to_tantivy_json``).
Operation = tuple[str, bool, Sequence[str]]

CLOSE_TIMEOUT = 10.0


class WriterError(Exception):
    """An operation failed in the writer process (the message names the exception's type there)."""


class WriterGone(Exception):
    """The writer process ended (killed, or crashed): nothing of the flush was committed."""


class WriterProcess:
    """The sink's side of one writer process. Used by one thread at a time, as the sink is."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        self._process = subprocess.Popen([sys.executable, "-m", __name__, str(theirs.fileno())],
                                         pass_fds=(theirs.fileno(),), env=environment)
        theirs.close()
        self._conn = Connection(ours.detach())

    def open(self, doc_type: str, path: Path, heap_size: int, threads: int) -> None:
        """Open (or create) the index of ``doc_type`` in ``path`` and take its writer."""
        self._call("open", doc_type, str(path), heap_size, threads)

    def apply(self, doc_type: str, chunks: Iterable[list[Operation]], commit: bool = True) -> None:
        """Apply the operations in order and, with ``commit``, commit them (and those applied
        before without it) as one; on any failure, here or there, every operation not committed
        is rolled back. Each chunk is sent as soon as it is made, so the writer process indexes
        one while the next is made."""
        sent = 0
        with self._talking():
            try:
                for chunk in chunks:
                    self._conn.send(("add", doc_type, chunk))
                    sent += 1
            except BaseException:
                self._conn.send(("rollback", doc_type))
                self._replies(sent + 1)  # what failed here is the error to raise
                raise
            if commit:
                self._conn.send(("commit", doc_type))
            _raise_first_error(self._replies(sent + (1 if commit else 0)))

    def commit(self, doc_type: str) -> None:
        """Commit what was applied without committing (``apply(commit=False)``)."""
        self._call("commit", doc_type)

    def rollback(self, doc_type: str) -> None:
        """Drop what was applied without committing."""
        self._call("rollback", doc_type)

    def close(self) -> None:
        """Drop what is not committed, free the writer locks and end the process."""
        try:
            if not self._conn.closed:
                self._call("close")
        except (WriterGone, WriterError):
            pass
        finally:
            self._conn.close()
            try:
                self._process.wait(CLOSE_TIMEOUT)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def _call(self, *request: Any) -> Any:
        with self._talking():
            self._conn.send(request)
            replies = self._replies(1)
        _raise_first_error(replies)
        return replies[0][1]

    def _replies(self, count: int) -> list[tuple[Any, ...]]:
        return [self._conn.recv() for _ in range(count)]

    @contextmanager
    def _talking(self) -> Iterator[None]:
        """The end of the socket means the writer process ended: ``WriterGone``."""
        try:
            yield
        except (EOFError, OSError) as exc:
            self._conn.close()
            raise WriterGone(f"the Tantivy writer process ended ({self._process.poll()})") from exc


def _raise_first_error(replies: list[tuple[Any, ...]]) -> None:
    for reply in replies:
        if reply[0] == "error":
            raise WriterError(f"{reply[1]}: {reply[2]}")


def _serve(conn: Connection) -> None:
    """The writer process: requests in order until ``close`` or the end of the pipe."""
    writers: dict[str, tantivy.IndexWriter] = {}
    failed: set[str] = set()  # doc types whose adds since the last commit failed (and were rolled back)
    try:
        while True:
            try:
                request = conn.recv()
            except (EOFError, OSError):
                return  # the sink's process is gone: uncommitted operations are dropped below
            try:
                if request[0] == "close":
                    conn.send(("ok", None))
                    return
                conn.send(("ok", _handle(writers, failed, request)))
            except Exception as exc:  # noqa: BLE001 — every failure goes back to the sink, which raises it
                conn.send(("error", type(exc).__name__, str(exc)))
    finally:
        for writer in writers.values():
            writer.rollback()
        conn.close()


def _handle(writers: dict[str, tantivy.IndexWriter], failed: set[str], request: tuple[Any, ...]) -> object:
    op, doc_type = request[0], request[1]
    if op == "open":
        _, _, path, heap_size, threads = request
        if doc_type not in writers:
            index = open_index(LAYOUTS[doc_type], Path(path))
            writers[doc_type] = index.writer(heap_size, threads)
        return None
    writer = writers[doc_type]
    if op == "add":
        if doc_type in failed:
            raise RuntimeError("not applied: an earlier part of this flush failed")
        try:
            for key, delete, documents in request[2]:
                if delete:
                    writer.delete_documents_by_term("root_key", key)
                for document in documents:
                    writer.add_json(document)
        except BaseException:
            writer.rollback()
            failed.add(doc_type)
            raise
        return None
    if op == "commit":
        if doc_type in failed:
            failed.discard(doc_type)
            raise RuntimeError("rolled back: a part of this flush failed")
        return writer.commit()
    if op == "rollback":
        failed.discard(doc_type)
        writer.rollback()
        return None
    raise ValueError(f"unknown request {op!r}")

if __name__ == "__main__":
    _serve(Connection(int(sys.argv[1])))
