"""Routing and applying change events to state: ``route`` and ``apply``.

Versions. A row version is ``(0 if initial-snapshot read else 1, source.lsn)``:
initial-snapshot reads are older than any streamed change, and streamed changes of one
row are ordered by their LSN (row locks make that safe). An incremental-snapshot read
(``source.snapshot == "incremental"``, from an ``execute-snapshot`` signal) is the row
as of its place in the stream: the connector emits it right after the window's close
marker. Debezium leaves its ``source.lsn`` null and gives it the marker's
``source.sequence``, whose second element is the marker's LSN, so it ranks as a
streamed change at that LSN. It replaces whatever state holds for the key (repairing a lost or wrong
row), a change streamed after the marker still wins, and changes inside the window
were taken out of the chunk by the connector. A change is stored only if its
version is newer than the stored one; a delete leaves a tombstone with its version so
a late older insert cannot bring the row back. A truncate tombstones every row of its
table with a lower version and sets the table's watermark, below which later-arriving
older rows of that table are ignored.

Emission versions (what ``RootDocuments.version`` carries) are made of marks that
only grow and do not depend on the order events arrive in:

* ``rootv:<root>`` — the highest LSN of any event routed to the root (``route``
  looks at before *and* after, so a row moving away also counts);
* ``dimv:<doc_type>:<tenant>`` — the highest LSN of any dimension change of the
  tenant that can affect documents of that type;
* ``truncated`` — the highest LSN of any truncate.

A root's emission version is the maximum of the three. Tying dimension changes to the
tenant (rather than only to roots the change reached at the time) is what keeps the
version independent of arrival order: whether a category rename reached a product
depends on whether its category link had arrived yet, but the tenant's mark does not.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from contracts.envelope import ChangeEvent, InvalidChangeEvent
from contracts.rows import ROW_CONTRACTS, parse_event_rows
from contracts.signals import INCREMENTAL
from pipelines.core.tables import (
    CHILD_KINDS,
    DIMENSIONS,
    IGNORED,
    PRODUCT_ROOT_COLUMNS,
    ROOT_TABLES,
    categories_group,
    groups_of,
    ref_group,
    root_address,
    root_key,
    root_of,
    root_row_groups,
    row_key,
    tenant_roots_group,
)
from pipelines.errors import InvalidEvent
from pipelines.model import DocType, RootKey
from pipelines.state.port import StateStore, StoredRow, Version

log = logging.getLogger(__name__)

TRUNCATED_MARK = "truncated"
_STALE_UPDATE_FIELDS = {"tenants": ("default_locale",), "users": ("display_name",)}


def root_mark(root: RootKey) -> str:
    return f"rootv:{root.doc_type}:{root.tenant_id}:{root.id}"


def _address_mark(address: tuple[str, str, str]) -> str:
    return "rootv:" + ":".join(address)


def dimension_mark(doc_type: str, tenant_id: str) -> str:
    return f"dimv:{doc_type}:{tenant_id}"


def truncate_mark(table: str) -> str:
    return f"truncate:{table}"


def is_ignored(event: ChangeEvent) -> bool:
    """Events the core never looks at: tables that feed no document, logical messages."""
    return event.op == "m" or event.table in IGNORED


def event_version(event: ChangeEvent) -> Version:
    lsn = event.source.lsn
    if lsn is None and is_incremental_read(event):
        lsn = _sequence_lsn(event.source.sequence)
    if lsn is None:
        raise InvalidEvent(event, "no source.lsn: the event cannot be ordered")
    return (0 if event.source.is_snapshot and not is_incremental_read(event) else 1, lsn)


def is_incremental_read(event: ChangeEvent) -> bool:
    """A row read by an incremental snapshot (re-snapshot while streaming)."""
    return event.source.snapshot == INCREMENTAL


def _sequence_lsn(sequence: str | None) -> int | None:
    """The LSN in ``source.sequence`` (``["<last commit>", "<lsn>"]``), or None."""
    try:
        value = json.loads(sequence or "")[1]
        return None if value is None else int(value)
    except (ValueError, TypeError, IndexError, KeyError):
        return None


def route(event: ChangeEvent) -> set[RootKey]:
    """The roots whose own rows the change touches (before and after). Dimension and
    ignored tables route nowhere; their fan-out needs state (see :func:`apply`)."""
    try:
        return {root_key(address) for address in _route_addresses(event)}
    except ValueError as exc:
        raise InvalidEvent(event, f"cannot route row: {exc!r}") from exc


def _route_addresses(event: ChangeEvent, table: str | None = None) -> set[tuple[DocType, str, str]]:
    table = event.table if table is None else table
    if table not in ROOT_TABLES:
        return set()
    try:
        return {address for row in (event.before, event.after) if row is not None
                if (address := root_address(table, row)) is not None}
    except (KeyError, TypeError, AttributeError) as exc:
        raise InvalidEvent(event, f"cannot route row: {exc!r}") from exc


def apply(store: StateStore, event: ChangeEvent) -> set[RootKey]:
    """Apply one change to ``store``; return every root whose documents must be rebuilt.

    Roots are returned even when the store already had this version (a replay must
    re-emit: sinks may be behind state). Raises InvalidEvent for a bad event, before
    writing anything.
    """
    table = event.table  # a property of a property: read once, it is used all over
    if event.op == "m" or table in IGNORED:
        return set()
    version = event_version(event)
    if event.op == "t":
        return _truncate(store, table, version)
    try:
        parse_event_rows(event)
    except InvalidChangeEvent as exc:
        raise InvalidEvent(event, str(exc)) from exc
    routed = _route_addresses(event, table)
    roots = {root_key(address) for address in routed}
    row = event.after if event.op != "d" else event.before
    assert row is not None  # parse_change_event guarantees the row for c/r/u/d
    key = row_key(table, row["id"])
    stored = store.get(key)
    if _is_newer(store, table, version, stored):
        if stored is not None and stored.row is not None and table in ROOT_TABLES:
            old_root = root_of(table, stored.row)
            if old_root is not None:
                roots.add(old_root)
        new_row = event.after if event.op != "d" else None
        groups = groups_of(table, new_row) if new_row is not None else ()
        store.put(key, StoredRow(version, new_row, groups))
    _raise_marks(store, table, routed, (event.before, event.after), version[1])
    if table in DIMENSIONS and not _irrelevant_update(event):
        roots |= fan_out(store, table, [r for r in (event.before, event.after) if r is not None])
    return _only_roots(store, roots)


def read_run_key(event: ChangeEvent) -> tuple[str, int] | None:
    """(table, LSN) when ``event`` may go through :func:`apply_reads`: an initial-snapshot read
    of a product table (a run of them shares both); None for anything else."""
    source = event.source
    if event.op != "r" or event.before is not None or source.table not in PRODUCT_ROOT_COLUMNS or source.lsn is None:
        return None
    if not source.is_snapshot or source.snapshot == INCREMENTAL:
        return None
    return source.table, source.lsn


def apply_reads(
    store: StateStore, events: Sequence[ChangeEvent], fallback: Callable[[ChangeEvent], set[RootKey]],
) -> dict[RootKey, list[ChangeEvent]]:
    """Apply a run of initial-snapshot reads of one product table at one LSN (equal
    :func:`read_run_key`), with what :func:`apply` would do to each, and return every root
    they reach with its events, in the order the roots were first reached.

    A snapshot is mostly such runs, so the steps :func:`apply` takes per event are taken once
    per run where the run shares them: the version, the table's truncate watermark, and the
    root marks (all raised to the same LSN). A row of a product table is no dimension and
    reaches its own product only. An event whose row does not validate, or lacks a column
    its keys need, goes to ``fallback`` (``apply`` through the caller's error handling) in
    its place in the run, and what it returns is added.
    """
    table, lsn = events[0].table, events[0].source.lsn
    assert lsn is not None  # read_run_key
    contract, column = ROW_CONTRACTS[table], PRODUCT_ROOT_COLUMNS[table]
    version: Version = (0, lsn)
    watermark = store.mark(truncate_mark(table))
    storable = watermark is None or version > (1, watermark)
    # By address: strings hash cheaply, where a RootKey hashes two UUIDs in Python.
    reached: dict[tuple[DocType, str, str], list[ChangeEvent]] = {}
    marked: set[tuple[DocType, str, str]] = set()
    get, put = store.get, store.put
    for event in events:
        row = event.after
        try:
            contract.model_validate(row)
            address: tuple[DocType, str, str] = ("product", row["tenant_id"], row[column])  # type: ignore[index]
            key = row_key(table, row["id"])  # type: ignore[index]
        except Exception:  # noqa: BLE001 — apply says what is wrong with it, as for any event
            for root in fallback(event):
                reached.setdefault((root.doc_type, str(root.tenant_id), str(root.id)), []).append(event)
            continue
        stored = get(key)
        if storable and (stored is None or version > stored.version):
            if stored is not None and stored.row is not None and (old := root_address(table, stored.row)) is not None:
                reached.setdefault(old, []).append(event)
            put(key, StoredRow(version, row, root_row_groups(table, row, address)))  # type: ignore[arg-type]
        touches = reached.get(address)
        if touches is None:
            reached[address] = [event]
        elif touches[-1] is not event:
            touches.append(event)
        if address not in marked:
            marked.add(address)
            _raise_mark(store, _address_mark(address), lsn)
    roots: dict[RootKey, list[ChangeEvent]] = {}
    for address, touches in reached.items():
        root = root_key(address)
        if root in roots:  # an address spelled two ways (a UUID not in canonical form)
            roots[root].extend(touches)
        else:
            roots[root] = touches
    return roots


def _is_newer(store: StateStore, table: str, version: Version, stored: StoredRow | None) -> bool:
    if stored is not None and version <= stored.version:
        return False
    watermark = store.mark(truncate_mark(table))
    return watermark is None or version > (1, watermark)


def _raise_mark(store: StateStore, name: str, lsn: int) -> None:
    current = store.mark(name)
    if current is None or lsn > current:
        store.set_mark(name, lsn)


def _raise_marks(
    store: StateStore, table: str, routed: Iterable[tuple[str, str, str]], rows: Iterable[dict[str, Any] | None],
    lsn: int,
) -> None:
    for address in routed:
        _raise_mark(store, _address_mark(address), lsn)
    doc_types = DIMENSIONS.get(table)
    if doc_types:
        for row in rows:
            if row is not None:
                tenant = row["id"] if table == "tenants" else row["tenant_id"]
                for doc_type in doc_types:
                    _raise_mark(store, dimension_mark(doc_type, tenant), lsn)


def _irrelevant_update(event: ChangeEvent) -> bool:
    """An update of a tenant or user that changes nothing documents show."""
    fields = _STALE_UPDATE_FIELDS.get(event.table)
    if fields is None or event.op != "u" or event.before is None or event.after is None:
        return False
    return all(event.before.get(f) == event.after.get(f) for f in fields)


def fan_out(store: StateStore, table: str, rows: list[dict[str, Any]]) -> set[RootKey]:
    """Roots whose documents use any of these dimension rows (as they are in state now)."""
    groups: set[str] = set()
    for row in rows:
        groups.update(_dependent_groups(store, table, row))
    roots: set[RootKey] = set()
    for group in groups:
        for key, member in store.members(group):
            if member.row is not None and (root := root_of(key.partition(":")[0], member.row)) is not None:
                roots.add(root)
    return roots


def _dependent_groups(store: StateStore, table: str, row: dict[str, Any]) -> Iterable[str]:
    if table == "tenants":
        return (tenant_roots_group(row["id"]),)
    if table == "tenant_locales":
        return (tenant_roots_group(row["tenant_id"]),)
    if table in ("commerce_categories", "commerce_category_translations"):
        category = row["id"] if table == "commerce_categories" else row["category_id"]
        return [ref_group("commerce_categories", c) for c in descendants(store, row["tenant_id"], category)]
    if table == "content_category_translations":
        return (ref_group("content_categories", row["category_id"]),)
    return (ref_group(table, row["id"]),)


def descendants(store: StateStore, tenant_id: str, category_id: str) -> set[str]:
    """The category and every category below it in the tenant's tree (cycle-safe)."""
    children: dict[str, list[str]] = {}
    for _, member in store.members(categories_group(tenant_id)):
        row = member.row
        if row is not None and row.get("parent_id") is not None:
            children.setdefault(row["parent_id"], []).append(row["id"])
    found = {category_id}
    todo = [category_id]
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _only_roots(store: StateStore, roots: set[RootKey]) -> set[RootKey]:
    """Drop content keys that name a comment or reply (their rows route to their own id)."""
    result = set()
    for root in roots:
        if root.doc_type == "content":
            node = store.get(row_key("nodes", str(root.id)))
            if node is not None and node.row is not None and node.row["kind"] in CHILD_KINDS:
                continue
        result.add(root)
    return result


def _truncate(store: StateStore, table: str, version: Version) -> set[RootKey]:
    """Tombstone every row of ``table`` older than the truncate; rebuild the roots that had rows."""
    _raise_mark(store, truncate_mark(table), version[1])
    _raise_mark(store, TRUNCATED_MARK, version[1])
    doomed = [(key, stored) for key, stored in store.scan(table) if stored.version < version]
    live = [stored.row for _, stored in doomed if stored.row is not None]
    roots: set[RootKey] = set()
    if table in DIMENSIONS:
        roots |= fan_out(store, table, live)
    for row in live:
        root = root_of(table, row)
        if root is not None:
            roots.add(root)
    for key, _ in doomed:
        store.put(key, StoredRow(version, None))
    log.info("truncate applied", extra={"table": table, "lsn": version[1], "rows": len(doomed)})
    return _only_roots(store, roots)


def root_version(store: StateStore, root: RootKey) -> int:
    """The emission version of ``root`` now (see module doc); never decreases."""
    marks = (
        store.mark(root_mark(root)),
        store.mark(dimension_mark(root.doc_type, str(root.tenant_id))),
        store.mark(TRUNCATED_MARK),
    )
    return max((m for m in marks if m is not None), default=0)
