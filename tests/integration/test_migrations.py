"""Migrations apply on an empty database, match the models, and downgrade cleanly."""

from __future__ import annotations

import psycopg
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from migrations import runner
from write_api.models import metadata

# Tables the read side owns; the write models do not describe them.
READ_SIDE_TABLES = {"index_products", "index_content", "read_model_aliases", "pipeline_checkpoints", "dead_letters",
                    "rustok_pipeline_targets", "rustok_index_builds", "consumer_offsets"}
# The connectors' tables (Debezium's signal table, incremental snapshot progress).
CONNECTOR_TABLES = {"rustok_signals", "rustok_snapshot_progress"}


def _tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return {r[0] for r in rows} - {"alembic_version"}


def test_upgrade_from_empty_creates_every_write_and_read_table(empty_database_url: str) -> None:
    runner.upgrade(empty_database_url)
    assert runner.current_revision(empty_database_url) == runner.head_revision()
    assert _tables(empty_database_url) == set(metadata.tables) | READ_SIDE_TABLES | CONNECTOR_TABLES


def test_models_and_migrations_do_not_drift(database_url: str) -> None:
    engine = sa.create_engine(runner.sqlalchemy_url(database_url))
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": _write_tables_only})
        diff = compare_metadata(context, metadata)
    engine.dispose()
    assert diff == []


def _write_tables_only(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    return not (type_ == "table" and reflected and compare_to is None)


def test_every_revision_downgrades_and_upgrades_again(empty_database_url: str) -> None:
    script = ScriptDirectory.from_config(runner.alembic_config(empty_database_url))
    revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
    runner.upgrade(empty_database_url)
    for revision in reversed(revisions):
        runner.downgrade(empty_database_url, f"{revision}-1" if revision != revisions[0] else "base")
        runner.upgrade(empty_database_url, revision)
        runner.downgrade(empty_database_url, f"{revision}-1" if revision != revisions[0] else "base")
    assert runner.current_revision(empty_database_url) is None
    assert _tables(empty_database_url) == set()
    with psycopg.connect(empty_database_url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_publication").fetchone() == (0,)
    runner.upgrade(empty_database_url)
    assert runner.current_revision(empty_database_url) == runner.head_revision()


def test_admins_of_tenants_created_before_user_updates_existed_are_granted_them(empty_database_url: str) -> None:
    runner.upgrade(empty_database_url, "0010")
    with psycopg.connect(empty_database_url) as conn:
        tenant = _returned_id(conn.execute("INSERT INTO tenants (id, slug, name, default_locale) "
                                           "VALUES (gen_random_uuid(), 'old', 'Old', 'en') RETURNING id"))
        roles = {slug: _returned_id(conn.execute("INSERT INTO roles (id, tenant_id, slug, name, is_system) "
                                                 "VALUES (gen_random_uuid(), %s, %s, %s, %s) RETURNING id",
                                                 (tenant, slug, slug.title(), system)))
                 for slug, system in (("admin", True), ("editor", True), ("support", False))}
        conn.execute("INSERT INTO role_permissions (id, tenant_id, role_id, permission) "
                     "VALUES (gen_random_uuid(), %s, %s, 'auth.user.read')", (tenant, roles["admin"]))
    runner.upgrade(empty_database_url)
    with psycopg.connect(empty_database_url) as conn:
        granted = conn.execute("SELECT r.slug, p.permission FROM role_permissions p JOIN roles r ON r.id = p.role_id "
                               "ORDER BY 1, 2").fetchall()
    assert granted == [("admin", "auth.user.read"), ("admin", "auth.user.update")]


def _returned_id(cursor: psycopg.Cursor[tuple[object, ...]]) -> object:
    row = cursor.fetchone()
    assert row is not None
    return row[0]
