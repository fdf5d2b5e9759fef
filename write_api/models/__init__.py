"""The write model: SQLAlchemy 2 models of every module's tables, on one metadata."""

from __future__ import annotations

from write_api.models import auth, commerce, content, flex, outbox, tenancy
from write_api.models.base import Base

metadata = Base.metadata

__all__ = ["Base", "metadata", "auth", "commerce", "content", "flex", "outbox", "tenancy"]
