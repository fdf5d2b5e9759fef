"""The SQLAlchemy engine (sync psycopg 3 driver)."""

from __future__ import annotations

import sqlalchemy as sa

from write_api.settings import WriteApiSettings


def psycopg_url(url: str) -> str:
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def create_engine(settings: WriteApiSettings) -> sa.Engine:
    return sa.create_engine(
        psycopg_url(settings.database_url.get_secret_value()),
        pool_size=settings.pool_size,
        max_overflow=settings.pool_size,
        pool_pre_ping=False,
    )
