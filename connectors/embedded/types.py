"""PostgreSQL types as the connector needs them: ``pg_type`` rows and domain resolution."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from .errors import CatalogError


@dataclass(frozen=True, slots=True)
class PgType:
    """One row of ``pg_type`` (with its enum labels, if an enum).

    Parameters:
        typtype: ``b`` base, ``c`` composite, ``d`` domain, ``e`` enum, ``p`` pseudo,
            ``r`` range, ``m`` multirange.
        category: ``typcategory`` (``A`` for arrays).
        element_oid: ``typelem`` of an array type, else 0.
        base_oid / base_typmod: ``typbasetype`` / ``typtypmod`` of a domain, else 0 / -1.
    """

    oid: int
    name: str
    namespace: str = "pg_catalog"
    typtype: str = "b"
    category: str = "U"
    element_oid: int = 0
    base_oid: int = 0
    base_typmod: int = -1
    delimiter: str = ","
    enum_labels: tuple[str, ...] = field(default=())

    @property
    def is_array(self) -> bool:
        return self.category == "A" and self.element_oid != 0

    @property
    def is_enum(self) -> bool:
        return self.typtype == "e"

    @property
    def is_domain(self) -> bool:
        return self.typtype == "d"


class TypeRegistry:
    """The types of one database, by OID."""

    def __init__(self, types: Iterable[PgType] = ()) -> None:
        self._types: dict[int, PgType] = {}
        self.add(types)

    def add(self, types: Iterable[PgType]) -> None:
        for pg_type in types:
            self._types[pg_type.oid] = pg_type

    def __iter__(self) -> Iterator[PgType]:
        return iter(self._types.values())

    def __contains__(self, oid: object) -> bool:
        return oid in self._types

    def get(self, oid: int) -> PgType:
        try:
            return self._types[oid]
        except KeyError:
            raise CatalogError(f"unknown type OID {oid}") from None

    def resolve(self, oid: int, typmod: int) -> tuple[PgType, int]:
        """Follow domains down to their base type; the domain's typmod applies if the column has none."""
        pg_type = self.get(oid)
        seen = set()
        while pg_type.is_domain:
            if pg_type.oid in seen:
                raise CatalogError(f"domain cycle at type {pg_type.name}")
            seen.add(pg_type.oid)
            if typmod < 0:
                typmod = pg_type.base_typmod
            pg_type = self.get(pg_type.base_oid)
        return pg_type, typmod


def time_precision(typmod: int) -> int:
    """Fractional-second digits of time, timetz, timestamp and timestamptz (6 when unspecified)."""
    return typmod if typmod >= 0 else 6
