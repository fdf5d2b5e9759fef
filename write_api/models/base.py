"""Declarative base and the column and constraint helpers every write table uses.

Conventions enforced here rather than remembered in each table:
- ids are UUIDs made from ULIDs;
- every tenant row has ``tenant_id`` referencing ``tenants`` (ON DELETE CASCADE) and a
  unique (tenant_id, id), so children reference parents through (tenant_id, id) and a
  row can never point at another tenant's row;
- constraint names follow one convention, so migrations can drop them by name.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from contracts.ids import new_id
from contracts.locale import LOCALE_PATTERN
from contracts.money import CURRENCY_PATTERN
from contracts.tenancy import SLUG_MAX, SLUG_PATTERN

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSONB, UUID: sa.Uuid, datetime: sa.DateTime(timezone=True)}


def now() -> sa.sql.elements.TextClause:
    return sa.text("now()")


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(server_default=now(), sort_order=100)
    updated_at: Mapped[datetime] = mapped_column(server_default=now(), sort_order=101)


class TenantRow:
    """A row owned by one tenant, unique as (tenant_id, id)."""

    id: Mapped[UUID] = mapped_column(primary_key=True, default=new_id, sort_order=-20)

    @declared_attr
    @classmethod
    def tenant_id(cls) -> Mapped[UUID]:
        return mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"), sort_order=-19)


def tenant_unique(table: str) -> sa.UniqueConstraint:
    # Target of the composite foreign keys that keep references inside one tenant.
    return sa.UniqueConstraint("tenant_id", "id", name=f"uq_{table}_tenant_id_id")


def tenant_fk(columns: list[str], target: str, target_columns: list[str], *, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    """A foreign key that includes tenant_id, so it cannot cross tenants.

    ``ondelete="SET NULL"`` nulls only the referencing columns, never tenant_id.
    """
    if ondelete == "SET NULL":
        ondelete = f"SET NULL ({', '.join(c for c in columns if c != 'tenant_id')})"
    return sa.ForeignKeyConstraint(
        ["tenant_id", *columns],
        [f"{target}.tenant_id", *(f"{target}.{c}" for c in target_columns)],
        ondelete=ondelete,
    )


def one_of(column: str, values: tuple[str, ...], name: str | None = None) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=name or f"{column}_valid")


def slug_check(column: str = "slug") -> sa.CheckConstraint:
    return sa.CheckConstraint(
        f"{column} ~ '{SLUG_PATTERN}' AND length({column}) <= {SLUG_MAX}", name=f"{column}_format"
    )


def locale_check(column: str = "locale") -> sa.CheckConstraint:
    return sa.CheckConstraint(f"{column} ~ '{LOCALE_PATTERN}'", name=f"{column}_format")


def currency_check(column: str = "currency_code") -> sa.CheckConstraint:
    return sa.CheckConstraint(f"{column} ~ '{CURRENCY_PATTERN}'", name=f"{column}_format")


def non_negative(*columns: str) -> list[sa.CheckConstraint]:
    return [sa.CheckConstraint(f"{c} >= 0", name=f"{c}_non_negative") for c in columns]


def json_object(column: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(f"jsonb_typeof({column}) = 'object'", name=f"{column}_is_object")


def not_blank(column: str, max_length: int) -> sa.CheckConstraint:
    return sa.CheckConstraint(
        f"length(btrim({column})) > 0 AND length({column}) <= {max_length}", name=f"{column}_length"
    )


def jsonb_default() -> sa.TextClause:
    return sa.text("'{}'::jsonb")
