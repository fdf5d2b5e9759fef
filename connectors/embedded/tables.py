"""Captured tables: their columns in Debezium's order, their key, and row building."""

from __future__ import annotations

import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .pgoutput import UNCHANGED_TOAST, ColumnValue, Relation
from .types import TypeRegistry
from .values import ColumnConverter, converter_for

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Column:
    """A table column; ``converter`` None means Debezium leaves the column out."""

    name: str
    type_oid: int
    typmod: int
    converter: ColumnConverter | None


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """A column as the catalog describes it, before its converter is chosen."""

    name: str
    type_oid: int
    typmod: int


@dataclass(frozen=True)
class TableSchema:
    """A captured table.

    Parameters:
        columns: every column in ``attnum`` order (Debezium orders fields the same way).
        key_columns: the primary key in index order; empty when the table has none
            (Debezium's key is then null).
    """

    schema: str
    name: str
    columns: tuple[Column, ...]
    key_columns: tuple[str, ...]

    @classmethod
    def build(
        cls, schema: str, name: str, columns: Sequence[ColumnSpec], key_columns: Sequence[str], registry: TypeRegistry
    ) -> TableSchema:
        built = tuple(
            Column(spec.name, spec.type_oid, spec.typmod, converter_for(registry.get(spec.type_oid), spec.typmod, registry))
            for spec in columns
        )
        return cls(schema=schema, name=name, columns=built, key_columns=tuple(key_columns))

    @property
    def data_collection(self) -> str:
        """``schema.table``: the name Debezium uses in transaction metadata."""
        return f"{self.schema}.{self.name}"

    def topic(self, prefix: str) -> str:
        return f"{prefix}.{self.schema}.{self.name}"

    def row_from_catalog_order(self, values: Sequence[str | None]) -> Row:
        """A snapshot row (one text value per column, in column order) as Debezium's ``after``."""
        row: Row = {}
        for column, value in zip(self.columns, values, strict=True):
            converter = column.converter
            if converter is not None:
                row[column.name] = None if value is None else converter.convert(value)
        return row

    def key_of(self, row: Row | None) -> Row | None:
        if row is None or not self.key_columns:
            return None
        return {name: row.get(name) for name in self.key_columns}


class RelationMapping:
    """Maps the columns of a pgoutput Relation message onto a table's columns.

    pgoutput leaves generated columns out; Debezium's event still has them (as null
    while streaming), so every table column gets a slot.
    """

    def __init__(self, relation: Relation, table: TableSchema) -> None:
        self.relation = relation
        self.table = table
        positions = {column.name: index for index, column in enumerate(relation.columns)}
        self._converters = {column.name: column.converter for column in table.columns if column.converter is not None}
        self._plan: list[tuple[str, ColumnConverter, int | None]] = [
            (column.name, column.converter, positions.get(column.name))
            for column in table.columns
            if column.converter is not None
        ]
        # Every converted column present in the message (no generated column left out):
        # rows are built by the loop of ``row`` without a missing-column check.
        self._direct: list[tuple[str, Callable[[str], Any], int]] | None = None
        if all(index is not None for _, _, index in self._plan):
            self._direct = [(name, converter.convert, typing.cast(int, index)) for name, converter, index in self._plan]

    def row(self, values: Sequence[ColumnValue], fallback: Row | None = None) -> Row:
        """Debezium's ``before``/``after`` from tuple data.

        An unchanged TOASTed value takes the value from ``fallback`` (the old row, which
        REPLICA IDENTITY FULL provides), else Debezium's unavailable-value placeholder.
        """
        direct = self._direct
        if direct is None:
            return self._row(values, fallback)
        row: Row = {}
        for name, convert, index in direct:
            value = values[index]
            if value.__class__ is str:
                row[name] = convert(value)
            elif value is None:
                row[name] = None
            else:
                row[name] = self._special(name, value, fallback)
        return row

    def _row(self, values: Sequence[ColumnValue], fallback: Row | None) -> Row:
        row: Row = {}
        for name, converter, index in self._plan:
            value = None if index is None else values[index]
            row[name] = None if value is None else self._special(name, value, fallback)
        return row

    def _special(self, name: str, value: ColumnValue, fallback: Row | None) -> Any:
        converter = self._converters[name]
        if value is UNCHANGED_TOAST:
            if fallback is not None and fallback.get(name) is not None:
                return fallback[name]
            return converter.placeholder
        if isinstance(value, bytes):
            return converter.convert(value.decode("utf-8"))
        assert isinstance(value, str)
        return converter.convert(value)
