"""The whole embedded platform over real HTTP: PostgreSQL, CDC, pipeline, both APIs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
import sqlalchemy as sa

from rustok import demo
from rustok.demo_access import DemoAccess, ensure_demo_access
from rustok.up import LocalPlatform, PlatformOptions


@dataclass
class Running:
    platform: LocalPlatform
    access: DemoAccess
    write: httpx.Client
    search: httpx.Client


@pytest.fixture
def running(database_url: str, engine: sa.Engine, tmp_path: Path) -> Iterator[Running]:
    demo.seed_demo(engine)
    access = ensure_demo_access(database_url, tmp_path)
    platform = LocalPlatform(PlatformOptions(database_url=database_url, state_dir=tmp_path, write_port=0,
                                             search_port=0))
    platform.start()
    try:
        login = httpx.post(f"{platform.write_url}/v1/auth/login", json={
            "tenant": access.tenant_slug, "email": access.admin_email, "password": access.password})
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        with httpx.Client(base_url=platform.write_url, headers={"Authorization": f"Bearer {token}"}) as write, \
                httpx.Client(base_url=platform.search_url,
                             headers={"Authorization": f"Bearer {access.search_public_key}"}) as search:
            yield Running(platform, access, write, search)
    finally:
        platform.stop()
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE NOT active")
