"""Settings of the composition root (the `rustok` command and the embedded runtime).

Loaded once from the environment (prefix ``RUSTOK_``) and passed down; nothing else
reads ``os.environ``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from pipelines.state.sqlite import DEFAULT_MEMORY_ROWS


class RustokSettings(BaseSettings):
    """Where state lives and which PostgreSQL to use.

    ``database_url`` unset means: run the embedded PostgreSQL from the pgserver wheel
    under ``state_dir/postgres``.
    """

    model_config = SettingsConfigDict(env_prefix="RUSTOK_", frozen=True, extra="ignore")

    state_dir: Path = Field(default=Path(".rustok"))
    database_url: SecretStr | None = None
    database_name: str = "rustok"
    postgres_port: int = Field(default=54329, ge=1024, le=65535)
    topic_prefix: str = Field(default="rustok", pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    log_level: str = Field(default="INFO", pattern=r"^(?i:debug|info|warning|error)$")
    log_format: str = Field(default="json", pattern=r"^(json|text)$")
    # Rows of projection state the embedded pipeline keeps whole in memory (~1.7 KB each);
    # past it, state is read from its SQLite file through a bounded cache.
    pipeline_state_memory_rows: int = Field(default=DEFAULT_MEMORY_ROWS, ge=0)

    @property
    def postgres_dir(self) -> Path:
        return self.state_dir.resolve() / "postgres"


@lru_cache(maxsize=1)
def get_settings() -> RustokSettings:
    return RustokSettings()
