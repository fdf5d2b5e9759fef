"""Alembic environment: fed from the write model's metadata; the URL comes from the caller."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine, pool

from write_api.models import metadata

config = context.config


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "", poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        include_object=_include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def _include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    # Read tables and the alias table are defined in SQL in their migration, not in
    # the write model's metadata; autogenerate must not propose to drop them.
    if type_ == "table" and reflected and compare_to is None:
        return False
    # Set when autogenerating one module's revision at a time.
    only = config.attributes.get("include_tables")
    if only is not None and type_ == "table":
        return name in only
    return True


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
