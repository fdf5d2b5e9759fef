"""Reconciliation: the write model against the live read model, and repairing the drift.

``read_expected`` derives, with SQL on the write model, every document that should exist
(each root × each enabled locale of its tenant) and the fields that can be derived
exactly: for products handle, status, title and resolved locale (with the projector's
fallback: locale → language → tenant default → first translation → handle), vendor,
product type, the per-currency price ranges (default price list, quantity 1), total
stock, in stock, SKUs and tag slugs; for content kind, status, slug, title, resolved
locale, tag slugs and author name. Category paths, variant details, option values, body
text, reply counts, Flex data and timestamps are not compared (deriving them in SQL would
re-implement the projector, not check it).
``read_actual`` reads the same fields from the live documents (``reconcile_tantivy`` from
the live Tantivy index); ``compare`` (pure) lists
missing, extra and differing entities with per-entity checksums and counts per tenant,
locale and document type; ``repair`` re-emits drifted roots through the pipeline with an
incremental snapshot signal and removes rows whose entity no longer exists.

Errors (root :class:`ReconcileError`)::

    ReconcileError
    └── RepairBlocked   the live Tantivy index is held by a writer that did not let go in time
"""

from __future__ import annotations

from rustok.reconcile.compare import Drift, DocKey, Fields, checksum, compare, union
from rustok.reconcile.errors import ReconcileError, RepairBlocked
from rustok.reconcile.repair import RepairResult, repair
from rustok.reconcile.sources import read_actual, read_expected, reconcile
from rustok.reconcile.tantivy_side import document_fields, reconcile_tantivy

__all__ = [
    "DocKey", "Drift", "Fields", "ReconcileError", "RepairBlocked", "RepairResult", "checksum", "compare",
    "document_fields", "read_actual", "read_expected", "reconcile", "reconcile_tantivy", "repair", "union",
]
