"""Debezium 3.2.7 change-event keys and values, as ``JsonConverter`` (schemas off) writes them.

Field order follows the Connect schemas Debezium builds, so a JSON dump of these dicts
reads like Debezium's messages:

* value: ``before, after, source, transaction, op, ts_ms, ts_us, ts_ns``;
* source: ``version, connector, name, ts_ms, snapshot, db, sequence, ts_us, ts_ns,
  schema, table, txId, lsn, xmin``; ``snapshot`` is ``"false"`` while streaming
  (the field's schema default), ``sequence`` the JSON text of
  ``[lastCommitLsn, lsn]`` as strings;
* transaction block: ``id, total_order, data_collection_order`` where ``id`` is
  ``"<xid>:<lsn>"`` with the LSN of the event being sent (PostgresTransactionMonitor);
* transaction metadata (topic ``<prefix>.transaction``): key ``{id}``, value
  ``status, id, event_count, data_collections, ts_ms``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .javafmt import java_hashmap_order

DEBEZIUM_VERSION = "3.2.7.Final"
CONNECTOR = "postgresql"


def sequence_of(last_commit_lsn: int | None, lsn: int | None) -> str:
    """``SourceInfo.sequence()``: Jackson's rendering of ``[lastCommitLsn, lsn]`` as strings."""
    first = "null" if last_commit_lsn is None else f'"{last_commit_lsn}"'
    second = "null" if lsn is None else f'"{lsn}"'
    return f"[{first},{second}]"


@dataclass(frozen=True, slots=True)
class Clock:
    """Processing time for the envelope's ``ts_ms``/``ts_us``/``ts_ns`` (commit time is in ``source``)."""

    def now_ns(self) -> int:
        return time.time_ns()


@dataclass(frozen=True)
class EnvelopeBuilder:
    """Builds Debezium values for one connector (topic prefix) and database.

    Parameters:
        prefix: ``topic.prefix``; also ``source.name``.
        database: ``source.db``.
        clock: where processing timestamps come from (tests pin it).
    """

    prefix: str
    database: str
    clock: Clock = Clock()

    @property
    def transaction_topic(self) -> str:
        return f"{self.prefix}.transaction"

    def source(
        self,
        *,
        schema: str,
        table: str,
        ts_micros: int,
        snapshot: str,
        last_commit_lsn: int | None,
        lsn: int | None,
        tx_id: int | None,
    ) -> dict[str, Any]:
        return {
            "version": DEBEZIUM_VERSION,
            "connector": CONNECTOR,
            "name": self.prefix,
            "ts_ms": ts_micros // 1000,
            "snapshot": snapshot,
            "db": self.database,
            "sequence": sequence_of(last_commit_lsn, lsn),
            "ts_us": ts_micros,
            "ts_ns": ts_micros * 1000,
            "schema": schema,
            "table": table,
            "txId": tx_id,
            "lsn": lsn,
            "xmin": None,
        }

    def streamed_sources(
        self, *, schema: str, table: str, ts_micros: int, last_commit_lsn: int | None, tx_id: int
    ) -> Callable[[int], dict[str, Any]]:
        """``lsn → source`` for the streamed events of one table in one transaction.

        Only ``lsn`` and ``sequence`` differ between those events, so each block is a
        copy of one template (same keys in the same order as :meth:`source`) with the
        two set: the per-event cost of bulk streaming.
        """
        template = self.source(schema=schema, table=table, ts_micros=ts_micros, snapshot="false",
                               last_commit_lsn=last_commit_lsn, lsn=None, tx_id=tx_id)
        head = sequence_of(last_commit_lsn, None)[:-5]  # '[<last commit>,' of '[<last commit>,null]'

        def source(lsn: int) -> dict[str, Any]:
            block = template.copy()
            block["sequence"] = f'{head}"{lsn}"]'
            block["lsn"] = lsn
            return block

        return source

    def event(
        self,
        op: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        source: dict[str, Any],
        transaction: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """Like :meth:`value`, taking ``before`` and ``after`` as they are (not copied):
        for callers that built them for this event alone."""
        now_ns = self.clock.now_ns()
        return {
            "before": before,
            "after": after,
            "source": source,
            "transaction": transaction,
            "op": op,
            "ts_ms": now_ns // 1_000_000,
            "ts_us": now_ns // 1000,
            "ts_ns": now_ns,
        }

    def value(
        self,
        op: str,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
        source: dict[str, Any],
        transaction: dict[str, Any] | None,
    ) -> dict[str, Any]:
        return self.event(op, None if before is None else dict(before), None if after is None else dict(after),
                          source, transaction)

    @staticmethod
    def transaction_block(xid: int, lsn: int, total_order: int, data_collection_order: int) -> dict[str, Any]:
        return {"id": f"{xid}:{lsn}", "total_order": total_order, "data_collection_order": data_collection_order}

    @staticmethod
    def transaction_begin(xid: int, lsn: int, commit_micros: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """Key and value of a BEGIN record."""
        tx_id = f"{xid}:{lsn}"
        value = {"status": "BEGIN", "id": tx_id, "event_count": None, "data_collections": None,
                 "ts_ms": commit_micros // 1000}
        return {"id": tx_id}, value

    @staticmethod
    def transaction_end(
        xid: int, lsn: int, commit_micros: int, counts: Sequence[tuple[str, int]]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Key and value of an END record; ``counts`` per data collection in first-seen order.

        Debezium keeps the counts in a ``HashMap``, so they come out in its iteration order.
        """
        tx_id = f"{xid}:{lsn}"
        ordered = java_hashmap_order(list(counts), [name for name, _ in counts])
        value = {
            "status": "END",
            "id": tx_id,
            "event_count": sum(count for _, count in counts),
            "data_collections": [{"data_collection": name, "event_count": count} for name, count in ordered],
            "ts_ms": commit_micros // 1000,
        }
        return {"id": tx_id}, value
