"""Expectations shared by the product and content read-row suites.

The rows validated are the live version's rows of one read table, flattened: key
columns next to the same facts as the document states them (``doc_*``). Cross-row rules
("one row per enabled locale", "no row for a deleted entity") are UnexpectedRows
expectations joining ``{batch}`` to the write model.

Which entities have rows is the projector's rule (pipelines/core): every existing root
whatever its status, one row per enabled locale of its tenant (the tenant default when
none is enabled), the status carried in the document. So "no row for an unpublished
entity" is held as "no row claims a status its entity does not have": a storefront
filtering on ``published`` then never shows an unpublished entity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


from great_expectations.expectations.core.unexpected_rows_expectation import UnexpectedRowsExpectation

from contracts.expectations.base import Expectation, Scope, gxe, live_version
from contracts.locale import LOCALE_PATTERN

STATUSES = ["draft", "published", "archived"]

ENABLED_LOCALES = """(
    SELECT tl.tenant_id, tl.locale, tl.created_at FROM tenant_locales tl WHERE tl.enabled
    UNION ALL
    SELECT t.id, t.default_locale, t.updated_at FROM tenants t
    WHERE NOT EXISTS (SELECT 1 FROM tenant_locales x WHERE x.tenant_id = t.id AND x.enabled)
)"""
"""Each tenant's document locales as the projector derives them, with when each became one."""


@dataclass(frozen=True)
class ReadTable:
    """One read table and the write table its roots come from.

    Parameters:
        doc_type: ``product`` or ``content``.
        table: the read table.
        id_column: the entity id column of the read table.
        source: the write model's root table.
        roots: SQL condition on ``s`` (the source table) selecting the rows that are roots.
        name_field: the document field storefronts address an entity by (handle or slug).
    """

    doc_type: str
    table: str
    id_column: str
    source: str
    roots: str
    name_field: str

    def batch_query(self, scope: Scope, extra_columns: str = "") -> str:
        return f"""
SELECT r.tenant_id, r.locale, r.{self.id_column} AS entity_id, r.{self.name_field} AS name, r.status,
       r.document->>'tenant_id' AS doc_tenant_id, r.document->>'id' AS doc_id,
       r.document->>'locale' AS doc_locale, r.document->>'resolved_locale' AS doc_resolved_locale,
       r.document->>'{self.name_field}' AS doc_name, r.document->>'status' AS doc_status,
       r.source_lsn, r.source_committed_at, r.indexed_at{extra_columns}
FROM {self.table} r
WHERE r.index_version = {live_version(self.doc_type)} AND {scope.tenant_filter('r.tenant_id')}"""


def read_row_expectations(read: ReadTable, scope: Scope) -> list[Expectation]:
    """The expectations every read table meets, in report order."""
    return [
        gxe.ExpectColumnValuesToMatchRegex(
            column="doc_locale", regex=LOCALE_PATTERN,
            description="the document's locale is a BCP 47 tag (language[-Script][-REGION])"),
        gxe.ExpectColumnValuesToMatchRegex(
            column="doc_resolved_locale", regex=LOCALE_PATTERN,
            description="the document's resolved locale is a BCP 47 tag"),
        gxe.ExpectColumnValuesToBeInSet(
            column="doc_status", value_set=STATUSES,
            description="the document's status is draft, published or archived"),
        gxe.ExpectCompoundColumnsToBeUnique(
            column_list=["tenant_id", "locale", "doc_name"], ignore_row_if="any_value_is_missing",
            description=f"{read.name_field}s are unique per tenant and locale"),
        _document_matches_key(read),
        _locale_enabled(),
        _one_row_per_enabled_locale(read, scope),
        _no_row_without_its_entity(read, scope),
        _fresh(scope),
    ]


def _document_matches_key(read: ReadTable) -> Expectation:
    return UnexpectedRowsExpectation(
        description=f"the document states the row's own tenant, id, locale, {read.name_field} and status",
        unexpected_rows_query=f"""
SELECT * FROM (SELECT * FROM {{batch}}) b
WHERE b.doc_tenant_id IS DISTINCT FROM b.tenant_id::text OR b.doc_id IS DISTINCT FROM b.entity_id::text
   OR b.doc_locale IS DISTINCT FROM b.locale OR b.doc_name IS DISTINCT FROM b.name
   OR b.doc_status IS DISTINCT FROM b.status""",
    )


def _locale_enabled() -> Expectation:
    return UnexpectedRowsExpectation(
        description="every row is in a locale its tenant has enabled",
        unexpected_rows_query=f"""
SELECT * FROM (SELECT * FROM {{batch}}) b
WHERE NOT EXISTS (SELECT 1 FROM {ENABLED_LOCALES} e WHERE e.tenant_id = b.tenant_id AND e.locale = b.locale)""",
    )


def _one_row_per_enabled_locale(read: ReadTable, scope: Scope) -> Expectation:
    # The primary key allows at most one row per (tenant, locale, entity); this finds the
    # missing ones. Entities or locales changed within the freshness bound may still be on their way.
    return UnexpectedRowsExpectation(
        description=f"every published {read.doc_type} has one row per enabled locale of its tenant",
        unexpected_rows_query=f"""
SELECT s.tenant_id, s.id AS entity_id, e.locale FROM {read.source} s
JOIN {ENABLED_LOCALES} e ON e.tenant_id = s.tenant_id
WHERE s.status = 'published' AND {read.roots} AND {scope.tenant_filter('s.tenant_id')}
  AND s.updated_at < now() - {scope.interval} AND e.created_at < now() - {scope.interval}
  AND NOT EXISTS (SELECT 1 FROM (SELECT * FROM {{batch}}) b
                  WHERE b.tenant_id = s.tenant_id AND b.entity_id = s.id AND b.locale = e.locale)""",
    )


def _no_row_without_its_entity(read: ReadTable, scope: Scope) -> Expectation:
    return UnexpectedRowsExpectation(
        description=(f"no row for a deleted {read.doc_type} (or one of another tenant), "
                     "and none claiming a status its entity does not have"),
        unexpected_rows_query=f"""
SELECT b.* FROM (SELECT * FROM {{batch}}) b
LEFT JOIN {read.source} s ON s.id = b.entity_id AND s.tenant_id = b.tenant_id AND {read.roots}
WHERE s.id IS NULL
   OR (s.status IS DISTINCT FROM b.doc_status AND s.updated_at < now() - {scope.interval})""",
    )


def _fresh(scope: Scope) -> Expectation:
    # Rows built from a snapshot read carry no commit time (nothing to measure against).
    return UnexpectedRowsExpectation(
        description=f"every row was indexed within {scope.freshness.total_seconds():g} s of its source commit",
        unexpected_rows_query=f"""
SELECT * FROM (SELECT * FROM {{batch}}) b
WHERE b.source_committed_at IS NOT NULL AND b.indexed_at > b.source_committed_at + {scope.interval}""",
    )
