"""The JSONB read-table sink: ``index_products`` and ``index_content`` (migration 0006).

One flush is one transaction. Per document type the pending emissions are copied
(COPY) into temporary tables, and a few set-based statements apply them:

1. lock and read the roots' current rows (a loose index scan finds each tenant's
   locales, so every lookup is a primary-key probe even for big tenants);
2. drop emissions older than what is stored (stored version = the root's highest
   ``source_lsn``), so a late or replayed emission never overwrites newer facts;
3. delete every current row of the applicable roots (locales no longer emitted go,
   an empty emission removes the root) and insert the emitted documents.

Handles (products) and slugs (content) are unique per (index version, tenant,
locale). Deleting before inserting lets product A take the handle B just gave up in
the same batch, whatever their order. A row of another root still holding a claimed
handle is stale by construction (the write model keeps handles unique at every
commit), so a claim evicts it when the claim is at least as new; when the holder is
newer the claim is the stale side and its row is skipped until the root's next
emission. Neither case fails the flush, so one stale row can never wedge the sink.

Known limit: a root deleted by an empty emission leaves no row behind, so a later,
*older* emission of that root (a replay from an older position through a docs topic)
re-creates it; closing that needs a tombstone table (a migration the sink does not own).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import psycopg

from contracts.locale import text_search_config
from pipelines.model import DocType, Document, RootDocuments
from pipelines.sinks.buffer import DOC_TYPES, EmissionBuffer, check_doc_types
from pipelines.sinks.errors import SinkBackpressure, SinkConfigError

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 1.0
# Re-analyse a read table once it grew or shrank by this share of its rows (plus a floor):
# the per-row probes by handle only pick the unique index once statistics know the
# table's size, and autovacuum lags far behind a bulk load or a rebuild. Updates, which
# replace rows, do not count: at 200 writes/s a 35k-row table was analysed every 15 s,
# 0.5-1.2 s each. The ANALYZE runs beside the flushes (``_Upkeep``).
ANALYZE_SHARE = 0.2
ANALYZE_FLOOR = 2_000
# Clean a read table's GIN pending lists (the tsvector's and the document's) beside the
# flushes after this many rows were written to it by small flushes. Left alone, the INSERT
# that finds a list past gin_pending_list_limit (4 MB) merges it into the index itself:
# 100-130 ms added to every twentieth flush of a steady stream, the p99 of a flush's time.
# A flush of this many rows or more (a rebuild's) leaves the merge to its own INSERT.
CLEAN_PENDING_ROWS = 1_000
# Flushes of fewer roots analyse their temporary tables first (see ``_copy_in``).
_ANALYZE_BELOW_ROOTS = 500


@dataclass(frozen=True, slots=True)
class _Table:
    doc_type: DocType
    name: str
    id_column: str
    key_column: str  # handle / slug: unique per (index_version, tenant, locale)
    extra_columns: tuple[str, ...]

    @property
    def key_columns(self) -> str:
        """The columns the flush's probes filter on: what its ANALYZE samples. The documents
        and their tsvectors are left to autovacuum (they were most of a rebuild's ANALYZE time)."""
        return ", ".join(("index_version", "tenant_id", "locale", self.id_column, self.key_column, "status",
                          "source_lsn", *self.extra_columns))


_TABLES: dict[DocType, _Table] = {
    "product": _Table("product", "index_products", "product_id", "handle", ()),
    "content": _Table("content", "index_content", "node_id", "slug", ("kind", "published_at")),
}

# The documents stay uncompressed in the staging table as in the read tables (migration 0014):
# pglz would compress each one on the way in and decompress it on the way out.
_TEMP_TABLES = """
CREATE TEMP TABLE IF NOT EXISTS _sink_roots_{t} (
    tenant_id uuid NOT NULL, id uuid NOT NULL, version bigint NOT NULL, committed_at timestamptz
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS _sink_docs_{t} (
    tenant_id uuid NOT NULL, id uuid NOT NULL, locale text NOT NULL, key text, status text NOT NULL,
    kind text, published_at timestamptz, ts_config text NOT NULL, document jsonb NOT NULL,
    source_lsn bigint NOT NULL, committed_at timestamptz
) WITH (toast_tuple_target = 8160) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS _sink_existing_{t} (
    tenant_id uuid NOT NULL, id uuid NOT NULL, locale text NOT NULL, source_lsn bigint NOT NULL
) ON COMMIT DELETE ROWS;
"""

# Every tenant's locales by a loose index scan on the primary key, then one primary-key
# probe per (root, locale), the pairs materialized first: joined in one step, the planner
# probed each root's whole tenant without its locale.
_LOCK_EXISTING = """
INSERT INTO _sink_existing_{t} (tenant_id, id, locale, source_lsn)
WITH RECURSIVE tl(tenant_id, locale) AS (
    SELECT t.tenant_id, (SELECT min(p.locale) FROM {table} p
                         WHERE p.index_version = %(v)s AND p.tenant_id = t.tenant_id)
    FROM (SELECT DISTINCT tenant_id FROM _sink_roots_{t}) t
    UNION ALL
    SELECT tl.tenant_id, (SELECT min(p.locale) FROM {table} p
                          WHERE p.index_version = %(v)s AND p.tenant_id = tl.tenant_id AND p.locale > tl.locale)
    FROM tl WHERE tl.locale IS NOT NULL
), wanted AS MATERIALIZED (
    SELECT r.tenant_id, tl.locale, r.id FROM tl JOIN _sink_roots_{t} r ON r.tenant_id = tl.tenant_id
    WHERE tl.locale IS NOT NULL
)
SELECT p.tenant_id, p.{id}, p.locale, p.source_lsn
FROM wanted w
JOIN {table} p ON p.index_version = %(v)s AND p.tenant_id = w.tenant_id AND p.locale = w.locale AND p.{id} = w.id
FOR UPDATE OF p
"""

_DROP_STALE = """
DELETE FROM _sink_roots_{t} r
USING (SELECT tenant_id, id, max(source_lsn) AS stored FROM _sink_existing_{t} GROUP BY tenant_id, id) e
WHERE e.tenant_id = r.tenant_id AND e.id = r.id AND e.stored > r.version
RETURNING r.tenant_id, r.id, r.version, e.stored
"""

_DELETE_CURRENT = """
DELETE FROM {table} p USING _sink_existing_{t} e, _sink_roots_{t} r
WHERE e.tenant_id = r.tenant_id AND e.id = r.id
  AND p.index_version = %(v)s AND p.tenant_id = e.tenant_id AND p.locale = e.locale AND p.{id} = e.id
"""

_DROP_DOCS_OF_STALE_ROOTS = """
DELETE FROM _sink_docs_{t} d
WHERE NOT EXISTS (SELECT 1 FROM _sink_roots_{t} r WHERE r.tenant_id = d.tenant_id AND r.id = d.id)
"""

# Two roots claiming one key in one batch: the newer claim wins (ties: the higher id).
_DROP_LOSING_CLAIMS = """
DELETE FROM _sink_docs_{t} d USING _sink_docs_{t} o
WHERE d.key IS NOT NULL AND o.tenant_id = d.tenant_id AND o.locale = d.locale AND o.key = d.key AND o.id <> d.id
  AND (o.source_lsn > d.source_lsn OR (o.source_lsn = d.source_lsn AND o.id > d.id))
RETURNING d.tenant_id, d.id, d.locale, d.key
"""

_EVICT_STALE_HOLDERS = """
DELETE FROM {table} p USING _sink_docs_{t} d
WHERE p.index_version = %(v)s AND p.tenant_id = d.tenant_id AND p.locale = d.locale
  AND p.{key} = d.key AND p.{id} <> d.id AND p.source_lsn <= d.source_lsn
RETURNING p.tenant_id, p.{id}, p.locale, p.{key}
"""

# A claim still held by a newer row of another root waits for the root's next emission.
# A statement of its own rather than a NOT EXISTS inside the INSERT: there the probe
# would also visit every row the INSERT itself adds (whatever index the planner picks
# for a table it believes empty), which made a large flush quadratic.
_DROP_BLOCKED_CLAIMS = """
DELETE FROM _sink_docs_{t} d USING {table} h
WHERE d.key IS NOT NULL AND h.index_version = %(v)s AND h.tenant_id = d.tenant_id
  AND h.locale = d.locale AND h.{key} = d.key AND h.{id} <> d.id
"""

# A bulk load into an empty version (``begin_bulk``): straight into the read table.
_COPY_DIRECT = """
COPY {table} (index_version, tenant_id, locale, {id}, {key}, status, {extra_cols}ts_config, document, source_lsn,
              source_committed_at) FROM STDIN
"""

_INSERT = """
INSERT INTO {table} AS p (index_version, tenant_id, locale, {id}, {key}, status, {extra_cols}
                          ts_config, document, source_lsn, source_committed_at, indexed_at)
SELECT %(v)s, d.tenant_id, d.locale, d.id, d.key, d.status, {extra_vals}
       d.ts_config::regconfig, d.document, d.source_lsn, d.committed_at, now()
FROM _sink_docs_{t} d
ON CONFLICT (index_version, tenant_id, locale, {id}) DO UPDATE SET
    {key} = excluded.{key}, status = excluded.status, {extra_set}
    ts_config = excluded.ts_config, document = excluded.document, source_lsn = excluded.source_lsn,
    source_committed_at = excluded.source_committed_at, indexed_at = excluded.indexed_at
WHERE p.source_lsn <= excluded.source_lsn
"""


def _sql(template: str, table: _Table) -> str:
    extra = table.extra_columns
    return template.format(
        t=table.doc_type, table=table.name, id=table.id_column, key=table.key_column,
        extra_cols="".join(f"{c}, " for c in extra),
        extra_vals="".join(f"d.{c}, " for c in extra),
        extra_set="".join(f"{c} = excluded.{c}, " for c in extra),
    )


@dataclass(frozen=True, slots=True)
class FlushStats:
    """What the last flush did, per the whole flush (for logs, metrics and tests)."""

    roots: int = 0
    stale_roots: int = 0
    rows_written: int = 0
    rows_evicted: int = 0
    claims_skipped: int = 0


class PostgresSink:
    """Writes RootDocuments into the JSONB read tables.

    Parameters:
        database_url: libpq URL of the read-model database.
        doc_types: the document types this sink handles; emissions of others are ignored.
        index_version: the index version to write; None writes the live version of each
            doc type (``read_model_aliases``), read at ``setup``. A rebuild passes a new
            version, then calls ``switch_alias`` once it has caught up.
    """

    name = "postgres"

    def __init__(
        self, database_url: str, doc_types: Sequence[DocType] = DOC_TYPES, index_version: int | None = None
    ) -> None:
        if index_version is not None and index_version < 1:
            raise SinkConfigError(f"index_version must be >= 1, got {index_version}")
        self._url = database_url
        self._doc_types = check_doc_types(doc_types)
        self._requested_version = index_version
        self._versions: dict[DocType, int] = {}
        self._buffer = EmissionBuffer(self._doc_types)
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None
        self._resized_since_analyze: dict[DocType, int] = {}
        self._rows_at_analyze: dict[DocType, float] = {}
        self._written_since_clean: dict[DocType, int] = {}
        self._upkeep: _Upkeep | None = None
        self._bulk: dict[DocType, bool] | None = None  # during a bulk load: per doc type, whether it goes direct
        self.last_flush = FlushStats()

    @property
    def index_versions(self) -> dict[DocType, int]:
        return dict(self._versions)

    def setup(self) -> None:
        try:
            conn = self._connection()
            for doc_type in self._doc_types:
                self._versions[doc_type] = self._requested_version or live_version_on(conn, doc_type)
            conn.commit()
        except psycopg.OperationalError as exc:
            self._drop_connection()
            raise SinkBackpressure(f"read-model database unavailable: {exc}", RETRY_AFTER_SECONDS) from exc

    def write(self, batch: Sequence[RootDocuments]) -> None:
        self._buffer.add(batch)

    def flush(self) -> None:
        pending = self._buffer.take()
        if not pending:
            return
        if not self._versions:
            self.setup()
        try:
            self.last_flush = self._apply(pending)
            self._keep_up()
        except (psycopg.OperationalError, psycopg.errors.UniqueViolation,
                psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected) as exc:
            # Lost connection, or a concurrent writer raced a claim: nothing was committed.
            self._drop_connection()
            raise SinkBackpressure(f"read-model flush failed, retry: {exc}", RETRY_AFTER_SECONDS) from exc

    def begin_bulk(self) -> None:
        """Each root written from now until ``end_bulk`` is written once, and nothing else writes
        these versions (``BulkLoads``). A version found empty at the bulk's first flush takes the
        documents by COPY straight into the read table: none of the staging, the stored versions'
        lookup or the claims' checks has anything to find there. Two roots that still claim one
        handle (a locale's fallback can give two products the same one) fail that COPY, and
        that flush alone goes the checked way."""
        self._bulk = {}

    def end_bulk(self, completed: bool) -> None:
        """Each flush of the bulk was committed already, completed or not."""
        self._bulk = None

    def close(self) -> None:
        if self._upkeep is not None:
            self._upkeep.close()  # waits for the work under way
            self._upkeep = None
        self._drop_connection()

    def _apply(self, pending: list[RootDocuments]) -> FlushStats:
        conn = self._connection()
        totals = FlushStats()
        with conn.transaction():
            for doc_type in self._doc_types:
                emissions = [e for e in pending if e.root.doc_type == doc_type]
                if emissions:
                    totals = _add(totals, self._apply_table(conn, _TABLES[doc_type], emissions))
        log.debug("postgres sink flushed", extra={"roots": totals.roots, "rows": totals.rows_written,
                                                  "stale": totals.stale_roots})
        return totals

    def _apply_table(
        self, conn: psycopg.Connection[tuple[object, ...]], table: _Table, emissions: list[RootDocuments]
    ) -> FlushStats:
        params = {"v": self._versions[table.doc_type]}
        if self._direct(conn, table):
            try:
                with conn.transaction():  # a savepoint: a failed COPY leaves the flush's other work
                    written = _copy_direct(conn, table, params["v"], emissions)
                self._resized_since_analyze[table.doc_type] = self._resized_since_analyze.get(table.doc_type, 0) + written
                return FlushStats(len(emissions), rows_written=written)
            except psycopg.errors.UniqueViolation as exc:
                log.info("a bulk flush claims a key twice; it is applied the checked way", extra={"error": str(exc)})
        _copy_in(conn, table, emissions)
        cur = conn.cursor()
        cur.execute(_sql(_LOCK_EXISTING, table), params)
        cur.execute(_sql(_DROP_STALE, table))
        stale = cur.fetchall()
        for tenant_id, root_id, version, stored in stale:
            log.info("stale emission skipped", extra={"tenant": str(tenant_id), "root": str(root_id),
                                                      "lsn": version, "stored_lsn": stored})
        cur.execute(_sql(_DELETE_CURRENT, table), params)
        replaced = cur.rowcount
        cur.execute(_sql(_DROP_DOCS_OF_STALE_ROOTS, table))
        cur.execute(_sql(_DROP_LOSING_CLAIMS, table))
        lost = cur.rowcount
        cur.execute(_sql(_EVICT_STALE_HOLDERS, table), params)
        for tenant_id, entity_id, locale, key in cur.fetchall():
            log.warning("stale row evicted from a claimed %s", table.key_column,
                        extra={"tenant": str(tenant_id), "entity": str(entity_id), "locale": locale, "key": key})
        evicted = cur.rowcount
        cur.execute(_sql(_DROP_BLOCKED_CLAIMS, table), params)
        blocked = cur.rowcount
        cur.execute("SELECT count(*) FROM _sink_docs_{t}".format(t=table.doc_type))
        candidates = _scalar(cur.fetchone())
        cur.execute(_sql(_INSERT, table), params)
        written = cur.rowcount
        resized = abs(written - replaced - evicted)
        self._resized_since_analyze[table.doc_type] = self._resized_since_analyze.get(table.doc_type, 0) + resized
        if written < CLEAN_PENDING_ROWS:  # a bulk flush (a rebuild's) leaves them to its INSERT, in bulk
            self._written_since_clean[table.doc_type] = self._written_since_clean.get(table.doc_type, 0) + written
        return FlushStats(len(emissions), len(stale), written, evicted, lost + blocked + candidates - written)

    def _direct(self, conn: psycopg.Connection[tuple[object, ...]], table: _Table) -> bool:
        """Whether this flush may COPY straight into ``table``: in a bulk load whose first flush
        found the version empty."""
        if self._bulk is None:
            return False
        if table.doc_type not in self._bulk:
            row = conn.execute(f"SELECT EXISTS (SELECT 1 FROM {table.name} WHERE index_version = %s)",
                               (self._versions[table.doc_type],)).fetchone()
            self._bulk[table.doc_type] = row is not None and row[0] is False
        return self._bulk[table.doc_type]

    def _keep_up(self) -> None:
        """Hand the upkeep that is due to ``_Upkeep``: ANALYZE of a table whose size changed,
        the cleaning of a table's GIN pending lists. One job at a time; while one runs, what
        is written counts toward the next."""
        if self._upkeep is not None and self._upkeep.busy:
            return
        conn = self._connection()
        analyze: list[_Table] = []
        clean: list[_Table] = []
        for doc_type, resized in self._resized_since_analyze.items():
            table = _TABLES[doc_type]
            known = self._rows_at_analyze.get(doc_type)
            if known is None:
                row = conn.execute("SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = %s::regclass",
                                   (table.name,)).fetchone()
                known = self._rows_at_analyze[doc_type] = float(row[0]) if row else 0.0  # type: ignore[arg-type]
            if resized > ANALYZE_FLOOR + ANALYZE_SHARE * known:
                analyze.append(table)
                self._rows_at_analyze[doc_type] = known + resized
                self._resized_since_analyze[doc_type] = 0
            if self._written_since_clean.get(doc_type, 0) >= CLEAN_PENDING_ROWS:
                clean.append(table)
                self._written_since_clean[doc_type] = 0
        # Never leave a transaction open: the next flush's transaction must be a real one.
        conn.commit()
        if analyze or clean:
            if self._upkeep is None:
                self._upkeep = _Upkeep(self._url)
            self._upkeep.start(analyze, clean)

    def _connection(self) -> psycopg.Connection[tuple[object, ...]]:
        if self._conn is None or self._conn.closed:
            conn = psycopg.connect(self._url)
            for table in _TABLES.values():
                conn.execute(_TEMP_TABLES.format(t=table.doc_type))
            conn.commit()
            self._conn = conn
        return self._conn

    def _drop_connection(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None


class _Upkeep:
    """Upkeep of the read tables beside the flushes, on a thread and a connection of its own:
    neither an ANALYZE nor a GIN cleanup blocks the sink's inserts (the cleanup locks the
    pending list against other cleaners only; an INSERT that finds it taken leaves the list
    to it). Statistics and cleanups only make later work cheaper, so a failure is logged."""

    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="postgres-sink-upkeep")
        self._job: Future[None] | None = None
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None
        self._gin: dict[str, list[str]] = {}

    @property
    def busy(self) -> bool:
        return self._job is not None and not self._job.done()

    def start(self, analyze: list[_Table], clean: list[_Table]) -> None:
        self._job = self._executor.submit(self._run, analyze, clean)

    def close(self) -> None:
        self._executor.shutdown()
        if self._conn is not None:
            self._conn.close()

    def _run(self, analyze: list[_Table], clean: list[_Table]) -> None:
        try:
            if self._conn is None or self._conn.closed:
                self._conn = psycopg.connect(self._url, autocommit=True)
            for table in clean:
                for index in self._gin_indexes(self._conn, table):
                    self._conn.execute("SELECT gin_clean_pending_list(%s::regclass)", (index,))
            for table in analyze:
                self._conn.execute(f"ANALYZE {table.name} ({table.key_columns})")
        except psycopg.Error as exc:
            log.warning("read-table upkeep failed", extra={"analyze": [t.name for t in analyze],
                                                            "clean": [t.name for t in clean], "error": str(exc)})
            if self._conn is not None:
                self._conn.close()

    def _gin_indexes(self, conn: psycopg.Connection[tuple[object, ...]], table: _Table) -> list[str]:
        """The table's GIN indexes that keep a pending list (``fastupdate``, the default) and
        that this role may clean (it must own them, as for VACUUM)."""
        if table.name not in self._gin:
            rows = conn.execute(
                "SELECT c.oid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_am a ON a.oid = c.relam WHERE i.indrelid = %s::regclass AND a.amname = 'gin' "
                "AND NOT coalesce('fastupdate=off' = ANY (c.reloptions), false) AND pg_has_role(c.relowner, 'USAGE')",
                (table.name,)).fetchall()
            self._gin[table.name] = [str(r[0]) for r in rows]
        return self._gin[table.name]


def _scalar(row: tuple[object, ...] | None) -> int:
    value = row[0] if row else 0
    return value if isinstance(value, int) else 0


def _add(a: FlushStats, b: FlushStats) -> FlushStats:
    return FlushStats(a.roots + b.roots, a.stale_roots + b.stale_roots, a.rows_written + b.rows_written,
                      a.rows_evicted + b.rows_evicted, a.claims_skipped + b.claims_skipped)


def _copy_in(conn: psycopg.Connection[tuple[object, ...]], table: _Table, emissions: list[RootDocuments]) -> None:
    t = table.doc_type
    with conn.cursor().copy(f"COPY _sink_roots_{t} (tenant_id, id, version, committed_at) FROM STDIN") as copy:
        for e in emissions:
            copy.write_row((e.root.tenant_id, e.root.id, e.version, e.committed_at))
    columns = "tenant_id, id, locale, key, status, kind, published_at, ts_config, document, source_lsn, committed_at"
    with conn.cursor().copy(f"COPY _sink_docs_{t} ({columns}) FROM STDIN") as copy:
        for e, doc, encoded, key in _documents(emissions):
            kind = doc.kind if doc.doc_type == "content" else None
            published = doc.published_at if doc.doc_type == "content" else None
            copy.write_row((doc.tenant_id, doc.id, doc.locale, key, doc.status, kind, published,
                            text_search_config(doc.locale), encoded, e.version, e.committed_at))
    # Never analysed, a temporary table is estimated from its size in pages, and one page is
    # taken for about a thousand rows: for a flush of a few roots the planner then hashes a
    # scan of the whole read table instead of probing it. Statistics of what was copied, on
    # the columns the statements join on, put that right; a larger flush is estimated well.
    if len(emissions) < _ANALYZE_BELOW_ROOTS:
        conn.execute(f"ANALYZE _sink_roots_{t}; ANALYZE _sink_docs_{t} (tenant_id, id, locale, key, source_lsn)")


def _copy_direct(conn: psycopg.Connection[tuple[object, ...]], table: _Table, version: int,
                 emissions: list[RootDocuments]) -> int:
    """COPY the emissions' documents into the read table itself; returns the rows written."""
    written = 0
    with conn.cursor().copy(_sql(_COPY_DIRECT, table)) as copy:
        for e, doc, encoded, key in _documents(emissions):
            extra = tuple(getattr(doc, column) for column in table.extra_columns)
            copy.write_row((version, doc.tenant_id, doc.locale, doc.id, key, doc.status, *extra,
                            text_search_config(doc.locale), encoded, e.version, e.committed_at))
            written += 1
    return written


def _documents(emissions: list[RootDocuments]) -> Iterator[tuple[RootDocuments, Document, str, str | None]]:
    """Each document of ``emissions`` with its emission, its JSON and its key (handle or slug)."""
    for e in emissions:
        for doc, encoded in zip(e.documents, e.documents_json(), strict=True):
            yield e, doc, encoded, doc.handle if doc.doc_type == "product" else doc.slug


def live_version_on(conn: psycopg.Connection[tuple[object, ...]], doc_type: DocType) -> int:
    row = conn.execute("SELECT live_version FROM read_model_aliases WHERE doc_type = %s", (doc_type,)).fetchone()
    if row is None or not isinstance(row[0], int):
        raise SinkConfigError(f"read_model_aliases has no live version for {doc_type!r}")
    return row[0]


def live_version(database_url: str, doc_type: DocType) -> int:
    """The index version storefronts read for ``doc_type``."""
    with psycopg.connect(database_url) as conn:
        return live_version_on(conn, doc_type)


def switch_alias(database_url: str, doc_type: DocType, index_version: int) -> int:
    """Make ``index_version`` the live one for ``doc_type`` in one UPDATE; returns the previous one."""
    if doc_type not in _TABLES or index_version < 1:
        raise SinkConfigError(f"cannot switch {doc_type!r} to version {index_version}")
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "UPDATE read_model_aliases a SET live_version = %s, switched_at = now() "
            "FROM read_model_aliases old WHERE a.doc_type = %s AND old.doc_type = a.doc_type "
            "RETURNING old.live_version",
            (index_version, doc_type),
        ).fetchone()
    if row is None or not isinstance(row[0], int):
        raise SinkConfigError(f"read_model_aliases has no row for {doc_type!r}")
    log.info("read-model alias switched", extra={"doc_type": doc_type, "from": row[0], "to": index_version})
    return row[0]


def drop_index_version(database_url: str, doc_type: DocType, index_version: int) -> int:
    """Delete the rows of a version that is not live (after a switch); returns the row count."""
    table = _TABLES[doc_type]
    with psycopg.connect(database_url) as conn:
        if live_version_on(conn, doc_type) == index_version:
            raise SinkConfigError(f"version {index_version} of {doc_type!r} is live; switch the alias first")
        cur = conn.execute(f"DELETE FROM {table.name} WHERE index_version = %s", (index_version,))
        return cur.rowcount
