"""Opening the live Tantivy index of a document type and keeping its reader fresh.

The sink writes ``<root>/<doc_type>/v<version>/`` in another process and commits;
this handle opens the live version (``version_of`` reads the alias), registers the
layout's analyzers, and reloads the reader when ``meta.json`` changed (tantivy
rewrites it on every commit). The check is one ``stat`` per ``check_interval``. The
reader reloads only then (policy ``manual``), so ``generation``, bumped on every open
and reload, names exactly what a searcher sees: caches key on it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import tantivy

from search_api.backends.tantivy_query import register_analyzers
from search_api.errors import BackendUnavailable

log = logging.getLogger(__name__)


class IndexHandle:
    def __init__(self, root: Path, doc_type: str, version_of: Callable[[str], int], check_interval: float = 0.0) -> None:
        self._root, self._doc_type, self._version_of = root, doc_type, version_of
        self._interval = check_interval
        self._lock = threading.Lock()
        self._index: tantivy.Index | None = None
        self._path: Path | None = None
        self._mtime = 0.0
        self._checked = 0.0
        self._generation = 0

    @property
    def generation(self) -> int:
        """Read it before taking a searcher: an answer is then never filed under a newer generation."""
        return self._generation

    def index(self, force_check: bool = False) -> tantivy.Index | None:
        """The live index with a fresh reader, or None while nothing was ever indexed."""
        now = time.monotonic()
        if not force_check and self._index is not None and now - self._checked < self._interval:
            return self._index
        path = self._root / self._doc_type / f"v{self._version_of(self._doc_type)}"
        meta = path / "meta.json"
        try:
            mtime = meta.stat().st_mtime
        except FileNotFoundError:
            return None
        with self._lock:
            self._checked = now
            if self._index is None or self._path != path:
                self._index, self._path, self._mtime = self._open(path), path, mtime
                self._generation += 1
            elif mtime != self._mtime:
                self._index.reload()
                self._mtime = mtime
                self._generation += 1
            return self._index

    @staticmethod
    def _open(path: Path) -> tantivy.Index:
        try:
            index = tantivy.Index.open(str(path))
        except ValueError as error:
            raise BackendUnavailable("the search index cannot be opened") from error
        index.config_reader("manual")
        register_analyzers(index)
        log.info("opened search index", extra={"path": str(path)})
        return index
